package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNetworkRecords drives network create, ls, inspect, rm and prune as
// Docker's users would: records only, no container joins.
func TestNetworkRecords(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		t.Cleanup(func() { u.Box(t, "network", "rm", "-f", "nr-auto", "nr-given", "nr-keep") })

		id := strings.TrimSpace(u.MustBox(t, "network", "create", "--label", "tier=web", "nr-auto").Stdout)
		if len(id) != 64 {
			t.Fatalf("create printed %q, want a 64-digit id", id)
		}
		u.MustBox(t, "network", "create", "--subnet", "192.168.231.0/24", "--gateway", "192.168.231.254",
			"--ip-range", "192.168.231.128/25", "--internal", "-o", "com.docker.network.driver.mtu=1400", "nr-given")

		// Docker's columns, the built-in networks listed with the user's.
		ls := u.MustBox(t, "network", "ls").Stdout
		lines := strings.Split(strings.TrimSpace(ls), "\n")
		if f := strings.Fields(lines[0]); strings.Join(f, " ") != "NETWORK ID NAME DRIVER SCOPE" {
			t.Errorf("header %q", lines[0])
		}
		for _, want := range []string{"bridge", "host", "none", "nr-auto", "nr-given"} {
			if !strings.Contains(ls, " "+want+" ") {
				t.Errorf("ls lacks %s:\n%s", want, ls)
			}
		}
		if !strings.Contains(ls, id[:12]+" ") || strings.Contains(ls, id) {
			t.Errorf("ls should show the 12-digit id %s:\n%s", id[:12], ls)
		}
		if got := u.MustBox(t, "network", "ls", "-q", "--no-trunc", "--filter", "label=tier=web").Stdout; strings.TrimSpace(got) != id {
			t.Errorf("ls -q --no-trunc --filter label=tier=web: %q, want %s", got, id)
		}
		if got := u.MustBox(t, "network", "ls", "--format", "{{.Name}} {{.Internal}}", "-f", "name=nr-", "-f", "driver=bridge").Stdout; got != "nr-auto false\nnr-given true\n" {
			t.Errorf("ls --format with filters: %q", got)
		}
		if got := u.MustBox(t, "network", "ls", "-q", "--filter", "type=custom", "--filter", "id="+id[:10]).Stdout; strings.TrimSpace(got) != id[:12] {
			t.Errorf("ls -q id filter: %q", got)
		}
		if r := u.Box(t, "network", "ls", "--filter", "color=red"); r.Code == 0 || !strings.Contains(r.Stderr, "invalid filter") {
			t.Errorf("bad filter: %s", r)
		}

		// inspect, by name and by id prefix, in Docker's shape.
		var got []struct {
			Name, Id, Driver, Scope string
			Internal                bool
			IPAM                    struct {
				Config []struct{ Subnet, IPRange, Gateway string }
			}
			Options, Labels map[string]string
			Containers      map[string]any
		}
		out := u.MustBox(t, "network", "inspect", "nr-given", id[:8]).Stdout
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 {
			t.Fatalf("inspect: %v\n%s", err, out)
		}
		g := got[0]
		if g.Name != "nr-given" || g.Driver != "bridge" || g.Scope != "local" || !g.Internal || len(g.IPAM.Config) != 1 ||
			g.IPAM.Config[0] != (struct{ Subnet, IPRange, Gateway string }{"192.168.231.0/24", "192.168.231.128/25", "192.168.231.254"}) ||
			g.Options["com.docker.network.driver.mtu"] != "1400" || g.Containers == nil {
			t.Errorf("inspect nr-given: %+v", g)
		}
		a := got[1]
		if a.Id != id || a.Labels["tier"] != "web" || len(a.IPAM.Config) != 1 || !strings.HasPrefix(a.IPAM.Config[0].Subnet, "10.89.") {
			t.Errorf("inspect nr-auto: %+v", a)
		}
		if f := u.MustBox(t, "inspect", "--type", "network", "-f", "{{.Name}}", "nr-auto").Stdout; f != "nr-auto\n" {
			t.Errorf("inspect --type network: %q", f)
		}
		if r := u.Box(t, "network", "inspect", "nr-nope"); r.Code != 1 || !strings.Contains(r.Stderr, "network nr-nope not found") {
			t.Errorf("inspect of a missing network: %s", r)
		}

		// Bad input: one line, nothing made.
		for _, bad := range [][]string{
			{"network", "create", "nr-auto"},
			{"network", "create", "--subnet", "192.168.231.128/25", "nr-bad"},
			{"network", "create", "--subnet", "10.1.2.3", "nr-bad"},
			{"network", "create", "--subnet", "10.1.2.0/24", "--gateway", "10.1.3.1", "nr-bad"},
			{"network", "create", "--ipv6", "nr-bad"},
			{"network", "create", "--driver", "overlay", "nr-bad"},
			{"network", "create", "bridge"},
		} {
			r := u.Box(t, bad...)
			if r.Code == 0 || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 1 {
				t.Errorf("box %s: %s", strings.Join(bad, " "), r)
			}
		}
		if r := u.Box(t, "network", "inspect", "nr-bad"); r.Code == 0 {
			t.Errorf("a refused network was made: %s", r)
		}

		// rm: built-ins refused, a missing one errs unless -f, the rest go.
		if r := u.Box(t, "network", "rm", "bridge"); r.Code != 1 || !strings.Contains(r.Stderr, "bridge is a pre-defined network and cannot be removed") {
			t.Errorf("rm bridge: %s", r)
		}
		if r := u.Box(t, "network", "rm", "nr-nope"); r.Code != 1 || !strings.Contains(r.Stderr, "network nr-nope not found") {
			t.Errorf("rm of a missing network: %s", r)
		}
		if r := u.MustBox(t, "network", "rm", "-f", "nr-nope", "nr-given"); r.Stdout != "nr-given\n" {
			t.Errorf("rm -f: %q", r.Stdout)
		}

		// prune: the unused user networks, filtered by label.
		u.MustBox(t, "network", "create", "--label", "keep", "nr-keep")
		if r := u.MustBox(t, "network", "prune", "-f", "--filter", "label!=keep"); !strings.Contains(r.Stdout, "Deleted Networks:\nnr-auto\n") || strings.Contains(r.Stdout, "nr-keep") {
			t.Errorf("prune: %q", r.Stdout)
		}
		if ls := u.MustBox(t, "network", "ls", "--format", "{{.Name}}").Stdout; ls != "bridge\nhost\nnone\nnr-keep\n" {
			t.Errorf("after prune: %q", ls)
		}
	})
}

// TestNetworkNamesRefused: a --network that names nothing says so with
// the modes box has, and the names of those modes cannot be taken by a
// network. (Joining a user network is TestUserNetworkJoin's.)
func TestNetworkNamesRefused(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		if r := u.Box(t, "run", "--name", "nr-c", "--network", "nr-missing", "busybox", "true"); r.Code != 125 || !strings.Contains(r.Stderr, `network "nr-missing" not found`) {
			t.Errorf("--network nr-missing: %s", r)
		}
		if r := u.Box(t, "inspect", "--type", "container", "nr-c"); r.Code == 0 {
			t.Errorf("a refused run left a container: %s", r)
		}
		if r := u.Box(t, "network", "create", "pasta"); r.Code != 1 {
			t.Errorf("network create pasta: %s", r)
		}
	})
}
