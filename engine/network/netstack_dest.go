package network

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// hostDestination is where the host connects for a container's
// connection to ip:port over proto: the gateway is the host's loopback,
// the nameserver address on port 53 the host's first nameserver, any
// other address itself. ok is false for addresses in the container's
// subnet that stand for nothing.
func hostDestination(ip string, port uint16, proto string, nameservers func() []string) (dst string, ok bool) {
	p := strconv.Itoa(int(port))
	switch {
	case ip == NetstackGateway:
		return net.JoinHostPort("127.0.0.1", p), true
	case ip == NetstackDNS:
		if port != 53 || proto != "udp" && proto != "tcp" {
			return "", false
		}
		return net.JoinHostPort(nameservers()[0], p), true
	}
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return "", false
	}
	subnet := net.IPNet{IP: net.ParseIP(NetstackGateway).To4(), Mask: net.CIDRMask(netstackPrefix, 32)}
	if subnet.Contains(parsed) || parsed.IsUnspecified() || parsed.IsMulticast() || parsed.Equal(net.IPv4bcast) {
		return "", false
	}
	return net.JoinHostPort(ip, p), true
}

// hostNameservers are the nameservers of the host's /etc/resolv.conf,
// read afresh for each flow so that a laptop changing networks is
// followed; 127.0.0.1 when it names none, as the C library assumes.
func hostNameservers() []string {
	data, _ := os.ReadFile("/etc/resolv.conf")
	if ns := parseNameservers(string(data)); len(ns) > 0 {
		return ns
	}
	return []string{"127.0.0.1"}
}

func parseNameservers(resolvConf string) []string {
	var out []string
	for _, line := range strings.Split(resolvConf, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			// A zone (fe80::1%eth0) the host can use as it is.
			if ip := net.ParseIP(strings.SplitN(f[1], "%", 2)[0]); ip != nil {
				out = append(out, f[1])
			}
		}
	}
	return out
}
