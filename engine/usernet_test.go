package engine

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"box/engine/control"
	"box/engine/usernet"
	"box/storage/filter"
)

func TestNetworkFilter(t *testing.T) {
	nets := []*NetworkInspect{
		{Name: "bridge", ID: builtinID("bridge"), Driver: "bridge", Scope: "local", Builtin: true},
		{Name: "host", ID: builtinID("host"), Driver: "host", Scope: "local", Builtin: true},
		{Name: "front", ID: "aaaa1111", Driver: "bridge", Scope: "local", Labels: map[string]string{"tier": "web", "x": ""}},
		{Name: "back", ID: "bbbb2222", Driver: "bridge", Scope: "local", Labels: map[string]string{"tier": "db"},
			Containers: map[string]NetworkContainer{"c": {}}},
	}
	for _, tc := range []struct {
		filters []string
		want    string
	}{
		{nil, "bridge host front back"},
		{[]string{"name=front"}, "front"},
		{[]string{"name=o"}, "host front"},
		{[]string{"name=front", "name=back"}, "front back"},
		{[]string{"id=bbbb"}, "back"},
		{[]string{"label=tier"}, "front back"},
		{[]string{"label=tier=db"}, "back"},
		{[]string{"label=tier", "label=x"}, "front"},
		{[]string{"driver=host"}, "host"},
		{[]string{"type=custom"}, "front back"},
		{[]string{"type=builtin", "driver=bridge"}, "bridge"},
		{[]string{"dangling=true"}, "front"},
		{[]string{"dangling=false", "type=custom"}, "back"},
	} {
		args, err := filter.Parse(tc.filters, NetworkFilters)
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		match, err := networkFilter(args)
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		got := ""
		for _, n := range nets {
			if match(n) {
				if got != "" {
					got += " "
				}
				got += n.Name
			}
		}
		if got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.filters, got, tc.want)
		}
	}
	for _, bad := range []string{"color=red", "type=other", "dangling=maybe", "name=("} {
		args, err := filter.Parse([]string{bad}, NetworkFilters)
		if err == nil {
			_, err = networkFilter(args)
		}
		if err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestFindNetwork(t *testing.T) {
	list := []*usernet.Network{{ID: "abcdef01", Name: "one"}, {ID: "abcdef02", Name: "abcdef01x"}, {ID: "99", Name: "two"}}
	for q, want := range map[string]string{"one": "one", "abcdef01": "one", "abcdef01x": "abcdef01x", "9": "two", "two": "two"} {
		n, err := findNetwork(list, q)
		if err != nil || n.Name != want {
			t.Errorf("%s: got %v, %v; want %s", q, n, err, want)
		}
	}
	if _, err := findNetwork(list, "abc"); err == nil || errors.Is(err, ErrNoSuchNetwork) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := findNetwork(list, "nope"); !errors.Is(err, ErrNoSuchNetwork) || err.Error() != "network nope not found" {
		t.Errorf("missing: %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	gone := map[string]bool{}
	exists := func(id string) bool { return !gone[id] }
	list := []*usernet.Network{{ID: "n1id", Name: "n1", Subnet: "10.89.9.0/24", Gateway: "10.89.9.1"}}
	idA, idB, idC := "aaaaaaaaaaaa1111", "bbbbbbbbbbbb2222", "cccccccccccc3333"

	_, a, err := attachEndpoint(list, usernet.JoinRequest{Network: "n1", ContainerID: idA, Name: "web", Aliases: []string{"www", "www", ""}}, exists)
	if err != nil || a.IP != "10.89.9.2" || a.MAC != "02:42:0a:59:09:02" || len(a.Aliases) != 1 {
		t.Fatalf("first: %+v, %v", a, err)
	}
	_, b, err := attachEndpoint(list, usernet.JoinRequest{Network: "n1id", ContainerID: idB, Name: "db", IP: "10.89.9.50"}, exists)
	if err != nil || b.IP != "10.89.9.50" || !b.Static {
		t.Fatalf("--ip: %+v, %v", b, err)
	}
	// Twice on one network, a taken --ip, an unknown network: refused, nothing recorded.
	for _, bad := range []usernet.JoinRequest{
		{Network: "n1", ContainerID: idA, Name: "web"},
		{Network: "n1", ContainerID: idC, Name: "c", IP: "10.89.9.50"},
		{Network: "n1", ContainerID: idC, Name: "c", IP: "10.89.10.5"},
		{Network: "nope", ContainerID: idC, Name: "c"},
	} {
		if _, _, err := attachEndpoint(list, bad, exists); err == nil {
			t.Errorf("%+v: attached", bad)
		}
	}
	if len(list[0].Endpoints) != 2 {
		t.Fatalf("endpoints %v", list[0].Endpoints)
	}
	// A container removed behind box's back: its address goes to the next.
	gone[idA] = true
	_, c, err := attachEndpoint(list, usernet.JoinRequest{Network: "n1", ContainerID: idC, Name: "c"}, exists)
	if err != nil || c.IP != "10.89.9.2" {
		t.Fatalf("after a vanished container: %+v, %v", c, err)
	}
	if !usernet.DetachEndpoints(list, idB) || usernet.DetachEndpoints(list, idB) {
		t.Error("detach should find idB once")
	}
	if _, ok := list[0].Endpoints[idB]; ok {
		t.Error("idB still attached")
	}
}

func TestNaturalLess(t *testing.T) {
	names := []string{"net10", "bridge", "net2", "net", "net2a", "host", "n01", "n1"}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	want := "bridge host n1 n01 net net2 net2a net10"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// The default bridge's record is the built-in "bridge": no lookup by the
// user's name or id finds it, its id alone attaches to it, and its
// containers give the holder no names to answer.
func TestDefaultNetworkRecord(t *testing.T) {
	def := &usernet.Network{ID: builtinID(defaultBridge), Name: defaultBridge, Default: true, Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}
	user := &usernet.Network{ID: strings.Repeat("b1", 32), Name: "n1", Subnet: "10.89.9.0/24", Gateway: "10.89.9.1"}
	list := []*usernet.Network{def, user}
	for _, q := range []string{defaultBridge, def.ID, def.ID[:12]} {
		if n, err := findNetwork(list, q); !errors.Is(err, ErrNoSuchNetwork) {
			t.Errorf("findNetwork(%q) = %v, %v; want no such network", q, n, err)
		}
	}
	if len(list) != 2 {
		t.Fatal("findNetwork changed the list")
	}
	id := "aaaaaaaaaaaa1111aaaaaaaaaaaa1111"
	n, ep, err := attachEndpoint(list, usernet.JoinRequest{Network: def.ID, ContainerID: id, Name: "web"}, func(string) bool { return true })
	if err != nil || n != def || ep.IP != "172.17.0.2" {
		t.Fatalf("attach to the default network by its id: %v, %+v, %v", n, ep, err)
	}
	if j := holderJoinOf(def, id, "web", ep); j.Names != nil || j.Addr != "172.17.0.2/16" || j.Gateway != "172.17.0.1/16" {
		t.Errorf("default bridge join: %+v", j)
	}
	_, uep, err := attachEndpoint(list, usernet.JoinRequest{Network: "n1", ContainerID: id, Name: "web"}, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if j := holderJoinOf(user, id, "web", uep); strings.Join(j.Names, " ") != "web "+id[:12] {
		t.Errorf("user network join names: %v", j.Names)
	}
	if !isUserNetworkMode(defaultBridge) || !isBuiltinNetwork(defaultBridge) {
		t.Error("bridge is both the built-in network and a network of the holder's")
	}
}

func TestHolderRefuses(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "netholder.sock")
	if holderRefuses(sock) {
		t.Error("nothing at the path: want no wait")
	}
	// A file that is no socket refuses connections too; the next holder
	// replaces it, so a run must not wait 3 s for a repair.
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if holderRefuses(sock) {
		t.Error("a regular file at the path: want no wait")
	}
	os.Remove(sock)
	ln, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	if holderRefuses(sock) {
		t.Error("a served socket: want no wait")
	}
	ln.Close()
	// The socket file stays, served by nobody: a killed holder's.
	if !holderRefuses(sock) {
		t.Error("a socket nobody serves: want a wait for the repair")
	}
}

func TestParseMTU(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 0, "68": 68, "1400": 1400, "65535": 65535} {
		if got, err := parseMTU(v); err != nil || got != want {
			t.Errorf("parseMTU(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	// Docker's daemon refuses these (a negative number at once, the
	// others when the bridge is made): the create fails.
	for _, v := range []string{"-1", "67", "65536", "9x", "1400.5"} {
		var ue *UsageError
		if _, err := parseMTU(v); !errors.As(err, &ue) {
			t.Errorf("parseMTU(%q): want a usage error, got %v", v, err)
		}
	}
}
