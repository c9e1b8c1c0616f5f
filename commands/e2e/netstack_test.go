package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The netstack network: box's own user-mode stack, in the monitor, for
// machines where pasta cannot serve (--network netstack picks it where
// pasta could). These tests run with pasta installed or not.

// monitorOf is the pid of the one monitor of container name.
func monitorOf(t *testing.T, u *User, name string) int {
	t.Helper()
	id := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.Id}}", name).Stdout)
	m := monitorsOf(id)
	if len(m) != 1 {
		t.Fatalf("want one monitor for %s, have %v", name, m)
	}
	pid, err := strconv.Atoi(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitGone waits a little for process pid to end.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) outlived its container", what, pid)
		}
	}
}

func TestNetstackPublishHTTP(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		www := wwwDir(t, u, "netstack-"+u.Mode)
		name := "nsweb-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		port := runPublished(t, u, hostPort(t), "%d:80", "-d", "--network", "netstack", "--name", name,
			"-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		// Open as soon as run -d has returned: the monitor listens before
		// the container starts.
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			t.Fatalf("port %d is not open when box run -d returns: %v", port, err)
		}
		c.Close()
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "netstack-"+u.Mode {
			t.Fatalf("container served %q", got)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", name), "netstack")
		wantOut(t, u.MustBox(t, "port", name), fmt.Sprintf("80/tcp -> 0.0.0.0:%d", port))

		links := u.MustBox(t, "exec", name, "ip", "-o", "link").Stdout
		if strings.Count(links, "\n") != 2 || !strings.Contains(links, ": lo:") || !strings.Contains(links, ": eth0") {
			t.Fatalf("want lo and eth0 in the container:\n%s", links)
		}
		addrs := u.MustBox(t, "exec", name, "ip", "-o", "-4", "addr", "show", "eth0").Stdout
		if !strings.Contains(addrs, "inet 10.0.2.100/24") {
			t.Fatalf("eth0 has not the netstack address:\n%s", addrs)
		}

		mon := monitorOf(t, u, name)
		// A connection open when the container stops is ended with it.
		open, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer open.Close()
		fmt.Fprint(open, "GET / HTTP/1.1\r\nHost: x\r\n") // unfinished: httpd waits
		u.MustBox(t, "stop", "-t", "1", name)
		open.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := bufio.NewReader(open).ReadString('\n'); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("a connection through the published port outlived the container")
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Fatalf("port %d still open after stop", port)
		}
		waitGone(t, mon, "the monitor, with its netstack,")
	})
}

func TestNetstackOutbound(t *testing.T) {
	port := hostServer(t, "127.0.0.1:0", "from the host")

	forEachUser(t, func(t *testing.T, u *User) {
		// Foreground: box run is the monitor, and the stack lives in it.
		for _, host := range []string{"host.containers.internal", "gw"} {
			r := u.MustBox(t, "run", "--rm", "--network", "netstack", "--add-host", "gw:host-gateway",
				"busybox", "wget", "-qO-", fmt.Sprintf("http://%s:%d/", host, port))
			wantOut(t, r, "from the host")
		}
		r := u.MustBox(t, "run", "--rm", "--network", "netstack", "busybox", "sh", "-c",
			"grep host.containers.internal /etc/hosts; grep nameserver /etc/resolv.conf")
		wantOut(t, r, "10.0.2.2\thost.containers.internal host.docker.internal\nnameserver 10.0.2.3")
		// A port nobody listens on is refused at once, as on a real network.
		r = u.Box(t, "run", "--rm", "--network", "netstack", "busybox", "wget", "-qO-", "-T", "5",
			fmt.Sprintf("http://host.containers.internal:%d/", hostPort(t)))
		if r.Code == 0 || !strings.Contains(r.Stderr, "refused") {
			t.Fatalf("want connection refused, got %s", r)
		}
	})
}

func TestNetstackUDP(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "nsudp-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		port := hostPort(t)
		// In and back: the container's nc echoes what reaches the published port.
		u.MustBox(t, "run", "-d", "--network", "netstack", "--name", name, "-p", fmt.Sprintf("%d:9000/udp", port),
			"busybox", "nc", "-u", "-l", "-p", "9000", "-e", "cat")
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 100)
		for i := 0; ; i++ {
			if _, err := c.Write([]byte("ping\n")); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := c.Read(buf)
			if err == nil {
				if string(buf[:n]) != "ping\n" {
					t.Fatalf("echo: got %q", buf[:n])
				}
				break
			}
			if i == 50 {
				t.Fatalf("no echo through the published udp port: %v", err)
			}
		}
		// Out: the container reaches a UDP server on the host.
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		hp := pc.LocalAddr().(*net.UDPAddr).Port
		u.MustBox(t, "exec", name, "sh", "-c", fmt.Sprintf("echo pong | nc -u -w 1 host.containers.internal %d", hp))
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "pong\n" {
			t.Fatalf("the host got %q, %v from the container", buf[:n], err)
		}
		u.MustBox(t, "rm", "-f", name)
		if c, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port)); err != nil {
			t.Fatalf("udp port %d still held after rm -f: %v", port, err)
		} else {
			c.Close()
		}
	})
}

func TestNetstackPortConflict(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		portConflict(t, u, "nsconflict-"+u.Mode, "--network", "netstack")
	})
}

// TestNetstackDefault: without pasta, the default network is netstack,
// and box info says so.
func TestNetstackDefault(t *testing.T) {
	// A PATH with everything but pasta.
	bin, err := os.MkdirTemp(tempDir, "nopasta-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(bin, 0o755)
	for _, dir := range filepath.SplitList(strings.TrimPrefix(cleanPath, "PATH=")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pasta") || strings.HasPrefix(e.Name(), "passt") {
				continue
			}
			os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(bin, e.Name())) // the first one wins, as in PATH
		}
	}
	env := RunOpts{Env: []string{"PATH=" + bin}}
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.BoxWith(t, env, "info")
		if !strings.Contains(r.Stdout, "netstack (default") {
			t.Fatalf("box info without pasta does not name netstack the default:\n%s", r.Stdout)
		}
		www := wwwDir(t, u, "default-"+u.Mode)
		name := "nsdefault-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		port := hostPort(t)
		r = u.BoxWith(t, env, "run", "-d", "--name", name, "-p", fmt.Sprintf("%d:80", port), "-v", www+":/www",
			"busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		wantCode(t, r, 0)
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", name), "netstack")
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "default-"+u.Mode {
			t.Fatalf("container served %q", got)
		}
	})
}

// dnsResponder answers A queries for names under zone with ip, and
// every other question about them with no record; it counts queries.
type dnsResponder struct {
	conn    net.PacketConn
	zone    string
	ip      [4]byte
	queries atomic.Int32
}

func startDNS(t *testing.T, addr, zone string, ip net.IP) *dnsResponder {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsResponder{conn: pc, zone: zone}
	copy(d.ip[:], ip.To4())
	t.Cleanup(func() { pc.Close() })
	go d.serve()
	return d
}

func (d *dnsResponder) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		d.queries.Add(1)
		resp := dnsmessage.Message{
			Header:    dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true},
			Questions: []dnsmessage.Question{q},
		}
		switch {
		case !strings.HasSuffix(q.Name.String(), d.zone):
			resp.Header.RCode = dnsmessage.RCodeNameError
		case q.Type == dnsmessage.TypeA:
			resp.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
				Body:   &dnsmessage.AResource{A: d.ip},
			}}
		}
		if out, err := resp.Pack(); err == nil {
			d.conn.WriteTo(out, from)
		}
	}
}

// boxWithResolvConf runs box as u in a mount namespace of its own where
// /etc/resolv.conf is resolv: the host's nameservers are the test's.
// It needs the suite to run as root (as forEachUser does).
func boxWithResolvConf(t *testing.T, u *User, resolv string, args ...string) Result {
	t.Helper()
	bc := u.BoxCmd(args...)
	script := `f=$1 uid=$2 gid=$3; shift 3; mount --bind "$f" /etc/resolv.conf && exec setpriv --reuid="$uid" --regid="$gid" --init-groups "$@"`
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
		resolv, strconv.Itoa(int(u.UID)), strconv.Itoa(int(u.GID))}, bc.Args...)...)
	cmd.Args[len(cmd.Args)-len(bc.Args)] = bc.Path
	cmd.Env, cmd.Dir = bc.Env, bc.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(boxTimeout, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
	t.Logf("%s$ box %s (resolv.conf %s) => exit %d", u.Mode, quoteArgs(args), resolv, r.Code)
	if err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Fatalf("box %s: %v", quoteArgs(args), err)
	}
	return r
}

// hostAddress is one of the host's own non-loopback IPv4 addresses.
func hostAddress(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4()
		}
	}
	t.Fatal("the host has no non-loopback IPv4 address")
	return nil
}

// TestNetstackDNS: the container's nameserver is the stack's, which
// asks the host's nameservers, here a responder the test runs (on a
// loopback address only the host reaches); the name it gives is then
// reached through the stack at an address that is not the gateway.
func TestNetstackDNS(t *testing.T) {
	requireRoot(t)
	// Port 53 on a loopback address of its own, so as not to meet
	// another resolver.
	nsAddr := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250), 1+rand.IntN(250))
	ip := hostAddress(t)
	dns := startDNS(t, nsAddr+":53", "box-test.example.", ip)
	resolv := filepath.Join(tempDir, "resolv-"+strings.ReplaceAll(nsAddr, ".", "-")+".conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+nsAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "found by name")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	forEachUser(t, func(t *testing.T, u *User) {
		before := dns.queries.Load()
		r := boxWithResolvConf(t, u, resolv, "run", "--rm", "--network", "netstack", "busybox", "sh", "-c",
			"cat /etc/resolv.conf; nslookup web.box-test.example")
		if r.Code != 0 {
			t.Fatalf("nslookup in the container: %s", r)
		}
		if !strings.Contains(r.Stdout, "nameserver 10.0.2.3") || strings.Contains(r.Stdout, nsAddr) {
			t.Fatalf("the container's nameserver is not the stack's:\n%s", r.Stdout)
		}
		if !strings.Contains(r.Stdout, "Address: "+ip.String()) {
			t.Fatalf("nslookup did not get the test's answer %s:\n%s", ip, r.Stdout)
		}
		if dns.queries.Load() == before {
			t.Fatal("the test's nameserver saw no query")
		}
		r = boxWithResolvConf(t, u, resolv, "run", "--rm", "--network", "netstack", "busybox",
			"wget", "-qO-", fmt.Sprintf("http://web.box-test.example:%d/", port))
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "found by name" {
			t.Fatalf("wget by name: %s", r)
		}
	})
}
