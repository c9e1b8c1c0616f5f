package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fetchIn has a container on network net get url, retrying while the
// server it asks is still starting; it returns what box run printed.
func fetchIn(t *testing.T, u *User, net, url string) Result {
	t.Helper()
	script := fmt.Sprintf(`for i in $(seq 100); do wget -qO- %s && exit 0; sleep 0.1; done; exit 1`, url)
	return u.Box(t, "run", "--rm", "--network", net, "busybox", "sh", "-c", script)
}

// holderTree is the network holder of u's store, if one runs (its
// command line names the user's run root), with its descendants.
func holderTree(u *User) []int {
	runRoot := u.StoreRunRoot
	if runRoot == "" {
		runRoot = u.RuntimeDir
	}
	children := map[int][]int{}
	holder := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], pid)
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if args := strings.Split(string(cmd), "\x00"); len(args) > 2 && args[1] == "__netholder" && strings.HasPrefix(args[2], runRoot) {
			holder = pid
		}
	}
	if holder == 0 {
		return nil
	}
	out := []int{holder}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// endsSoon says whether every process of pids ends within ten seconds.
func endsSoon(pids []int) bool {
	gone := func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !gone() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	return gone()
}

// waitHolderGone waits until no network holder of u's store runs: it
// ends, with what it started, once its last container has; an error
// names what outlived ten seconds.
func waitHolderGone(t *testing.T, u *User) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(holderTree(u)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if tree := holderTree(u); len(tree) > 0 {
		t.Errorf("the network holder and its children %v outlived the last container by 10 s", tree)
	}
}

// TestUserNetworkJoin runs two servers on a user network, on the same
// port, and reaches them from a third container by name and by short
// id, through the network's name server; a container on the default
// network does not resolve them; once the last container is gone, so is
// the network's holder and what it started. Its pasta takes them to the
// host.
func TestUserNetworkJoin(t *testing.T) {
	requirePasta(t)
	hostPort := hostServer(t, "127.0.0.1:0", "from the host")
	forEachUser(t, func(t *testing.T, u *User) {
		net := "uj-" + u.Mode
		web1, web2 := "uj-web1-"+u.Mode, "uj-web2-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", web1, web2)
			u.Box(t, "network", "rm", net)
		})
		u.MustBox(t, "network", "create", net)
		www1, www2 := wwwDir(t, u, "one-"+u.Mode), wwwDir(t, u, "two-"+u.Mode)
		id1 := strings.TrimSpace(u.MustBox(t, "run", "-d", "--network", net, "--name", web1, "--network-alias", "alias1-"+u.Mode, "-v", www1+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www").Stdout)
		u.MustBox(t, "run", "-d", "--network", net, "--name", web2, "-v", www2+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")

		for target, want := range map[string]string{web1: "one-", id1[:12]: "one-", "alias1-" + u.Mode: "one-", web2: "two-"} {
			r := fetchIn(t, u, net, "http://"+target+"/")
			if r.Code != 0 || r.Stdout != want+u.Mode {
				t.Errorf("wget http://%s/ from the network: %s", target, r)
			}
		}

		// inspect shows the address on the network, and the network the container.
		var settings map[string]struct{ IPAddress, Gateway, MacAddress, NetworkID string }
		out := u.MustBox(t, "inspect", "-f", "{{json .NetworkSettings.Networks}}", web1).Stdout
		if err := json.Unmarshal([]byte(out), &settings); err != nil {
			t.Fatalf("inspect: %v: %s", err, out)
		}
		s, ok := settings[net]
		if !ok || !strings.HasPrefix(s.IPAddress, "10.89.") || !strings.HasPrefix(s.Gateway, "10.89.") || s.MacAddress == "" || len(s.NetworkID) != 64 {
			t.Errorf("inspect NetworkSettings.Networks: %s", out)
		}
		nout := u.MustBox(t, "network", "inspect", "-f", "{{json .Containers}}", net).Stdout
		if !strings.Contains(nout, id1) || !strings.Contains(nout, `"IPv4Address":"`+s.IPAddress+"/") {
			t.Errorf("network inspect Containers: %s", nout)
		}

		// The outside, through the holder's pasta: the host's loopback.
		r0 := u.Box(t, "run", "--rm", "--network", net, "busybox", "wget", "-T", "5", "-qO-", fmt.Sprintf("http://host.containers.internal:%d/", hostPort))
		if r0.Code != 0 || r0.Stdout != "from the host" {
			t.Errorf("a container on a user network did not reach the host: %s", r0)
		}
		// An --internal network has no way out; its names still resolve.
		u.MustBox(t, "network", "create", "--internal", net+"-int")
		t.Cleanup(func() { u.Box(t, "network", "rm", net+"-int") })
		r2 := u.Box(t, "run", "--rm", "--network", net+"-int", "busybox", "wget", "-T", "3", "-qO-", fmt.Sprintf("http://host.containers.internal:%d/", hostPort))
		if r2.Code == 0 {
			t.Errorf("a container on an internal network reached the host: %s", r2)
		}
		// An alias outside a user network is refused, as Docker does.
		r1 := u.Box(t, "run", "--rm", "--network-alias", "x", "busybox", "true")
		wantCode(t, r1, 125)
		wantOneLineError(t, r1, "network-scoped alias is supported only for containers in user defined networks")

		// The default network knows nothing of the names.
		if r := u.Box(t, "run", "--rm", "busybox", "wget", "-T", "2", "-qO-", "http://"+web1+"/"); r.Code == 0 {
			t.Errorf("a container on the default network reached %s: %s", web1, r)
		}
		tree := holderTree(u)
		if len(tree) < 2 {
			t.Errorf("no network holder (with its namespace's holder) while containers run on %s: %v", net, tree)
		}
		u.MustBox(t, "rm", "-f", web1, web2)
		if !endsSoon(tree) {
			t.Errorf("the network holder and its processes %v outlived the last container on a user network", tree)
		}
	})
}
