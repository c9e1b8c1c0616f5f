package usernet

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	stdbits "math/bits"
	"net"
	"net/netip"
	"os"
	"strings"

	"box/engine/network"
	"box/engine/spec"
)

// Address management of user networks: IPv4 only. A network's subnet is
// the user's or the first free 10.89.N.0/24 (Podman's range for its own
// networks) that overlaps neither another network nor a route or address
// of the host; its gateway is the subnet's first address unless given;
// containers get the lowest free address of the ip-range (the subnet
// without it), which stays theirs until they leave the network.

// defaultPoolBase is where automatically chosen subnets start.
var defaultPoolBase = netip.MustParseAddr("10.89.0.0")

// parseSubnet reads a --subnet: IPv4 CIDR, its host bits zero, with room
// for a gateway and at least one container.
func parseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, &spec.UsageError{Msg: fmt.Sprintf("invalid subnet %q: want CIDR notation such as 10.89.7.0/24", s)}
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, &spec.UsageError{Msg: fmt.Sprintf("invalid subnet %s: box's networks are IPv4 only", s)}
	}
	if p.Masked() != p {
		return netip.Prefix{}, &spec.UsageError{Msg: fmt.Sprintf("invalid subnet %s: it should be %s", s, p.Masked())}
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, &spec.UsageError{Msg: fmt.Sprintf("invalid subnet %s: too small for a gateway and a container (at most /30)", s)}
	}
	return p, nil
}

// broadcast is the last address of p.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// hostAddress says whether a is an address of p other than its network
// and broadcast addresses.
func hostAddress(p netip.Prefix, a netip.Addr) bool {
	return p.Contains(a) && a != p.Masked().Addr() && a != broadcast(p)
}

// AddressPlan is a network's checked address plan.
type AddressPlan struct {
	Subnet, IPRange netip.Prefix
	Gateway         netip.Addr
}

// PlanAddresses checks --subnet, --gateway and --ip-range against each
// other and against the subnets already in use (taken), choosing a
// subnet when none is given.
func PlanAddresses(subnet, gateway, ipRange string, taken []netip.Prefix) (AddressPlan, error) {
	var c AddressPlan
	if subnet == "" {
		if gateway != "" || ipRange != "" {
			return c, &spec.UsageError{Msg: "every ip-range or gateway must have a corresponding subnet"}
		}
		p, ok := freeSubnet(taken)
		if !ok {
			return c, &spec.UsageError{Msg: "no free subnet in 10.89.0.0/16 for the network: give one with --subnet"}
		}
		c.Subnet = p
	} else {
		p, err := parseSubnet(subnet)
		if err != nil {
			return c, err
		}
		for _, t := range taken {
			if t.Overlaps(p) {
				return c, &spec.UsageError{Msg: fmt.Sprintf("invalid pool request: pool %s overlaps with %s, which is in use", p, t)}
			}
		}
		c.Subnet = p
	}
	if gateway != "" {
		g, err := netip.ParseAddr(gateway)
		if err != nil || !g.Is4() {
			return c, &spec.UsageError{Msg: fmt.Sprintf("invalid gateway %q: want an IPv4 address", gateway)}
		}
		if !hostAddress(c.Subnet, g) {
			return c, &spec.UsageError{Msg: fmt.Sprintf("no matching subnet for gateway %s", gateway)}
		}
		c.Gateway = g
	} else {
		c.Gateway = c.Subnet.Masked().Addr().Next()
	}
	if ipRange != "" {
		r, err := netip.ParsePrefix(ipRange)
		if err != nil || !r.Addr().Is4() || r.Masked() != r {
			return c, &spec.UsageError{Msg: fmt.Sprintf("invalid ip-range %q: want IPv4 CIDR notation with its host bits zero", ipRange)}
		}
		if !c.Subnet.Contains(r.Addr()) || r.Bits() < c.Subnet.Bits() {
			return c, &spec.UsageError{Msg: fmt.Sprintf("no matching subnet for range %s", ipRange)}
		}
		c.IPRange = r
	}
	return c, nil
}

// freeSubnet is the first 10.89.N.0/24 that overlaps nothing in taken.
func freeSubnet(taken []netip.Prefix) (netip.Prefix, bool) {
	base := defaultPoolBase.As4()
	for n := 0; n < 256; n++ {
		base[2] = byte(n)
		p := netip.PrefixFrom(netip.AddrFrom4(base), 24)
		free := true
		for _, t := range taken {
			if t.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// HostPrefixes are the host's routes (but its default route) and the
// networks of its addresses: a new network must not hide them.
func HostPrefixes() []netip.Prefix {
	var out []netip.Prefix
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				out = append(out, p.Masked())
			}
		}
	}
	// This thread's routes, not /proc/net's: that is the main thread's,
	// which may have been left in another namespace (see
	// network.Gateway).
	f, err := os.Open("/proc/thread-self/net/route")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := parseRouteLine(sc.Text()); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseRouteLine reads one line of /proc/net/route: destination and
// mask in hexadecimal, in the kernel's (little-endian) byte order. The
// header and the default route give nothing.
func parseRouteLine(line string) (netip.Prefix, bool) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return netip.Prefix{}, false
	}
	dst, err1 := hex.DecodeString(f[1])
	mask, err2 := hex.DecodeString(f[7])
	if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
		return netip.Prefix{}, false
	}
	// The kernel prints each address as its host-order number: the
	// bytes come reversed (on the little-endian machines box runs on).
	d := [4]byte{dst[3], dst[2], dst[1], dst[0]}
	m := [4]byte{mask[3], mask[2], mask[1], mask[0]}
	bits := stdbits.LeadingZeros32(^binary.BigEndian.Uint32(m[:]))
	if bits == 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(netip.AddrFrom4(d), bits).Masked(), true
}

// pool is where n hands out addresses from.
func (c AddressPlan) pool() netip.Prefix {
	if c.IPRange.IsValid() {
		return c.IPRange
	}
	return c.Subnet
}

// ipamOf is n's address plan, as its record keeps it.
func ipamOf(n *Network) (AddressPlan, error) {
	var c AddressPlan
	var err error
	if c.Subnet, err = netip.ParsePrefix(n.Subnet); err != nil {
		return c, fmt.Errorf("network %s: subnet: %w", n.Name, err)
	}
	if c.Gateway, err = netip.ParseAddr(n.Gateway); err != nil {
		return c, fmt.Errorf("network %s: gateway: %w", n.Name, err)
	}
	if n.IPRange != "" {
		if c.IPRange, err = netip.ParsePrefix(n.IPRange); err != nil {
			return c, fmt.Errorf("network %s: ip-range: %w", n.Name, err)
		}
	}
	return c, nil
}

// allocate picks an address of n for a container: want (--ip) when
// given and free, else the lowest free one of the pool. used are the
// addresses taken by n's other endpoints.
func allocate(n *Network, want string, used map[netip.Addr]bool) (netip.Addr, error) {
	c, err := ipamOf(n)
	if err != nil {
		return netip.Addr{}, err
	}
	if want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !a.Is4() {
			return netip.Addr{}, &spec.UsageError{Msg: fmt.Sprintf("invalid IPv4 address: %s", want)}
		}
		if !hostAddress(c.Subnet, a) {
			return netip.Addr{}, &spec.UsageError{Msg: fmt.Sprintf("invalid address %s: it does not belong to any of network %s's subnets (%s)", a, n.Name, c.Subnet)}
		}
		if a == c.Gateway || used[a] {
			return netip.Addr{}, &spec.UsageError{Msg: fmt.Sprintf("address %s is already in use on network %s", a, n.Name)}
		}
		return a, nil
	}
	p := c.pool()
	for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
		if hostAddress(c.Subnet, a) && a != c.Gateway && !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, &spec.UsageError{Msg: fmt.Sprintf("no available IPv4 addresses on this network's address pools: %s (%s)", n.Name, n.ID)}
}

// macOf is the MAC address of a container's interface with address a.
func macOf(a netip.Addr) string { return network.MACFor(a).String() }
