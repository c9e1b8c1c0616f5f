package usernet

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
	"box/engine/spec"
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
		want                           AddressPlan
		bad                            bool
	}{
		{name: "default first", want: AddressPlan{Subnet: netip.MustParsePrefix("10.89.0.0/24"), Gateway: netip.MustParseAddr("10.89.0.1")}},
		{name: "default skips taken and host routes", taken: prefixes("10.89.0.0/24", "10.89.1.128/25"),
			want: AddressPlan{Subnet: netip.MustParsePrefix("10.89.2.0/24"), Gateway: netip.MustParseAddr("10.89.2.1")}},
		{name: "default skips a wider host route", taken: prefixes("10.89.0.0/23"),
			want: AddressPlan{Subnet: netip.MustParsePrefix("10.89.2.0/24"), Gateway: netip.MustParseAddr("10.89.2.1")}},
		{name: "given", subnet: "192.168.77.0/24", gateway: "192.168.77.254", ipRange: "192.168.77.128/25",
			want: AddressPlan{Subnet: netip.MustParsePrefix("192.168.77.0/24"), Gateway: netip.MustParseAddr("192.168.77.254"), IPRange: netip.MustParsePrefix("192.168.77.128/25")}},
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
			got, err := PlanAddresses(tc.subnet, tc.gateway, tc.ipRange, tc.taken)
			if tc.bad {
				var ue *spec.UsageError
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
	n := &Network{ID: "abc", Name: "n", Subnet: "10.89.5.0/29", Gateway: "10.89.5.1"}
	used := map[netip.Addr]bool{}
	var got []string
	for {
		a, err := allocate(n, "", used)
		if err != nil {
			var ue *spec.UsageError
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
	r := &Network{ID: "abc", Name: "r", Subnet: "10.89.5.0/24", Gateway: "10.89.5.1", IPRange: "10.89.5.128/25"}
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

func TestNetworkStoreUpdate(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string) func([]*Network) ([]*Network, error) {
		return func(l []*Network) ([]*Network, error) {
			return append(l, &Network{Name: name}), nil
		}
	}
	if err := s.Update(add("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(add("a")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Update(func(l []*Network) ([]*Network, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var names []string
	if err := s.Read(func(l []*Network) error {
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
		if e.Name() != StoreFile && e.Name() != networksLock {
			t.Errorf("left %s", filepath.Join(dir, e.Name()))
		}
	}
}

// TestHolderNamesFollowSharedNetworks: each member's name server knows
// the names of the networks it is on, with their addresses there, and
// nothing of the others; a disconnect takes them away.
func TestHolderNamesFollowSharedNetworks(t *testing.T) {
	h := &netHolder{members: map[string]*holderMember{}}
	member := func(id string, joins ...Join) string {
		mb := &holderMember{id: id, dns: network.NewDNS(nil, time.Second)}
		for _, j := range joins {
			mb.joins = append(mb.joins, memberJoin{Join: j})
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
	on := func(br, addr, name string) Join {
		return Join{Bridge: br, Addr: addr + "/24", Names: []string{name}}
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
