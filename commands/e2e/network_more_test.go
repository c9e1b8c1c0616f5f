package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNetContainerShare(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		www := wwwDir(t, u, "shared-"+u.Mode)
		owner, joined, created := "owner-"+u.Mode, "joined-"+u.Mode, "created-"+u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", joined, created, owner) })
		port := runPublished(t, u, hostPort(t), "%d:80", "-d", "--name", owner, "-v", www+":/www",
			"busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		ownerID := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.Id}}", owner).Stdout)
		ownerHost := strings.TrimSpace(u.MustBox(t, "exec", owner, "hostname").Stdout)

		// The owner's server is on the joined container's own loopback.
		wantOut(t, u.MustBox(t, "run", "--rm", "--network", "container:"+owner, "busybox",
			"wget", "-qO-", "http://127.0.0.1:80/"), "shared-"+u.Mode)
		// The same namespace, hostname and /etc/hosts, as Docker gives.
		ownerNS := strings.TrimSpace(u.MustBox(t, "exec", owner, "readlink", "/proc/1/ns/net").Stdout)
		wantOut(t, u.MustBox(t, "run", "--rm", "--network", "container:"+ownerID[:12], "busybox",
			"readlink", "/proc/self/ns/net"), ownerNS)
		wantOut(t, u.MustBox(t, "run", "--rm", "--net=container:"+owner, "busybox", "hostname"), ownerHost)
		if hosts := u.MustBox(t, "run", "--rm", "--network", "container:"+owner, "busybox", "cat", "/etc/hosts").Stdout; !strings.Contains(hosts, ownerHost) {
			t.Fatalf("the joined container's /etc/hosts lacks the owner's name %s:\n%s", ownerHost, hosts)
		}

		// Detached: a server in the joined container answers on the
		// owner's published port's namespace, reachable from the owner.
		u.MustBox(t, "run", "-d", "--name", joined, "--network", "container:"+owner, "-v", www+":/www",
			"busybox", "httpd", "-f", "-p", "8081", "-h", "/www")
		var got string
		for i := 0; i < 50; i++ {
			r := u.Box(t, "exec", owner, "wget", "-qO-", "http://127.0.0.1:8081/")
			if got = strings.TrimSpace(r.Stdout); r.Code == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got != "shared-"+u.Mode {
			t.Fatalf("the owner got %q from the joined container's server", got)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", joined), "container:"+ownerID)
		wantOut(t, u.MustBox(t, "ps", "--filter", "name="+joined, "--format", "{{.Names}}|{{.Ports}}|"), joined+"||")
		wantOut(t, u.MustBox(t, "exec", joined, "hostname"), ownerHost)
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "shared-"+u.Mode {
			t.Fatalf("the owner's published port served %q", got)
		}

		// create, then start, attached and not: exit codes pass through.
		u.MustBox(t, "create", "--name", created, "--network", "container:"+owner, "busybox",
			"sh", "-c", "wget -qO- http://127.0.0.1/ && exit 3")
		r := u.Box(t, "start", "-a", created)
		wantCode(t, r, 3)
		wantOut(t, r, "shared-"+u.Mode)
		wantOut(t, u.MustBox(t, "start", created), created)
		wantOut(t, u.MustBox(t, "wait", created), "3")
		wantOut(t, u.MustBox(t, "logs", "--tail", "1", created), "shared-"+u.Mode)

		// Bad input.
		r = u.Box(t, "run", "--rm", "--network", "container:"+owner, "-p", "8082:80", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "conflicting options: port publishing and the container type network mode")
		r = u.Box(t, "run", "--rm", "--network", "container:"+owner, "--hostname", "x", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "conflicting options: hostname and the network mode")
		r = u.Box(t, "run", "--rm", "--network", "container:no-such-ctr", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "No such container: no-such-ctr")

		// The owner stops while a foreground run in its network goes on:
		// that run still ends with its own output and code.
		u.MustBox(t, "rm", "-f", joined)
		// It says it started, in a directory shared with the host, and ends only once
		// told to, after the owner has stopped.
		syncDir, err := os.MkdirTemp(tempDir, "sync-"+u.Mode+"-")
		if err != nil {
			t.Fatal(err)
		}
		pullMkdirFor(t, u, syncDir)
		done := make(chan Result, 1)
		go func() {
			done <- u.Box(t, "run", "--rm", "--network", "container:"+owner, "-v", syncDir+":/sync", "busybox", "sh", "-c",
				"touch /sync/started; while [ ! -f /sync/go ]; do sleep 0.05; done; echo done; exit 5")
		}()
		waitFor(t, "the run in the owner's network to start", 30*time.Second, func() (bool, string) {
			if _, err := os.Stat(filepath.Join(syncDir, "started")); err == nil {
				return true, ""
			}
			select {
			case r := <-done:
				t.Fatalf("the run in the owner's network ended before the owner stopped: %s", r)
			default:
			}
			return false, "no /sync/started yet"
		})
		// The owner's process ends while the run goes on; only then is the run told to
		// finish. (Rootless, the owner's monitor hosts the run and outlives it, so stop
		// returns once the run has ended: the stop goes on meanwhile.)
		ownerPid, err := strconv.Atoi(strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.State.Pid}}", owner).Stdout))
		if err != nil || ownerPid <= 0 {
			t.Fatalf("the owner's pid: %v", err)
		}
		stopped := make(chan Result, 1)
		go func() { stopped <- u.Box(t, "stop", "-t", "1", owner) }()
		waitFor(t, "the owner's process to end", 30*time.Second, func() (bool, string) {
			return !alive(ownerPid), fmt.Sprintf("pid %d runs", ownerPid)
		})
		select {
		case r := <-done:
			t.Fatalf("the run in the owner's network ended with it: %s", r)
		default:
		}
		if err := os.WriteFile(filepath.Join(syncDir, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := <-stopped; r.Code != 0 {
			t.Fatalf("stop of the owner: %s", r)
		}
		r = <-done
		wantCode(t, r, 5)
		wantOut(t, r, "done")

		// A stopped owner has no network to join.
		r = u.Box(t, "run", "--rm", "--network", "container:"+owner, "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "cannot join network of a non running container: "+ownerID)
		r = u.Box(t, "start", created)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "cannot join network of a non running container: "+ownerID)
	})
}

// TestNetManyConnections hammers a published port with 200 concurrent
// connections: every one is served, and nothing is left once the
// container stops.
func TestNetManyConnections(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		for _, mode := range []string{"pasta", "netstack"} {
			t.Run(mode, func(t *testing.T) { hammer(t, u, mode) })
		}
	})
}

// fileServer is a static HTTP server of /www on port 80, built once for
// the containers: busybox httpd accepts with a backlog of 9, so 200
// connections at once would wait out TCP's SYN retries in its queue,
// which tests httpd, not the published port.
func fileServer(t *testing.T) string {
	t.Helper()
	fileServerOnce.Do(func() {
		dir, err := os.MkdirTemp(tempDir, "srv-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import "net/http"

func main() { panic(http.ListenAndServe(":80", http.FileServer(http.Dir("/www")))) }
`), 0o644)
		}
		if err != nil {
			fileServerErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "srv"), filepath.Join(dir, "main.go"))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			fileServerErr = fmt.Errorf("go build of the test's file server: %v: %s", err, out)
			return
		}
		fileServerPath = filepath.Join(dir, "srv")
	})
	if fileServerErr != nil {
		t.Fatal(fileServerErr)
	}
	return fileServerPath
}

var (
	fileServerOnce sync.Once
	fileServerPath string
	fileServerErr  error
)

func hammer(t *testing.T, u *User, mode string) {
	name := "hammered-" + u.Mode + "-" + mode
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	www := wwwDir(t, u, strings.Repeat("x", 64<<10))
	srv := fileServer(t)
	port := runPublished(t, u, hostPort(t), "%d:80", "-d", "--name", name, "--network", mode, "-v", www+":/www",
		"-v", srv+":/srv:ro", "busybox", "/srv")
	fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	var pastas []int
	if mode == "pasta" {
		_, pastas = netHolders(t, u, name)
	}
	monitor := monitorOf(t, u, name)

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && len(b) != 64<<10 {
				err = fmt.Errorf("got %d bytes", len(b))
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if first == nil {
			first = err
		}
		failed++
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent requests failed, the first: %v", failed, n, first)
	}
	u.MustBox(t, "stop", "-t", "1", name)
	for _, p := range pastas {
		if alive(p) {
			t.Fatalf("pasta %d outlived the container", p)
		}
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Fatalf("port %d open after stop", port)
	}
	// The monitor, which served the netstack, ends with the container.
	waitGone(t, monitor, "the monitor of "+name)
}

// TestNetExitWithOpenConnection: a container that ends while a client
// is connected closes that connection and its port.
func TestNetExitWithOpenConnection(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		name := "hangup-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		// The server takes one connection and says hello; the container
		// ends three seconds after it started, with the connection open.
		port := runPublished(t, u, hostPort(t), "%d:7000", "-d", "--name", name, "busybox",
			"sh", "-c", "(echo hello; sleep 100) | nc -l -p 7000 & sleep 3; exit 7")
		var c net.Conn
		var err error
		buf := make([]byte, 6)
		for i := 0; ; i++ {
			if c, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, err = io.ReadFull(c, buf); err == nil {
					break
				}
				c.Close()
			}
			if i == 50 {
				t.Fatalf("no hello from the container: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		defer c.Close()
		if string(buf) != "hello\n" {
			t.Fatalf("read %q", buf)
		}
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if n, err := c.Read(buf); err == nil {
			t.Fatalf("read %q after the container ended; want the connection closed", buf[:n])
		}
		wantOut(t, u.MustBox(t, "wait", name), "7")
		if c2, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c2.Close()
			t.Fatalf("port %d open after the container ended", port)
		}
	})
}

// TestNetDNS resolves names inside the container through DNS responders
// the test runs on the host: one given by --dns as the address by which
// the container reaches the host; one that is the host's own nameserver,
// on a loopback address the container cannot reach, which the network
// holder's name server asks for a container on the default bridge, and
// pasta's forwarder for one with a pasta of its own. A host without
// nameservers gives Docker's public ones.
func TestNetDNS(t *testing.T) {
	requirePasta(t)
	requireRoot(t) // port 53 on the host, and a resolv.conf of the test's
	startDNS(t, "127.0.0.1:53", "box-dns-test.example.", net.IPv4(192, 0, 2, 77))
	nsAddr := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250), 1+rand.IntN(250))
	local := startDNS(t, nsAddr+":53", "box-local.example.", net.IPv4(192, 0, 2, 78))
	resolv := filepath.Join(tempDir, "resolv-loopback.conf")
	empty := filepath.Join(tempDir, "resolv-empty.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+nsAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("# no nameserver\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	forEachUser(t, func(t *testing.T, u *User) {
		hosts := u.MustBox(t, "run", "--rm", "busybox", "cat", "/etc/hosts").Stdout
		gw := ""
		for _, line := range strings.Split(hosts, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[1] == "host.containers.internal" {
				gw = f[0]
			}
		}
		if gw == "" {
			t.Fatalf("no host.containers.internal in /etc/hosts:\n%s", hosts)
		}
		r := u.MustBox(t, "run", "--rm", "--dns", gw, "--dns-search", "example", "busybox",
			"sh", "-c", "cat /etc/resolv.conf; nslookup box-dns-test.example; ping -c1 -W1 box-dns-test 2>&1 | head -1")
		for _, want := range []string{"nameserver " + gw, "search example", "Address: 192.0.2.77", "PING box-dns-test (192.0.2.77)"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("want %q in:\n%s", want, r.Stdout)
			}
		}
		// A name the server does not know fails as it should.
		r = u.Box(t, "run", "--rm", "--dns", gw, "busybox", "nslookup", "nowhere.example")
		if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "NXDOMAIN") {
			t.Fatalf("want NXDOMAIN for an unknown name: %s", r)
		}

		// The host's resolver on loopback: on the default bridge the
		// container asks the holder's name server, which asks the host's
		// resolver from the host's namespace; with a pasta of its own, it
		// asks pasta's forwarder, at the gateway.
		for network, server := range map[string]string{"bridge": "127.0.0.11", "pasta": gw} {
			before := local.queries.Load()
			r = boxWithResolvConf(t, u, resolv, "run", "--rm", "--network", network, "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup box-local.example")
			if r.Code != 0 || !strings.Contains(r.Stdout, "nameserver "+server+"\n") || !strings.Contains(r.Stdout, "Address: 192.0.2.78") {
				t.Fatalf("--network %s: want %s as nameserver and the host resolver's answer: %s", network, server, r)
			}
			if local.queries.Load() == before {
				t.Fatalf("--network %s: the host's resolver saw no query", network)
			}
		}

		// No nameserver on the host: Docker's defaults.
		r = boxWithResolvConf(t, u, empty, "run", "--rm", "busybox", "grep", "^nameserver", "/etc/resolv.conf")
		wantOut(t, r, "nameserver 8.8.8.8\nnameserver 8.8.4.4")
	})
}

// TestNetBuildRun: a build's RUN steps have the containers' default
// network: a private namespace with outbound access to the host; with
// --network none, loopback alone.
func TestNetBuildRun(t *testing.T) {
	requirePasta(t)
	port := hostServer(t, "0.0.0.0:0", "fetched by RUN")

	forEachUser(t, func(t *testing.T, u *User) {
		tag := "netbuild-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rmi", "-f", tag) })
		ctx := buildContext(t, u, map[string]string{"Dockerfile": fmt.Sprintf(
			"FROM busybox\nRUN ip -o link | grep -c -v ': lo:' > /links && wget -qO /fetched http://host.containers.internal:%d/\n", port)})
		u.MustBox(t, "build", "-q", "-t", tag, ctx)
		wantOut(t, u.MustBox(t, "run", "--rm", "--network", "none", tag, "cat", "/links", "/fetched"), "1\nfetched by RUN")

		// Without a network the fetch fails, and so the build.
		r := u.Box(t, "build", "--no-cache", "--network", "none", "-t", tag+"-none", ctx)
		wantCode(t, r, 1)
		wantCode(t, u.Box(t, "image", "inspect", tag+"-none"), 1)
	})
}

// TestNetTunClosed: where /dev/net/tun is 0600, as on machines without
// udev, pasta cannot serve an unprivileged user: box says so and how to
// fix it when pasta is asked for, and its default network is then its
// own (netstack), with published ports still working.
func TestNetTunClosed(t *testing.T) {
	requirePasta(t)
	requireRoot(t) // to close /dev/net/tun for the moment
	fi, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod("/dev/net/tun", 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod("/dev/net/tun", fi.Mode().Perm()) })
	for _, u := range []*User{Rootless, requireNoRange(t)} {
		t.Run(u.Mode, func(t *testing.T) {
			r := u.Box(t, "run", "--rm", "--network", "pasta", "busybox", "true")
			if st, err := os.Stat("/dev/net/tun"); err == nil && st.Mode().Perm() != 0o600 {
				// The mode is the machine's: another test suite running here
				// (its setup opens the device) changed it under this test.
				t.Fatalf("/dev/net/tun became %o during the test, so the run (%s) says nothing", st.Mode().Perm(), r)
			}
			wantCode(t, r, 125)
			wantOneLineError(t, r, "/dev/net/tun is not accessible", "chmod 0666 /dev/net/tun", "--network netstack")
			if info := u.MustBox(t, "info").Stdout; !strings.Contains(info, "netstack (default") || !strings.Contains(info, "chmod 0666 /dev/net/tun") {
				t.Fatalf("box info does not say the default is netstack, and why:\n%s", info)
			}
			name := "tunclosed-" + u.Mode
			t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
			www := wwwDir(t, u, "netstack-"+u.Mode)
			port := runPublished(t, u, hostPort(t), "%d:80", "-d", "--name", name, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
			wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", name), "netstack")
			if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "netstack-"+u.Mode {
				t.Fatalf("served %q", got)
			}
		})
	}
}
