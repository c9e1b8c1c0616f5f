package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requirePasta fails in CI and skips, saying so, elsewhere when pasta is
// not installed: the private network needs it.
func requirePasta(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pasta"); err != nil {
		if inCI {
			t.Fatal("pasta is not installed (Debian package passt): the private network cannot be tested")
		}
		t.Skip("pasta is not installed (Debian package passt)")
	}
}

// hostPort is a TCP port nobody listens on just now, on any address.
func hostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// wwwDir is a directory with an index.html saying body, readable by all.
func wwwDir(t *testing.T, u *User, body string) string {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "www-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fetch gets url from the host, retrying while the server in the
// container is still starting (the port itself is open already).
func fetch(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == 200 {
			return string(b)
		}
		last = fmt.Errorf("status %s, %v", resp.Status, err)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// netHolders are the pids of the processes that hold the network
// namespace of container name's init: its own and its pasta.
func netHolders(t *testing.T, u *User, name string) (ctr string, pastas []int) {
	t.Helper()
	pid := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.State.Pid}}", name).Stdout)
	ns, err := os.Readlink("/proc/" + pid + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if !strings.HasPrefix(string(comm), "pasta") && !strings.HasPrefix(string(comm), "passt") {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", e.Name(), "fd"))
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc", e.Name(), "fd", fd.Name())); l == ns {
				pastas = append(pastas, p)
				break
			}
		}
	}
	return ns, pastas
}

// runPublished runs box run -p spec (spec has %d for the host port)
// args, with another free port when something else on this machine took
// port between its choice and the run. It returns the port used.
func runPublished(t *testing.T, u *User, port int, spec string, args ...string) int {
	t.Helper()
	for i := 0; ; i++ {
		r := u.Box(t, append([]string{"run", "-p", fmt.Sprintf(spec, port)}, args...)...)
		if r.Code == 0 {
			return port
		}
		if i == 3 || !strings.Contains(r.Stderr, "already in use") {
			t.Fatalf("box run: %s", r)
		}
		port = hostPort(t)
	}
}

// hostServer serves body over HTTP on the host, listening on addr (port
// 0), until the test ends; it returns the port.
func hostServer(t *testing.T, addr, body string) int {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func TestNetPublishHTTP(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		www1, www2 := wwwDir(t, u, "one-"+u.Mode), wwwDir(t, u, "two-"+u.Mode)
		p1, p2 := hostPort(t), hostPort(t)
		n1, n2 := "web1-"+u.Mode, "web2-"+u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", n1, n2) })
		p1 = runPublished(t, u, p1, "%d:80", "-d", "--network", "pasta", "--name", n1, "-v", www1+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		p2 = runPublished(t, u, p2, "127.0.0.1:%d:80/tcp", "-d", "--network", "pasta", "--name", n2, "-v", www2+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", p1)); got != "one-"+u.Mode {
			t.Fatalf("container 1 served %q", got)
		}
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", p2)); got != "two-"+u.Mode {
			t.Fatalf("container 2 served %q", got)
		}

		ps := u.MustBox(t, "ps", "--format", "{{.Names}} {{.Ports}}").Stdout
		for _, want := range []string{
			fmt.Sprintf("%s 0.0.0.0:%d->80/tcp\n", n1, p1),
			fmt.Sprintf("%s 127.0.0.1:%d->80/tcp\n", n2, p2),
		} {
			if !strings.Contains(ps, want) {
				t.Fatalf("want %q in ps:\n%s", want, ps)
			}
		}
		wantOut(t, u.MustBox(t, "port", n1), fmt.Sprintf("80/tcp -> 0.0.0.0:%d", p1))
		wantOut(t, u.MustBox(t, "port", n2, "80"), fmt.Sprintf("127.0.0.1:%d", p2))
		r := u.Box(t, "port", n1, "81")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No public port '81/tcp' published for "+n1)
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}", n1),
			fmt.Sprintf(`{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"%d"}]} {"80/tcp":[{"HostIp":"","HostPort":"%d"}]}`, p1, p1))
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", n1), "pasta")

		// The container's own network: loopback and pasta's interface.
		links := u.MustBox(t, "exec", n1, "ip", "-o", "link").Stdout
		if strings.Count(links, "\n") != 2 || !strings.Contains(links, ": lo:") {
			t.Fatalf("want lo and one interface in the container:\n%s", links)
		}

		_, pastas := netHolders(t, u, n1)
		if len(pastas) != 1 {
			t.Fatalf("want one pasta serving %s, found %v", n1, pastas)
		}
		u.MustBox(t, "stop", "-t", "1", n1)
		if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p1), time.Second); err == nil {
			t.Fatalf("port %d still open after stop", p1)
		}
		for _, p := range pastas {
			if alive(p) {
				t.Fatalf("pasta %d outlived container %s", p, n1)
			}
		}
		if got := u.MustBox(t, "port", n1).Stdout; got != "" {
			t.Fatalf("a stopped container publishes nothing, box port says %q", got)
		}
		// The other container is untouched.
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", p2)); got != "two-"+u.Mode {
			t.Fatalf("container 2 served %q", got)
		}
	})
}

func TestNetRandomPortAndForeground(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		www := wwwDir(t, u, "random-"+u.Mode)
		name := "random-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		u.MustBox(t, "run", "-d", "--network", "pasta", "--name", name, "-p", "80", "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		hostAddr := strings.TrimSpace(u.MustBox(t, "port", name, "80/tcp").Stdout)
		_, port, err := net.SplitHostPort(hostAddr)
		if err != nil || port == "0" {
			t.Fatalf("box port: %q", hostAddr)
		}
		if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "random-"+u.Mode {
			t.Fatalf("served %q", got)
		}
		_, pastas := netHolders(t, u, name)
		u.MustBox(t, "rm", "-f", name)
		for _, p := range pastas {
			if alive(p) {
				t.Fatalf("pasta %d outlived rm -f", p)
			}
		}

		// A foreground run is its own monitor, and serves the port as well.
		p := hostPort(t)
		done := make(chan Result, 1)
		go func() {
			done <- u.Box(t, "run", "--rm", "-p", fmt.Sprintf("%d:80", p), "-v", www+":/www", "busybox", "sh", "-c", "httpd -p 80 -h /www && sleep 3")
		}()
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", p)); got != "random-"+u.Mode {
			t.Fatalf("foreground container served %q", got)
		}
		<-done
		if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second); err == nil {
			t.Fatalf("port %d still open after the foreground run", p)
		}
	})
}

func TestNetUDP(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		name := "udp-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		port := hostPort(t)
		// In: a datagram to the published port reaches the container's nc.
		u.MustBox(t, "run", "-d", "--name", name, "-p", fmt.Sprintf("%d:9000/udp", port),
			"busybox", "sh", "-c", "nc -u -l -p 9000 > /tmp/got")
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; ; i++ {
			if _, err := c.Write([]byte("ping\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if got := u.MustBox(t, "exec", name, "cat", "/tmp/got").Stdout; strings.HasPrefix(got, "ping\n") {
				break
			}
			if i == 50 {
				t.Fatal("the container's nc got no datagram")
			}
		}
		// Out: the container answers a UDP server on the host.
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		hp := pc.LocalAddr().(*net.UDPAddr).Port
		u.MustBox(t, "exec", name, "sh", "-c", fmt.Sprintf("echo pong | nc -u -w 1 host.containers.internal %d", hp))
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, _, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "pong\n" {
			t.Fatalf("the host got %q, %v from the container", buf[:n], err)
		}
	})
}

func TestNetOutboundToHost(t *testing.T) {
	requirePasta(t)
	port := hostServer(t, "127.0.0.1:0", "from the host")

	forEachUser(t, func(t *testing.T, u *User) {
		for _, host := range []string{"host.containers.internal", "host.docker.internal", "gw"} {
			r := u.MustBox(t, "run", "--rm", "--add-host", "gw:host-gateway", "busybox",
				"wget", "-qO-", fmt.Sprintf("http://%s:%d/", host, port))
			wantOut(t, r, "from the host")
		}
		// The name is the gateway, not loopback, which is the container's own.
		hosts := u.MustBox(t, "run", "--rm", "busybox", "cat", "/etc/hosts").Stdout
		if strings.Contains(hosts, "127.0.0.1\thost.containers.internal") {
			t.Fatalf("host.containers.internal is the container's loopback:\n%s", hosts)
		}
	})
}

func TestNetNone(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
		if strings.Count(r.Stdout, "\n") != 1 || !strings.Contains(r.Stdout, ": lo:") {
			t.Fatalf("--network none: want lo alone:\n%s", r.Stdout)
		}
		r = u.Box(t, "run", "--rm", "--network", "nosuch", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, `network "nosuch" not found`)
	})
}

func TestPortConflict(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		portConflict(t, u, "conflict-"+u.Mode)
		if u.Mode != "root" {
			r := u.Box(t, "run", "--rm", "-p", "80:80", "busybox", "true")
			wantCode(t, r, 125)
			wantOneLineError(t, r, "sysctl net.ipv4.ip_unprivileged_port_start")
		}
	})
}

// portConflict: a run publishing a host port already in use fails with
// exit 125 and leaves no container, its name free again. args choose
// the network.
func portConflict(t *testing.T, u *User, name string, args ...string) {
	t.Helper()
	u.MustBox(t, "pull", "-q", "busybox") // its progress is not the error looked for
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	before := u.MustBox(t, "ps", "-aq").Stdout
	run := append([]string{"run", "-d", "--name", name, "-p", fmt.Sprintf("%d:80", port)}, args...)
	r := u.Box(t, append(run, "busybox", "sleep", "100")...)
	wantCode(t, r, 125)
	wantOneLineError(t, r, fmt.Sprintf("host port %d is already in use", port))
	if after := u.MustBox(t, "ps", "-aq").Stdout; after != before {
		t.Fatalf("a failed run left a container behind:\nbefore %q\nafter %q", before, after)
	}
	// The name is free again.
	u.MustBox(t, append(append([]string{"run", "--rm", "--name", name}, args...), "busybox", "true")...)
}

func TestPortMalformed(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		seen := map[string]bool{}
		for _, c := range []struct{ spec, want string }{
			{"abc", `container port "abc" is not a port number`},
			{"8080:abc", `container port "abc" is not a port number`},
			{"x:80", `host port "x" is not a port number`},
			{"70000:80", `host port "70000" is not a port number`},
			{"1.2.3:8080:80", `host IP "1.2.3" is not an IP address`},
			{"1:2:3:4", "too many colons"},
			{"80/sctp", `protocol "sctp"`},
			{"8080-8082:80-81", "differ in size"},
			{"90-80:90-80", "ends before it starts"},
			{"8080:", "no container port"},
			{"[::1:8080:80", "unclosed ["},
		} {
			r := u.Box(t, "run", "--rm", "-p", c.spec, "busybox", "true")
			wantCode(t, r, 125)
			wantOneLineError(t, r, fmt.Sprintf("invalid publish spec %q", c.spec), c.want)
			if seen[r.Stderr] {
				t.Fatalf("%q: the same message as another spec: %s", c.spec, r.Stderr)
			}
			seen[r.Stderr] = true
		}
	})
}
