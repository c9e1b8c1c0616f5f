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

// serveUDP answers each datagram with prefix and the datagram, and
// passes on what it got (when the channel has room).
func serveUDP(t *testing.T, c net.PacketConn, prefix string) <-chan string {
	t.Cleanup(func() { c.Close() })
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case got <- string(buf[:n]):
			default:
			}
			c.WriteTo(append([]byte(prefix), buf[:n]...), from)
		}
	}()
	return got
}

// serveLine answers each connection's first line with prefix and the
// line, and ends the connection.
func serveLine(t *testing.T, l net.Listener, prefix string) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, prefix+line)
			}()
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
	if err != nil {
		// A deadline too: the end of sending was not passed on.
		t.Fatalf("after %q: %v", b, err)
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

// The conformance suite: what every Driver does, run against each one.
// Each case attaches a fresh network namespace, made by the test (as
// root; in CI a test that cannot make one fails), the way the monitor
// attaches a container's.

// TestDriverConformance runs each case against each driver.
func TestDriverConformance(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, Driver)
	}{
		{"Outbound", testOutbound},
		{"Published", testPublished},
		{"StopReleases", testStopReleases},
		{"PortInUse", testPortInUse},
	}
	for _, d := range drivers {
		t.Run(d.Name(), func(t *testing.T) {
			requireUsable(t, d)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, d) })
			}
		})
	}
}

// TestLookup: the drivers are found by their --network names, and
// nothing else is one.
func TestLookup(t *testing.T) {
	for _, name := range []string{"pasta", "netstack"} {
		if d, ok := Lookup(name); !ok || d.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, d, ok)
		}
	}
	for _, name := range []string{"", "host", "none", "bridge", "default", "container:x", "mynet"} {
		if d, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %v, want none", name, d.Name())
		}
	}
	if d := Default(); d.Usable() != nil {
		t.Errorf("the default driver %s is not usable: %v", d.Name(), d.Usable())
	}
}

// requireUsable skips a driver this machine cannot run (pasta missing),
// or fails in CI, where the suite's packages are installed.
func requireUsable(t *testing.T, d Driver) {
	t.Helper()
	if err := d.Usable(); err != nil {
		if inCI() {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		t.Skipf("%s: %v", d.Name(), err)
	}
}

func inCI() bool { return os.Getenv("CI") != "" && os.Getenv("CI") != "false" }

// attach attaches ns with ports and waits until it is ready; the test
// stops it when it ends.
func attach(t *testing.T, d Driver, ns *os.File, ports ...Port) Attachment {
	t.Helper()
	a, err := d.Attach(Config{NetNS: ns, Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	if err := a.Ready(); err != nil {
		t.Fatal(err)
	}
	return a
}

// testOutbound: the container reaches a server on the host's loopback
// through the driver's gateway, over TCP (the server's end of the
// connection passed on) and UDP.
//
// The container does not end its sending first here: the pasta of
// Debian 12 (passt 0.0~git20230309) then repeats the host's answer and
// never passes on the host's end; netstack's test covers it.
func testOutbound(t *testing.T, d Driver) {
	th := newNetnsThread(t)
	hostTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveLine(t, hostTCP, "host:")
	hostUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, hostUDP, "host:")
	attach(t, d, th.ns)

	gw := d.Gateway()
	if gw == "" {
		t.Fatal("no gateway to the host")
	}
	var out, uout net.Conn
	th.do(func() {
		if out, err = net.Dial("tcp", net.JoinHostPort(gw, strconv.Itoa(hostTCP.Addr().(*net.TCPAddr).Port))); err != nil {
			return
		}
		uout, err = net.Dial("udp", net.JoinHostPort(gw, strconv.Itoa(hostUDP.LocalAddr().(*net.UDPAddr).Port)))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	defer uout.Close()
	out.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(out, "x")
	if got, err := io.ReadAll(out); err != nil || string(got) != "host:x\n" {
		t.Fatalf("outbound tcp: got %q, %v", got, err)
	}
	if got := udpRoundTrip(t, uout, "y"); got != "host:y" {
		t.Fatalf("outbound udp: got %q", got)
	}
}

// testPublished: a published TCP port and a published UDP port on the
// host reach the container's servers, and their answers come back.
//
// UDP's answers are asked for at the host's own address: to one
// through the host's loopback, the pasta of Debian 12 (passt
// 0.0~git20230309) delivers the datagram but loses the answer.
func testPublished(t *testing.T, d Driver) {
	th := newNetnsThread(t)
	tport, uport := freePort(t, "tcp"), freePort(t, "udp")
	attach(t, d, th.ns,
		Port{HostPort: tport, ContainerPort: 80, Proto: "tcp"},
		Port{HostPort: uport, ContainerPort: 9000, Proto: "udp"})
	ctrTCP, ctrUDP := containerServers(t, th, 80, 9000)
	serveTCP(t, ctrTCP, "ctr:")
	got := serveUDP(t, ctrUDP, "ctr:")

	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tport))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := roundTrip(t, c, "hello"); got != "ctr:hello" {
		t.Fatalf("published tcp port: got %q", got)
	}
	lo, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(uport))
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		lo.Write([]byte("in"))
		select {
		case <-got:
		case <-time.After(250 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("published udp port: no datagram through the host's loopback")
			}
			continue
		}
		break
	}
	u, err := net.Dial("udp", net.JoinHostPort(hostAddr(t), strconv.Itoa(uport)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if got := udpRoundTrip(t, u, "ping"); got != "ctr:ping" {
		t.Fatalf("published udp port: got %q", got)
	}
}

// hostAddr is an IPv4 address of the host's own other than loopback.
func hostAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatal("the host has no IPv4 address but loopback")
	return ""
}

// testStopReleases: Stop ends a connection open through a published
// port, releases the host ports, and leaves no goroutine behind.
func testStopReleases(t *testing.T, d Driver) {
	th := newNetnsThread(t)
	tport, uport := freePort(t, "tcp"), freePort(t, "udp")
	before := runtime.NumGoroutine()
	a, err := d.Attach(Config{NetNS: th.ns, Ports: []Port{
		{HostIP: "127.0.0.1", HostPort: tport, ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: uport, ContainerPort: 9000, Proto: "udp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if err := a.Ready(); err != nil {
		t.Fatal(err)
	}
	ctrTCP, ctrUDP := containerServers(t, th, 80, 9000)
	serveLines(t, ctrTCP)

	// A connection that has carried a line both ways: it is open end to end.
	open, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tport))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	open.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(open)
	fmt.Fprintln(open, "still here")
	if l, err := r.ReadString('\n'); err != nil || l != "still here\n" {
		t.Fatalf("through the published port: %q, %v", l, err)
	}

	a.Stop()
	open.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a connection through the published port outlived Stop")
	}
	if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(tport)); err != nil {
		t.Fatalf("the published tcp port is held after Stop: %v", err)
	} else {
		l.Close()
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
			t.Fatalf("%d goroutines after Stop, %d before Attach:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

// testPortInUse: a published host port another process holds fails the
// attachment (from Attach or Ready) with a *PortError for that port,
// EADDRINUSE, and the ports bound before it are released.
func testPortInUse(t *testing.T, d Driver) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			th := newNetnsThread(t)
			var taken int
			if proto == "udp" {
				c, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				taken = c.LocalAddr().(*net.UDPAddr).Port
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				taken = l.Addr().(*net.TCPAddr).Port
			}
			free := freePort(t, "tcp")
			a, err := d.Attach(Config{NetNS: th.ns, Ports: []Port{
				{HostIP: "127.0.0.1", HostPort: free, ContainerPort: 80, Proto: "tcp"},
				{HostIP: "127.0.0.1", HostPort: taken, ContainerPort: 81, Proto: proto},
			}})
			if err == nil {
				defer a.Stop()
				err = a.Ready()
			}
			var pe *PortError
			if !errors.As(err, &pe) || !errors.Is(err, syscall.EADDRINUSE) || pe.Port.ContainerPort != 81 || pe.Port.Proto != proto {
				t.Fatalf("want a PortError for %s port 81 in use, got %v", proto, err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(free))
			if err != nil {
				t.Fatalf("the port bound before the failure is still held: %v", err)
			}
			l.Close()
		})
	}
}

// containerServers listens on the TCP and UDP ports in th's namespace,
// on all its addresses, as a container's servers do.
func containerServers(t *testing.T, th *netnsThread, tcpPort, udpPort int) (net.Listener, net.PacketConn) {
	t.Helper()
	var l net.Listener
	var pc net.PacketConn
	var err error
	th.do(func() {
		if l, err = net.Listen("tcp", ":"+strconv.Itoa(tcpPort)); err != nil {
			return
		}
		pc, err = net.ListenPacket("udp", ":"+strconv.Itoa(udpPort))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); pc.Close() })
	return l, pc
}

// serveLines echoes each line of each connection until the peer ends it.
func serveLines(t *testing.T, l net.Listener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

// TestNetstackOutbound: a connection the container opens passes on its
// end of sending as the host's, both ways; and one to a host port
// nobody listens on is refused, not left hanging. The pasta of Debian
// 12 (passt 0.0~git20230309) does neither: see testOutbound.
func TestNetstackOutbound(t *testing.T) {
	d, _ := Lookup("netstack")
	th := newNetnsThread(t)
	hostTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveTCP(t, hostTCP, "host:")
	attach(t, d, th.ns)
	var out net.Conn
	th.do(func() {
		out, err = net.Dial("tcp", net.JoinHostPort(d.Gateway(), strconv.Itoa(hostTCP.Addr().(*net.TCPAddr).Port)))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got := roundTrip(t, out, "x"); got != "host:x" {
		t.Fatalf("outbound tcp: got %q", got)
	}
	closed := freePort(t, "tcp")
	th.do(func() {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", net.JoinHostPort(d.Gateway(), strconv.Itoa(closed)), 5*time.Second); err == nil {
			c.Close()
		}
	})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("outbound to a closed port: want refused, got %v", err)
	}
}
