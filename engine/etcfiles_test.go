package engine

import (
	"testing"

	"box/engine/spec"
)

func TestParseNameOptions(t *testing.T) {
	got, err := parseNameOptions([]string{"9.9.9.9", "2001:db8::1"}, nil, nil, []string{"db:10.0.0.5", "gw:host-gateway", "v6=::1", "b:[::2]"})
	if err != nil {
		t.Fatal(err)
	}
	want := []hostEntry{{"db", "10.0.0.5"}, {"gw", hostGateway}, {"v6", "::1"}, {"b", "::2"}}
	if len(got.Hosts) != len(want) {
		t.Fatalf("hosts %v", got.Hosts)
	}
	for i := range want {
		if got.Hosts[i] != want[i] {
			t.Errorf("host %d: %v, want %v", i, got.Hosts[i], want[i])
		}
	}
	for _, c := range []struct{ dns, add []string }{
		{[]string{"1.2.3"}, nil},
		{[]string{"example.com"}, nil},
		{nil, []string{"nocolon"}},
		{nil, []string{":1.2.3.4"}},
		{nil, []string{"db:notanip"}},
	} {
		if _, err := parseNameOptions(c.dns, nil, nil, c.add); err == nil {
			t.Errorf("dns %v add-host %v: want an error", c.dns, c.add)
		}
	}
}

func TestResolvConf(t *testing.T) {
	host := "# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"
	for _, c := range []struct {
		names nameOptions
		want  string
	}{
		{nameOptions{}, "# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"},
		{nameOptions{DNS: []string{"9.9.9.9"}}, "# generated\nsearch corp.example\noptions edns0\nnameserver 9.9.9.9\n"},
		{nameOptions{Search: []string{"a.example", "b.example"}, Options: []string{"ndots:2"}},
			"# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch a.example b.example\noptions ndots:2\n"},
	} {
		if got := resolvConf(host, c.names); got != c.want {
			t.Errorf("%+v:\n%q\nwant\n%q", c.names, got, c.want)
		}
	}
}

func TestResolvConfWithoutHostNameservers(t *testing.T) {
	for _, c := range []struct {
		host    string
		names   nameOptions
		network spec.Network
		want    string
	}{
		{"", nameOptions{}, "pasta", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"search corp.example\n", nameOptions{}, "pasta", "search corp.example\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"", nameOptions{DNS: []string{"9.9.9.9"}}, "pasta", "nameserver 9.9.9.9\n"},
		{"nameserver 10.0.0.1\n", nameOptions{}, "pasta", "nameserver 10.0.0.1\n"},
		// The host's own network has the host's resolver default.
		{"", nameOptions{}, spec.NetworkHost, ""},
		{"", nameOptions{}, spec.NetworkNone, ""},
	} {
		if got := containerResolvConf(c.host, c.names, c.network); got != c.want {
			t.Errorf("%q %+v %s:\n%q\nwant\n%q", c.host, c.names, c.network, got, c.want)
		}
	}
}
