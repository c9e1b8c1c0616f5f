package network

import "testing"

func TestIPv4Only(t *testing.T) {
	for _, c := range []struct {
		gateway, resolv string
		want            bool
	}{
		{"192.0.2.1", "nameserver 10.0.0.1\n", true},
		{"192.0.2.1", "nameserver 2001:db8::1\nnameserver 10.0.0.1\n", true},
		{"192.0.2.1", "", true},
		{"192.0.2.1", "nameserver 2001:db8::1\nnameserver fe80::1%eth0\n", false},
		{"", "nameserver 10.0.0.1\n", false},
	} {
		if got := ipv4Only(c.gateway, c.resolv); got != c.want {
			t.Errorf("ipv4Only(%q, %q) = %v, want %v", c.gateway, c.resolv, got, c.want)
		}
	}
}
