package network

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsThread runs functions on a thread in a network namespace of its
// own, as a container's would be. The thread stays locked: it ends
// with its goroutine.
type netnsThread struct {
	fns chan func()
	ns  *os.File
}

func newNetnsThread(t *testing.T) *netnsThread {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" && os.Getenv("CI") != "false" {
			t.Fatal("a network namespace needs root (or box's user namespace)")
		}
		t.Skip("a network namespace needs root: run as root, or in `box unshare`")
	}
	th := &netnsThread{fns: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		var err error
		th.ns, err = os.Open("/proc/thread-self/ns/net")
		ready <- err
		for f := range th.fns {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(th.fns)
		th.ns.Close()
	})
	return th
}

func (th *netnsThread) do(f func()) {
	done := make(chan struct{})
	th.fns <- func() { f(); close(done) }
	<-done
}

func freePort(t *testing.T, proto string) int {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serveTCP answers each connection with prefix and all it read, once
// the peer has finished sending: a reply that needs the half-close.
func serveTCP(t *testing.T, l net.Listener, prefix string) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				c.Write(append([]byte(prefix), b...))
			}()
		}
	}()
}

func serveUDP(t *testing.T, c net.PacketConn, prefix string) {
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(append([]byte(prefix), buf[:n]...), from)
		}
	}()
}

// roundTrip sends msg on c, ends sending, and returns all it gets back.
func roundTrip(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	return string(b)
}

func udpRoundTrip(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	buf := make([]byte, 2048)
	for i := 0; i < 20; i++ {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			return string(buf[:n])
		}
	}
	t.Fatalf("no answer to %q over udp", msg)
	return ""
}

// TestNetstack drives the stack as a container would, from a network
// namespace, both ways, then stops it: its ports close, its connections
// end, its goroutines go.
func TestNetstack(t *testing.T) {
	th := newNetnsThread(t)

	hostTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveTCP(t, hostTCP, "host:")
	hostUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, hostUDP, "host:")

	tport, uport := freePort(t, "tcp"), freePort(t, "udp")
	before := runtime.NumGoroutine()
	n, err := StartNetstack(Config{NetNS: th.ns, Ports: []Port{
		{HostIP: "127.0.0.1", HostPort: tport, ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: uport, ContainerPort: 9000, Proto: "udp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()

	// The container's servers, on its own address.
	var ctrTCP net.Listener
	var ctrUDP net.PacketConn
	th.do(func() {
		if ctrTCP, err = net.Listen("tcp", ":80"); err != nil {
			return
		}
		ctrUDP, err = net.ListenPacket("udp", ":9000")
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTCP(t, ctrTCP, "ctr:")
	serveUDP(t, ctrUDP, "ctr:")

	// In, through the published ports.
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tport))
	if err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, c, "hello"); got != "ctr:hello" {
		t.Fatalf("published tcp port: got %q", got)
	}
	c.Close()
	u, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(uport))
	if err != nil {
		t.Fatal(err)
	}
	if got := udpRoundTrip(t, u, "ping"); got != "ctr:ping" {
		t.Fatalf("published udp port: got %q", got)
	}
	u.Close()

	// Out, to the host's loopback through the gateway.
	var out net.Conn
	var uout net.Conn
	th.do(func() {
		if out, err = net.Dial("tcp", net.JoinHostPort(NetstackGateway, strconv.Itoa(hostTCP.Addr().(*net.TCPAddr).Port))); err != nil {
			return
		}
		uout, err = net.Dial("udp", net.JoinHostPort(NetstackGateway, strconv.Itoa(hostUDP.LocalAddr().(*net.UDPAddr).Port)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, out, "x"); got != "host:x" {
		t.Fatalf("outbound tcp: got %q", got)
	}
	out.Close()
	if got := udpRoundTrip(t, uout, "y"); got != "host:y" {
		t.Fatalf("outbound udp: got %q", got)
	}
	uout.Close()
	// A port nobody listens on is refused, not left hanging.
	th.do(func() {
		_, err = net.DialTimeout("tcp", net.JoinHostPort(NetstackGateway, strconv.Itoa(freePort(t, "tcp"))), 5*time.Second)
	})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("outbound to a closed port: want refused, got %v", err)
	}

	// A connection open when the stack stops is ended.
	open, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tport))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	fmt.Fprintln(open, "still here")
	time.Sleep(100 * time.Millisecond)
	n.Stop()
	open.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(open).ReadString('\n'); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a connection through the published port outlived Stop")
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tport)); err == nil {
		c.Close()
		t.Fatal("the published tcp port is open after Stop")
	}
	if c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(uport)); err != nil {
		t.Fatalf("the published udp port is held after Stop: %v", err)
	} else {
		c.Close()
	}
	ctrTCP.Close()
	ctrUDP.Close()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Stop, %d before Start:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

// TestNetstackPortInUse: a published port the host refuses fails the
// start, and the ports bound before it are released.
func TestNetstackPortInUse(t *testing.T) {
	th := newNetnsThread(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free := freePort(t, "tcp")
	_, err = StartNetstack(Config{NetNS: th.ns, Ports: []Port{
		{HostIP: "127.0.0.1", HostPort: free, ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: taken.Addr().(*net.TCPAddr).Port, ContainerPort: 81, Proto: "tcp"},
	}})
	var pe *PortError
	if !errors.As(err, &pe) || !errors.Is(err, syscall.EADDRINUSE) || pe.Port.ContainerPort != 81 {
		t.Fatalf("want a PortError for port 81 in use, got %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(free))
	if err != nil {
		t.Fatalf("the port bound before the failure is still held: %v", err)
	}
	l.Close()
}
