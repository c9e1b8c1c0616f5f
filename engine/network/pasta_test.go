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

// TestUnboundPort: pasta's message for a port it could not bind, in
// Debian 12's wording and in later passt's, names the published port.
func TestUnboundPort(t *testing.T) {
	ports := []Port{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Proto: "udp"},
	}
	for _, c := range []struct {
		msg  string
		want int // the container port, 0 for none
	}{
		{"Failed to bind any port for '-t 8080:80', exiting", 80},
		{"Failed to bind port 5353 (Address already in use) for option '-u 127.0.0.1/5353:53', exiting", 53},
		{"Failed to bind any port for '-t 8081:80', exiting", 0},
		{"Couldn't open network namespace /proc/self/fd/3", 0},
	} {
		p, ok := unboundPort(c.msg, ports)
		if got := map[bool]int{true: p.ContainerPort}[ok]; got != c.want {
			t.Errorf("unboundPort(%q) = %v, %v; want container port %d", c.msg, p, ok, c.want)
		}
	}
}
