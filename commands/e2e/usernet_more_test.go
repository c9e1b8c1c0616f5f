package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// untilIn runs the shell condition cond in the running container ctr
// until it holds, for up to ten seconds, and says whether it did.
func untilIn(t *testing.T, u *User, ctr, cond string) Result {
	t.Helper()
	script := fmt.Sprintf(`for i in $(seq 100); do if %s; then exit 0; fi; sleep 0.1; done; exit 1`, cond)
	return u.Box(t, "exec", ctr, "sh", "-c", script)
}

// resolves is a shell condition: name resolves (through 127.0.0.11).
func resolves(name string) string { return fmt.Sprintf("nslookup %s >/dev/null 2>&1", name) }

// TestNetworkConnect connects a running container to a second network
// and disconnects it again: names on that network resolve from it (and
// its alias from there) at once, and stop resolving once it is gone,
// with nobody restarted; connecting twice, disconnecting what is not
// connected and connecting a container of the default network are
// refused with one line and Docker's exit 1 (the network verbs' code;
// run's errors are 125), and change nothing. A stopped
// container connected joins the network at its next start.
func TestNetworkConnect(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		a, b := "nc-a-"+u.Mode, "nc-b-"+u.Mode
		web, client, later, plain := "nc-web-"+u.Mode, "nc-client-"+u.Mode, "nc-later-"+u.Mode, "nc-plain-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", web, client, later, plain)
			u.Box(t, "network", "rm", a, b)
		})
		u.MustBox(t, "network", "create", a)
		u.MustBox(t, "network", "create", b)
		www := wwwDir(t, u, "on b "+u.Mode)
		u.MustBox(t, "run", "-d", "--network", b, "--name", web, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		u.MustBox(t, "run", "-d", "--network", a, "--name", client, "busybox", "sleep", "600")

		if r := u.Box(t, "exec", client, "nslookup", web); r.Code == 0 {
			t.Fatalf("%s resolved %s of a network it is not on: %s", client, web, r)
		}
		u.MustBox(t, "network", "connect", "--alias", "nc-alias-"+u.Mode, b, client)
		r := untilIn(t, u, client, "wget -qO- http://"+web+"/ | grep -q 'on b'")
		if r.Code != 0 {
			t.Fatalf("after connect, %s did not reach %s by name: %s", client, web, r)
		}
		if r := untilIn(t, u, web, resolves("nc-alias-"+u.Mode)); r.Code != 0 {
			t.Errorf("the alias given at connect does not resolve on %s: %s", b, r)
		}
		// inspect shows both networks.
		nets := u.MustBox(t, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", client).Stdout
		if !strings.Contains(nets, a+" ") || !strings.Contains(nets, b+" ") {
			t.Errorf("inspect of a container on two networks: %q", nets)
		}

		r = u.Box(t, "network", "connect", b, client)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "endpoint with name "+client+" already exists in network "+b)

		u.MustBox(t, "network", "disconnect", b, client)
		if r := untilIn(t, u, client, "! "+resolves(web)); r.Code != 0 {
			t.Errorf("after disconnect, %s still resolves %s: %s", client, web, r)
		}
		if r := u.Box(t, "exec", client, "wget", "-T", "2", "-qO-", "http://"+web+"/"); r.Code == 0 {
			t.Errorf("after disconnect, %s still reaches %s: %s", client, web, r)
		}
		if out := u.MustBox(t, "network", "inspect", "-f", "{{len .Containers}}", b).Stdout; strings.TrimSpace(out) != "1" {
			t.Errorf("network inspect %s after disconnect: %s containers, want 1", b, out)
		}
		r = u.Box(t, "network", "disconnect", b, client)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "is not connected to network "+b)
		r = u.Box(t, "network", "connect", "nowhere-"+u.Mode, client)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "network nowhere-"+u.Mode+" not found")

		// A container of the default network: refused, nothing recorded.
		u.MustBox(t, "run", "-d", "--name", plain, "busybox", "sleep", "600")
		r = u.Box(t, "network", "connect", b, plain)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "not on a user-defined network")

		// A stopped container: recorded now, attached at its start.
		u.MustBox(t, "create", "--network", a, "--name", later, "busybox", "sleep", "600")
		u.MustBox(t, "network", "connect", b, later)
		u.MustBox(t, "start", later)
		if r := untilIn(t, u, later, "wget -qO- http://"+web+"/ | grep -q 'on b'"); r.Code != 0 {
			t.Errorf("a container connected while stopped does not reach %s after its start: %s", web, r)
		}
		if r := untilIn(t, u, later, resolves(client)); r.Code != 0 {
			t.Errorf("%s does not resolve %s on their shared network %s: %s", later, client, a, r)
		}
		u.MustBox(t, "stop", "-t", "0", later)
		u.MustBox(t, "network", "disconnect", b, later)
		u.MustBox(t, "start", later)
		if r := u.Box(t, "exec", later, "nslookup", web); r.Code == 0 {
			t.Errorf("%s, disconnected while stopped, resolves %s: %s", later, web, r)
		}
		// -f drops the endpoint of a container that is gone.
		r = u.Box(t, "network", "disconnect", "-f", b, "nc-nobody-"+u.Mode)
		wantCode(t, r, 1)
	})
}

// TestNetworkTwoAndIP runs a server on two networks at an address of
// its choosing: clients on either network reach it by name, a client on
// a third does not resolve it; --ip outside the subnet or taken is
// refused with nothing made; --hostname names the container.
func TestNetworkTwoAndIP(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		a, b, c := "n2-a-"+u.Mode, "n2-b-"+u.Mode, "n2-c-"+u.Mode
		web := "n2-web-" + u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", web, "n2-bad-"+u.Mode)
			u.Box(t, "network", "rm", a, b, c)
		})
		u.MustBox(t, "network", "create", "--subnet", "192.168.241.0/24", a)
		u.MustBox(t, "network", "create", b)
		u.MustBox(t, "network", "create", c)
		www := wwwDir(t, u, "two "+u.Mode)
		u.MustBox(t, "run", "-d", "--network", a, "--network", b, "--ip", "192.168.241.77", "--hostname", "n2host",
			"--name", web, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		ip := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+a+"\").IPAddress}}", web).Stdout)
		if ip != "192.168.241.77" {
			t.Errorf("--ip 192.168.241.77: inspect says %q", ip)
		}
		for _, n := range []string{a, b} {
			if r := fetchIn(t, u, n, "http://"+web+"/"); r.Code != 0 || r.Stdout != "two "+u.Mode {
				t.Errorf("from network %s: %s", n, r)
			}
		}
		if r := u.Box(t, "run", "--rm", "--network", a, "busybox", "wget", "-qO-", "http://192.168.241.77/"); r.Code != 0 {
			t.Errorf("by its --ip address: %s", r)
		}
		if r := u.Box(t, "run", "--rm", "--network", c, "busybox", "nslookup", web); r.Code == 0 {
			t.Errorf("resolved from a network it is not on: %s", r)
		}
		if r := u.MustBox(t, "exec", web, "sh", "-c", "hostname; grep n2host /etc/hosts"); r.Stdout != "n2host\n192.168.241.77\tn2host\n" {
			t.Errorf("--hostname n2host on a user network: %s", r)
		}

		for _, tc := range []struct{ ip, want string }{
			{"192.168.241.77", "address 192.168.241.77 is already in use on network " + a},
			{"10.250.0.9", "does not belong to any of network " + a},
			{"192.168.241.1", "already in use"}, // the gateway
			{"nonsense", "invalid IPv4 address"},
		} {
			r := u.Box(t, "run", "-d", "--network", a, "--network", b, "--ip", tc.ip, "--name", "n2-bad-"+u.Mode, "busybox", "sleep", "60")
			wantCode(t, r, 125)
			wantOneLineError(t, r, tc.want)
			if r := u.Box(t, "inspect", "n2-bad-"+u.Mode); r.Code == 0 {
				t.Fatalf("a refused --ip %s left a container", tc.ip)
			}
		}
		for _, n := range []string{a, b} {
			if out := strings.TrimSpace(u.MustBox(t, "network", "inspect", "-f", "{{len .Containers}}", n).Stdout); out != "1" {
				t.Errorf("network %s has %s containers after refused runs, want 1", n, out)
			}
		}
		r := u.Box(t, "run", "--rm", "--ip", "10.1.2.3", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "user specified IP address is supported on user defined networks only")
	})
}

// TestNetworkPublish publishes a port of a container on a user network:
// the host reaches it (the holder forwards it) while the container
// runs, and not once it stopped; a container on an --internal network
// only publishes nothing, as Docker's.
func TestNetworkPublish(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		n, in := "np-"+u.Mode, "np-int-"+u.Mode
		web, iweb := "np-web-"+u.Mode, "np-iweb-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", web, iweb)
			u.Box(t, "network", "rm", n, in)
		})
		u.MustBox(t, "network", "create", n)
		u.MustBox(t, "network", "create", "--internal", in)
		www := wwwDir(t, u, "published "+u.Mode)
		port := runPublished(t, u, hostPort(t), "127.0.0.1:%d:80", "-d", "--network", n, "--name", web, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "published "+u.Mode {
			t.Errorf("published port of a container on a user network: %q", got)
		}
		if out := u.MustBox(t, "port", web).Stdout; !strings.Contains(out, fmt.Sprintf("80/tcp -> 127.0.0.1:%d", port)) {
			t.Errorf("box port: %q", out)
		}
		u.MustBox(t, "stop", "-t", "1", web)
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still open after the container stopped", port)
		}

		iport := hostPort(t)
		u.MustBox(t, "run", "-d", "--network", in, "-p", fmt.Sprintf("127.0.0.1:%d:80", iport), "--name", iweb, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", iport), time.Second); err == nil {
			c.Close()
			t.Errorf("a container on an internal network only published port %d", iport)
		}
		if out := strings.TrimSpace(u.MustBox(t, "port", iweb).Stdout); out != "" {
			t.Errorf("box port of a container on an internal network: %q", out)
		}
	})
}

// storeProcesses are the processes that work for u's store: the network
// holder and what it started, and every process with u's runtime
// directory in its environment (box, monitors, pasta).
func storeProcesses(u *User) []int {
	out := holderTree(u)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains("\x00"+string(env), "\x00XDG_RUNTIME_DIR="+u.RuntimeDir+"\x00") && !slices.Contains(out, pid) {
			out = append(out, pid)
		}
	}
	return out
}

// wantNoProcesses fails unless every process working for u's store has
// ended within ten seconds.
func wantNoProcesses(t *testing.T, u *User) {
	t.Helper()
	var left []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left = storeProcesses(u); len(left) == 0 {
			return
		}
	}
	desc := describeProcesses(left, false)
	t.Errorf("processes left after the last container on user networks went: %s", strings.Join(desc, "; "))
}

// TestNetworkHolderKilled kills the network holder while containers run
// on its network: they get their network back (their monitors start a
// new holder and join it), the next run reaches them by name, and rm -f
// leaves no process behind.
func TestNetworkHolderKilled(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		n, web, client := "nk-"+u.Mode, "nk-web-"+u.Mode, "nk-client-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", web, client)
			u.Box(t, "network", "rm", n)
		})
		u.MustBox(t, "network", "create", n)
		www := wwwDir(t, u, "still here "+u.Mode)
		u.MustBox(t, "run", "-d", "--network", n, "--name", web, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		u.MustBox(t, "run", "-d", "--network", n, "--name", client, "busybox", "sleep", "600")
		tree := holderTree(u)
		if len(tree) == 0 {
			t.Fatal("no network holder while containers run")
		}
		if err := syscall.Kill(tree[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if r := fetchIn(t, u, n, "http://"+web+"/"); r.Code != 0 || r.Stdout != "still here "+u.Mode {
			t.Errorf("the next run after the holder was killed: %s", r)
		}
		if r := untilIn(t, u, client, "wget -qO- http://"+web+"/ | grep -q 'still here'"); r.Code != 0 {
			t.Errorf("a container that ran when the holder was killed did not get its network back: %s", r)
		}
		if now := holderTree(u); len(now) == 0 || now[0] == tree[0] {
			t.Errorf("holder before %v, after %v: want a new one", tree, now)
		}
		u.MustBox(t, "rm", "-f", web, client)
		wantNoProcesses(t, u)
	})
}

// TestNetworkKilledContainer SIGKILLs a container on a user network: its
// name stops resolving at once; removed, its address goes to the next.
func TestNetworkKilledContainer(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		n, victim, peer, next := "nx-"+u.Mode, "nx-victim-"+u.Mode, "nx-peer-"+u.Mode, "nx-next-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", victim, peer, next)
			u.Box(t, "network", "rm", n)
		})
		u.MustBox(t, "network", "create", n)
		u.MustBox(t, "run", "-d", "--network", n, "--name", victim, "busybox", "sleep", "600")
		u.MustBox(t, "run", "-d", "--network", n, "--name", peer, "busybox", "sleep", "600")
		ipOf := func(name string) string {
			return strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+n+"\").IPAddress}}", name).Stdout)
		}
		ip := ipOf(victim)
		if r := untilIn(t, u, peer, resolves(victim)); r.Code != 0 {
			t.Fatalf("%s does not resolve %s: %s", peer, victim, r)
		}
		u.MustBox(t, "kill", "-s", "KILL", victim)
		if r := untilIn(t, u, peer, "! "+resolves(victim)); r.Code != 0 {
			t.Errorf("%s still resolves %s, killed: %s", peer, victim, r)
		}
		u.MustBox(t, "rm", victim)
		u.MustBox(t, "run", "-d", "--network", n, "--name", next, "busybox", "sleep", "600")
		if got := ipOf(next); got != ip {
			t.Errorf("the next container got %s, want the removed one's %s", got, ip)
		}
	})
}

// TestNetworkParallel starts 20 containers on one network at once: all
// get distinct addresses and each resolves the next; once all are
// removed, no process of the store remains.
func TestNetworkParallel(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		n := "np20-" + u.Mode
		const count = 20
		names := make([]string, count)
		for i := range names {
			names[i] = fmt.Sprintf("np20-%s-%d", u.Mode, i)
		}
		t.Cleanup(func() {
			u.Box(t, append([]string{"rm", "-f"}, names...)...)
			u.Box(t, "network", "rm", n)
		})
		u.MustBox(t, "network", "create", n)
		var wg sync.WaitGroup
		results := make([]Result, count)
		for i := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = u.Box(t, "run", "-d", "--network", n, "--name", names[i], "busybox", "sleep", "600")
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.Code != 0 {
				t.Fatalf("parallel run %d: %s", i, r)
			}
		}
		seen := map[string]string{}
		for _, name := range names {
			ip := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+n+"\").IPAddress}}", name).Stdout)
			if other, ok := seen[ip]; ok || ip == "" {
				t.Errorf("%s and %s have the same address %q", name, other, ip)
			}
			seen[ip] = name
		}
		for i, name := range names {
			other := names[(i+1)%count]
			if r := untilIn(t, u, name, resolves(other)); r.Code != 0 {
				t.Errorf("%s does not resolve %s: %s", name, other, r)
			}
		}
		// What wantNoProcesses looks for is there while they run: a
		// monitor each, and the holder.
		if p := storeProcesses(u); len(p) <= count {
			t.Errorf("%d processes of the store while %d containers run: %v", len(p), count, p)
		}
		u.MustBox(t, append([]string{"rm", "-f"}, names...)...)
		wantNoProcesses(t, u)
	})
}

// TestNetworkHostResolvers: on a user network, names that are not the
// network's go to the host's resolvers, all of them in order: the first
// here never answers, the second does; the same through netstack's DNS
// address on the default network. --dns replaces them.
func TestNetworkHostResolvers(t *testing.T) {
	requirePasta(t)
	requireRoot(t) // port 53 on loopback, and a resolv.conf of the test's
	third := func() string {
		return fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250), 1+rand.IntN(250))
	}
	deadAddr, liveAddr, dnsAddr := third(), third(), third()
	dead, err := net.ListenPacket("udp", deadAddr+":53") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	live := startDNS(t, liveAddr+":53", "box-un.example.", net.IPv4(192, 0, 2, 91))
	startDNS(t, dnsAddr+":53", "box-un-dns.example.", net.IPv4(192, 0, 2, 92))
	resolv := filepath.Join(tempDir, "resolv-usernet.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+deadAddr+"\nnameserver "+liveAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		n := "nh-" + u.Mode
		t.Cleanup(func() { u.Box(t, "network", "rm", n) })
		u.MustBox(t, "network", "create", n)
		before := live.queries.Load()
		r := boxWithResolvConf(t, u, resolv, "run", "--rm", "--network", n, "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup box-un.example")
		if r.Code != 0 || !strings.Contains(r.Stdout, "nameserver 127.0.0.11") || !strings.Contains(r.Stdout, "Address: 192.0.2.91") {
			t.Fatalf("want 127.0.0.11 as nameserver and the second host resolver's answer: %s", r)
		}
		if live.queries.Load() == before {
			t.Fatal("the host's second resolver saw no query")
		}
		// netstack's DNS address falls back alike (it asked the first alone).
		before = live.queries.Load()
		r = boxWithResolvConf(t, u, resolv, "run", "--rm", "--network", "netstack", "busybox", "nslookup", "box-un.example")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Address: 192.0.2.91") || live.queries.Load() == before {
			t.Errorf("netstack with a first host resolver that does not answer: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--network", n, "--dns", dnsAddr, "busybox", "nslookup", "box-un-dns.example")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Address: 192.0.2.92") {
			t.Errorf("--dns on a user network: %s", r)
		}
	})
}
