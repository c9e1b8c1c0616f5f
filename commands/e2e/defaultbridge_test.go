package e2e

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNetDefaultBridge: where pasta runs, the default network is Docker's
// default bridge, served from the network holder's namespace. Each
// container has an address of the subnet `network inspect bridge` shows
// (Docker's 172.17.0.0/16 unless the host has it) and is listed there; it
// reaches the others by address but not by name, reaches the host, and
// publishes ports. No pasta serves one container: the holder's one pasta
// serves them all, and once the last container is gone so is the holder,
// with its pasta.
func TestNetDefaultBridge(t *testing.T) {
	requirePasta(t)
	hostSrv := hostServer(t, "127.0.0.1:0", "from the host")
	forEachUser(t, func(t *testing.T, u *User) {
		a, b := "bridge-a-"+u.Mode, "bridge-b-"+u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", a, b) })
		www := wwwDir(t, u, "bridge-"+u.Mode)
		port := runPublished(t, u, hostPort(t), "%d:80", "-d", "--name", a, "-v", www+":/www", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
		idB := strings.TrimSpace(u.MustBox(t, "run", "-d", "--name", b, "busybox", "sleep", "60").Stdout)

		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", a), "bridge")
		subnet, err := netip.ParsePrefix(strings.TrimSpace(u.MustBox(t, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "bridge").Stdout))
		if err != nil {
			t.Fatalf("network inspect bridge shows no subnet: %v", err)
		}
		addr := func(name string) netip.Addr {
			r := u.MustBox(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}} {{(index .NetworkSettings.Networks \"bridge\").IPAddress}} {{.NetworkSettings.Gateway}}", name)
			f := strings.Fields(r.Stdout)
			ip, err := netip.ParseAddr(f[0])
			if len(f) != 3 || err != nil || f[1] != f[0] || !subnet.Contains(ip) {
				t.Fatalf("%s: want the same address of %s at the top of NetworkSettings and under bridge, and a gateway: %s", name, subnet, r)
			}
			return ip
		}
		ipA, ipB := addr(a), addr(b)
		if ipA == ipB {
			t.Fatalf("both containers have %s", ipA)
		}
		listed := u.MustBox(t, "network", "inspect", "-f", "{{json .Containers}}", "bridge").Stdout
		if !strings.Contains(listed, idB) || !strings.Contains(listed, `"IPv4Address":"`+ipB.String()+"/") {
			t.Errorf("network inspect bridge does not list %s at %s: %s", b, ipB, listed)
		}

		// pasta's MTU, not 1500, unless the network sets one (see
		// bridgeMTU): what lets a download through pasta run at its speed.
		wantOut(t, u.MustBox(t, "exec", b, "cat", "/sys/class/net/eth0/mtu"), "65520")
		mtuNet := "bridge-mtu-" + u.Mode
		u.MustBox(t, "network", "create", "-o", "com.docker.network.driver.mtu=1400", mtuNet)
		t.Cleanup(func() { u.Box(t, "network", "rm", mtuNet) })
		wantOut(t, u.MustBox(t, "run", "--rm", "--network", mtuNet, "busybox", "cat", "/sys/class/net/eth0/mtu"), "1400")
		// Docker's daemon refuses it: one line, exit 1.
		if r := u.Box(t, "network", "create", "-o", "com.docker.network.driver.mtu=9x", mtuNet+"-bad"); r.Code != 1 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("network create with a bad mtu: want one error line and exit 1, got %s", r)
		}
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "bridge-"+u.Mode {
			t.Fatalf("the published port served %q", got)
		}
		r := u.Box(t, "exec", b, "wget", "-qO-", "-T", "5", "http://"+ipA.String()+"/")
		if r.Code != 0 || r.Stdout != "bridge-"+u.Mode {
			t.Errorf("%s did not reach %s at its address %s: %s", b, a, ipA, r)
		}
		if r := u.Box(t, "exec", b, "wget", "-qO-", "-T", "2", "http://"+a+"/"); r.Code == 0 {
			t.Errorf("the default bridge answers container names, as Docker's does not: %s", r)
		}
		r = u.Box(t, "exec", b, "wget", "-qO-", "-T", "5", fmt.Sprintf("http://host.containers.internal:%d/", hostSrv))
		if r.Code != 0 || r.Stdout != "from the host" {
			t.Errorf("a container on the default bridge did not reach the host: %s", r)
		}

		for _, name := range []string{a, b} {
			if _, pastas := netHolders(t, u, name); len(pastas) != 0 {
				t.Errorf("pasta %v serves %s alone", pastas, name)
			}
		}
		tree := holderTree(u)
		if len(tree) < 3 {
			t.Fatalf("want the network holder, its namespace's holder and its pasta while containers run: %v", tree)
		}
		u.MustBox(t, "rm", "-f", a, b)
		if !endsSoon(tree) {
			t.Errorf("the network holder and its processes %v outlived the last container", tree)
		}
	})
}

// TestNetHolderStartFails: a run on the default bridge whose network
// holder cannot start (its socket's path is taken by a directory) fails in
// one line naming the holder, with exit 125, and leaves no container,
// monitor or holder behind, detached or not; once the path is free, the
// next run works. The run prepares its container while the holder it
// starts gets ready, so this is the undoing of a prepared container.
func TestNetHolderStartFails(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		waitHolderGone(t, u)
		runRoot := strings.TrimSpace(u.MustBox(t, "info", "--format", "{{.RunRoot}}").Stdout)
		sock := filepath.Join(runRoot, "netholder.sock")
		if out, err := u.Cmd("mkdir", "-p", filepath.Join(sock, "taken")).CombinedOutput(); err != nil {
			t.Fatalf("take the holder's socket path: %v: %s", err, out)
		}
		t.Cleanup(func() { _ = os.RemoveAll(sock) })
		before := monitorsOf("")
		name := "holder-fails-" + u.Mode
		for _, args := range [][]string{
			{"run", "-d", "--name", name, "busybox", "sleep", "60"},
			{"run", "--rm", "--name", name, "busybox", "true"},
		} {
			r := u.Box(t, args...)
			if r.Code != 125 || !strings.Contains(r.Stderr, "start the network holder") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("%v: want exit 125 and one line naming the network holder: %s", args, r)
			}
			if ps := u.MustBox(t, "ps", "-aq", "--filter", "name=^"+name+"$").Stdout; ps != "" {
				t.Errorf("%v: a failed run left container %s", args, ps)
			}
		}
		if tree := holderTree(u); len(tree) > 0 {
			t.Errorf("a holder that failed to start left processes %v", tree)
		}
		var left []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			left = slices.DeleteFunc(monitorsOf(""), func(p string) bool { return slices.Contains(before, p) })
			if len(left) == 0 {
				break
			}
		}
		if len(left) > 0 {
			t.Errorf("failed runs left monitors %v", left)
		}
		if err := os.RemoveAll(sock); err != nil {
			t.Fatal(err)
		}
		u.MustBox(t, "run", "--rm", "busybox", "true")
	})
}

// TestRootlessJoinsHolderUserNS: while a container on the default bridge
// runs, a rootless box enters the network holder's user namespace rather
// than making one of its own (no id mapping to write, and its runs are not
// the holder's guests). Root's box enters no user namespace at all.
func TestRootlessJoinsHolderUserNS(t *testing.T) {
	requirePasta(t)
	forEachUser(t, func(t *testing.T, u *User) {
		waitHolderGone(t, u)
		// Two foreground runs that wait on their input: the first starts
		// the holder (in its own namespace), the second finds it.
		var clis []*exec.Cmd
		for i, name := range []string{"joins-a-" + u.Mode, "joins-b-" + u.Mode} {
			cmd := u.BoxCmd("run", "-i", "--rm", "--name", name, "busybox", "cat")
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			clis = append(clis, cmd)
			t.Cleanup(func() {
				in.Close()
				if err := cmd.Wait(); err != nil {
					t.Errorf("run %d: %v: %s", i, err, out.String())
				}
			})
			waitFor(t, name+" running", 30*time.Second, func() (bool, string) {
				r := u.Box(t, "inspect", "-f", "{{.State.Running}}", name)
				return strings.TrimSpace(r.Stdout) == "true", r.String()
			})
		}
		userNS := func(pid int) string {
			l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
			if err != nil {
				t.Fatalf("user namespace of %d: %v", pid, err)
			}
			return l
		}
		tree := holderTree(u)
		if len(tree) == 0 {
			t.Fatal("no network holder runs for the two containers")
		}
		second := userNS(clis[1].Process.Pid)
		if u.Mode == "root" {
			if own := userNS(os.Getpid()); second != own {
				t.Errorf("root's box is in user namespace %s, not the machine's %s", second, own)
			}
			return
		}
		if holder := userNS(tree[0]); second != holder {
			t.Errorf("the second run's box is in user namespace %s, not the holder's %s", second, holder)
		}
	})
}
