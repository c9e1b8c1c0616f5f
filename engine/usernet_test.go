package engine

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"box/engine/network"
	"box/storage/filter"
)

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestPlanAddresses(t *testing.T) {
	for _, tc := range []struct {
		name, subnet, gateway, ipRange string
		taken                          []netip.Prefix
		want                           ipamConfig
		bad                            bool
	}{
		{name: "default first", want: ipamConfig{Subnet: netip.MustParsePrefix("10.89.0.0/24"), Gateway: netip.MustParseAddr("10.89.0.1")}},
		{name: "default skips taken and host routes", taken: prefixes("10.89.0.0/24", "10.89.1.128/25"),
			want: ipamConfig{Subnet: netip.MustParsePrefix("10.89.2.0/24"), Gateway: netip.MustParseAddr("10.89.2.1")}},
		{name: "default skips a wider host route", taken: prefixes("10.89.0.0/23"),
			want: ipamConfig{Subnet: netip.MustParsePrefix("10.89.2.0/24"), Gateway: netip.MustParseAddr("10.89.2.1")}},
		{name: "given", subnet: "192.168.77.0/24", gateway: "192.168.77.254", ipRange: "192.168.77.128/25",
			want: ipamConfig{Subnet: netip.MustParsePrefix("192.168.77.0/24"), Gateway: netip.MustParseAddr("192.168.77.254"), IPRange: netip.MustParsePrefix("192.168.77.128/25")}},
		{name: "overlap", subnet: "10.89.0.0/16", taken: prefixes("10.89.3.0/24"), bad: true},
		{name: "not cidr", subnet: "10.1.2.3", bad: true},
		{name: "host bits", subnet: "10.1.2.3/24", bad: true},
		{name: "ipv6", subnet: "fd00::/64", bad: true},
		{name: "too small", subnet: "10.1.2.0/31", bad: true},
		{name: "gateway outside", subnet: "10.1.2.0/24", gateway: "10.1.3.1", bad: true},
		{name: "gateway is broadcast", subnet: "10.1.2.0/24", gateway: "10.1.2.255", bad: true},
		{name: "gateway without subnet", gateway: "10.1.2.1", bad: true},
		{name: "range outside", subnet: "10.1.2.0/24", ipRange: "10.1.3.0/25", bad: true},
		{name: "range wider", subnet: "10.1.2.0/24", ipRange: "10.1.0.0/16", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planAddresses(tc.subnet, tc.gateway, tc.ipRange, tc.taken)
			if tc.bad {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("got %+v, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	n := &userNetwork{ID: "abc", Name: "n", Subnet: "10.89.5.0/29", Gateway: "10.89.5.1"}
	used := map[netip.Addr]bool{}
	var got []string
	for {
		a, err := allocate(n, "", used)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatal(err)
			}
			break
		}
		used[a] = true
		got = append(got, a.String())
	}
	// .0 is the network, .1 the gateway, .7 the broadcast address.
	want := []string{"10.89.5.2", "10.89.5.3", "10.89.5.4", "10.89.5.5", "10.89.5.6"}
	if len(got) != len(want) {
		t.Fatalf("allocated %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	// A released address is handed out again.
	delete(used, netip.MustParseAddr("10.89.5.4"))
	if a, err := allocate(n, "", used); err != nil || a.String() != "10.89.5.4" {
		t.Fatalf("after release: %v, %v", a, err)
	}
	// --ip: free, taken, the gateway, outside, not an address.
	delete(used, netip.MustParseAddr("10.89.5.6"))
	if a, err := allocate(n, "10.89.5.6", used); err != nil || a.String() != "10.89.5.6" {
		t.Fatalf("--ip free: %v, %v", a, err)
	}
	for _, bad := range []string{"10.89.5.2", "10.89.5.1", "10.89.6.2", "10.89.5.7", "nope"} {
		if _, err := allocate(n, bad, used); err == nil {
			t.Errorf("--ip %s: allocated", bad)
		}
	}
	// The ip-range bounds dynamic addresses only.
	r := &userNetwork{ID: "abc", Name: "r", Subnet: "10.89.5.0/24", Gateway: "10.89.5.1", IPRange: "10.89.5.128/25"}
	if a, err := allocate(r, "", nil); err != nil || a.String() != "10.89.5.128" {
		t.Fatalf("ip-range: %v, %v", a, err)
	}
	if a, err := allocate(r, "10.89.5.9", nil); err != nil || a.String() != "10.89.5.9" {
		t.Fatalf("ip-range static: %v, %v", a, err)
	}
	if got := macOf(netip.MustParseAddr("10.89.5.9")); got != "02:42:0a:59:05:09" {
		t.Errorf("mac %s", got)
	}
}

func TestParseRouteLine(t *testing.T) {
	for line, want := range map[string]string{
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT": "",
		"eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0":                        "",
		"eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0":                        "192.168.0.0/24",
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0":                       "172.17.0.0/16",
	} {
		p, ok := parseRouteLine(line)
		if want == "" {
			if ok {
				t.Errorf("%q: got %s", line, p)
			}
			continue
		}
		if !ok || p.String() != want {
			t.Errorf("%q: got %s %v, want %s", line, p, ok, want)
		}
	}
}

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
	list := []*userNetwork{{ID: "abcdef01", Name: "one"}, {ID: "abcdef02", Name: "abcdef01x"}, {ID: "99", Name: "two"}}
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

func TestNetworkStoreUpdate(t *testing.T) {
	dir := t.TempDir()
	s, err := openNetworkStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string) func([]*userNetwork) ([]*userNetwork, error) {
		return func(l []*userNetwork) ([]*userNetwork, error) { return append(l, &userNetwork{Name: name}), nil }
	}
	if err := s.update(add("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.update(add("a")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.update(func(l []*userNetwork) ([]*userNetwork, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var names []string
	if err := s.read(func(l []*userNetwork) error {
		for _, n := range l {
			names = append(names, n.Name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Fatalf("records %v, want [a b]", names)
	}
	// No temporary files are left beside the records.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != networksFile && e.Name() != networksLock {
			t.Errorf("left %s", filepath.Join(dir, e.Name()))
		}
	}
}

func TestEndpoints(t *testing.T) {
	gone := map[string]bool{}
	exists := func(id string) bool { return !gone[id] }
	list := []*userNetwork{{ID: "n1id", Name: "n1", Subnet: "10.89.9.0/24", Gateway: "10.89.9.1"}}
	idA, idB, idC := "aaaaaaaaaaaa1111", "bbbbbbbbbbbb2222", "cccccccccccc3333"

	_, a, err := attachEndpoint(list, joinRequest{Network: "n1", ContainerID: idA, Name: "web", Aliases: []string{"www", "www", ""}}, exists)
	if err != nil || a.IP != "10.89.9.2" || a.MAC != "02:42:0a:59:09:02" || len(a.Aliases) != 1 {
		t.Fatalf("first: %+v, %v", a, err)
	}
	_, b, err := attachEndpoint(list, joinRequest{Network: "n1id", ContainerID: idB, Name: "db", IP: "10.89.9.50"}, exists)
	if err != nil || b.IP != "10.89.9.50" || !b.Static {
		t.Fatalf("--ip: %+v, %v", b, err)
	}
	// Twice on one network, a taken --ip, an unknown network: refused, nothing recorded.
	for _, bad := range []joinRequest{
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
	names := dnsNames(list[0], exists)
	for name, want := range map[string]string{"web": "10.89.9.2", "www": "10.89.9.2", "aaaaaaaaaaaa": "10.89.9.2", "db": "10.89.9.50", "bbbbbbbbbbbb": "10.89.9.50"} {
		if got := names[name]; len(got) != 1 || got[0].String() != want {
			t.Errorf("name %s: %v, want %s", name, got, want)
		}
	}
	if len(names) != 5 {
		t.Errorf("names %v", names)
	}
	// A container removed behind box's back: its address goes to the next.
	gone[idA] = true
	if _, ok := dnsNames(list[0], exists)["web"]; ok {
		t.Error("a vanished container still has a name")
	}
	_, c, err := attachEndpoint(list, joinRequest{Network: "n1", ContainerID: idC, Name: "c"}, exists)
	if err != nil || c.IP != "10.89.9.2" {
		t.Fatalf("after a vanished container: %+v, %v", c, err)
	}
	if !detachEndpoints(list, idB) || detachEndpoints(list, idB) {
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

// TestHolderNamesFollowSharedNetworks: each member's name server knows
// the names of the networks it is on, with their addresses there, and
// nothing of the others; a disconnect takes them away.
func TestHolderNamesFollowSharedNetworks(t *testing.T) {
	h := &netHolder{members: map[string]*holderMember{}}
	member := func(id string, joins ...holderJoin) string {
		mb := &holderMember{id: id, dns: network.NewDNS(nil, time.Second)}
		for _, j := range joins {
			mb.joins = append(mb.joins, memberJoin{holderJoin: j})
		}
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		mb.dns.Serve(pc, nil)
		t.Cleanup(mb.dns.Close)
		h.members[id] = mb
		return pc.LocalAddr().String()
	}
	on := func(br, addr, name string) holderJoin {
		return holderJoin{Bridge: br, Addr: addr + "/24", Names: []string{name}}
	}
	both := member("c-both", on("br-a", "10.1.0.2", "both"), on("br-b", "10.2.0.2", "both"))
	onA := member("c-a", on("br-a", "10.1.0.3", "alpha"))
	member("c-b", on("br-b", "10.2.0.3", "beta"))
	h.refresh()
	lookup := func(server, name string) []string {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), dns.TypeA)
		r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, server)
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		var out []string
		for _, rr := range r.Answer {
			out = append(out, rr.(*dns.A).A.String())
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		server, name string
		want         []string
	}{
		{both, "alpha", []string{"10.1.0.3"}},
		{both, "beta", []string{"10.2.0.3"}},
		{onA, "both", []string{"10.1.0.2"}},
		{onA, "beta", nil},
	} {
		if got := lookup(tc.server, tc.name); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s from %s: got %v, want %v", tc.name, tc.server, got, tc.want)
		}
	}
	// "both" leaves network a: alpha no longer resolves from it.
	h.members["c-both"].joins = h.members["c-both"].joins[1:]
	h.refresh()
	if got := lookup(both, "alpha"); got != nil {
		t.Errorf("alpha after leaving its network: %v", got)
	}
}
