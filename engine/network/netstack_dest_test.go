package network

import "testing"

func TestHostDestination(t *testing.T) {
	ns := func() []string { return []string{"192.0.2.53", "192.0.2.54"} }
	for _, c := range []struct {
		ip    string
		port  uint16
		proto string
		want  string
	}{
		{NetstackGateway, 8080, "tcp", "127.0.0.1:8080"},
		{NetstackGateway, 53, "udp", "127.0.0.1:53"},
		{NetstackDNS, 53, "udp", "192.0.2.53:53"},
		{NetstackDNS, 53, "tcp", "192.0.2.53:53"},
		{NetstackDNS, 80, "tcp", ""},
		{NetstackAddr, 80, "tcp", ""},
		{"10.0.2.7", 80, "tcp", ""},
		{"10.0.3.7", 80, "tcp", "10.0.3.7:80"},
		{"198.51.100.1", 443, "tcp", "198.51.100.1:443"},
		{"255.255.255.255", 67, "udp", ""},
		{"224.0.0.251", 5353, "udp", ""},
		{"0.0.0.0", 80, "tcp", ""},
	} {
		got, ok := hostDestination(c.ip, c.port, c.proto, ns)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s:%d/%s: got %q, %v; want %q", c.ip, c.port, c.proto, got, ok, c.want)
		}
	}
}

func TestParseNameservers(t *testing.T) {
	got := parseNameservers("# comment\nsearch example.org\nnameserver 127.0.0.53\nnameserver  fe80::1%eth0\nnameserver bogus\noptions edns0\nnameserver 192.0.2.1\n")
	want := []string{"127.0.0.53", "fe80::1%eth0", "192.0.2.1"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
