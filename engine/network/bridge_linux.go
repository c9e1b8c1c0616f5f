package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A user network is a Linux bridge in the shared network namespace of
// the user's networks (see engine/usernet_holder.go for who holds it),
// its gateway address on the bridge; each container's own namespace is
// attached by a veth pair: one end a port of the bridge, the other the
// container's eth0 (eth1, ... for further networks), with an address
// of the subnet and, for its first network, the default route via the
// gateway. Everything here works through netlink handles opened on the
// namespaces' files, never by moving the calling thread.

// Bridge describes one user network's bridge.
type Bridge struct {
	// Name is the interface's (at most 15 bytes: br-<12 digits of the id>).
	Name string
	// Gateway is the bridge's address in the subnet, with its length.
	Gateway netip.Prefix
	// MTU is the bridge's, and so its ports' (0: userspaceMTU).
	MTU int
}

// Endpoint is one container's attachment to a bridge.
type Endpoint struct {
	// HostIf names the bridge's end of the veth pair, in the shared
	// namespace (at most 15 bytes).
	HostIf string
	// IfName is the container's end (eth0, eth1, ...).
	IfName string
	// Addr is the container's address with the subnet's length.
	Addr netip.Prefix
	MAC  net.HardwareAddr
	// Gateway, when valid, becomes the container's default route.
	Gateway netip.Addr
}

// MACFor is the MAC address of an interface with address a, made from it
// as Docker makes its own: 02:42 and the address's four bytes. Addresses
// are unique on a bridge, so are these, and a container that gets an
// address again gets the MAC its peers' ARP caches remember.
func MACFor(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// handleAt opens a netlink handle in the network namespace ns. The
// library makes its socket by setns()ing a thread there and back; rootless,
// the way back to the host's namespace (owned by the initial user
// namespace) is refused, and the thread, returned to Go's pool, would
// leave later work there: a child box then started from it saw the
// container's routes (host.containers.internal written as the bridge's
// gateway, fresh-clone run 4). So the socket is made on a thread of its
// own that stays locked and ends with its goroutine; the socket keeps
// working from any thread.
func handleAt(ns *os.File) (*netlink.Handle, error) {
	type result struct {
		h   *netlink.Handle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		h, err := netlink.NewHandleAt(netns.NsHandle(int(ns.Fd())), unix.NETLINK_ROUTE)
		done <- result{h, err}
	}()
	r := <-done
	return r.h, r.err
}

func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().As4()
	return &net.IPNet{IP: net.IP(a[:]), Mask: net.CIDRMask(p.Bits(), 32)}
}

// EnsureBridge makes b in the namespace shared, up and with its gateway
// address, unless it exists already; it is idempotent.
func EnsureBridge(shared *os.File, b Bridge) error {
	if b.MTU == 0 {
		b.MTU = userspaceMTU
	}
	h, err := handleAt(shared)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", b.Name, err)
	}
	defer h.Close()
	if lo, err := h.LinkByName("lo"); err == nil {
		_ = h.LinkSetUp(lo)
	}
	// A bridge whose address nobody set takes the lowest of its ports'
	// addresses, so it changed as containers came and went: every peer's
	// ARP entry for the gateway (its name server) went stale, and names
	// stopped resolving for seconds after a container started. Set, the
	// address stays; it is derived from the gateway's IP as containers'
	// are from theirs.
	mac := MACFor(b.Gateway.Addr())
	link, err := h.LinkByName(b.Name)
	if err != nil {
		la := netlink.NewLinkAttrs()
		la.Name = b.Name
		la.HardwareAddr = mac
		la.MTU = b.MTU
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("bridge %s: %w", b.Name, err)
		}
		if link, err = h.LinkByName(b.Name); err != nil {
			return fmt.Errorf("bridge %s: %w", b.Name, err)
		}
	}
	if link.Attrs().MTU != b.MTU {
		if err := h.LinkSetMTU(link, b.MTU); err != nil {
			return fmt.Errorf("bridge %s mtu %d: %w", b.Name, b.MTU, err)
		}
	}
	if link.Attrs().HardwareAddr.String() != mac.String() {
		if err := h.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("bridge %s address: %w", b.Name, err)
		}
	}
	if err := h.AddrReplace(link, &netlink.Addr{IPNet: ipNet(b.Gateway)}); err != nil {
		return fmt.Errorf("bridge %s address: %w", b.Name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bridge %s up: %w", b.Name, err)
	}
	return nil
}

// RemoveBridge deletes the bridge named name from shared, if it is there.
func RemoveBridge(shared *os.File, name string) error {
	h, err := handleAt(shared)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return nil
	}
	return h.LinkDel(link)
}

// Attach joins the container's namespace ctr to bridge in shared by a
// veth pair as ep describes. On failure nothing of the pair is left.
func Attach(shared, ctr *os.File, bridge string, ep Endpoint) (err error) {
	h, err := handleAt(shared)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", bridge, err)
	}
	defer h.Close()
	br, err := h.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", bridge, err)
	}
	la := netlink.NewLinkAttrs()
	la.Name = ep.HostIf
	la.MasterIndex = br.Attrs().Index
	la.MTU = br.Attrs().MTU
	peer := "c" + ep.HostIf[1:]
	veth := &netlink.Veth{LinkAttrs: la, PeerName: peer, PeerHardwareAddr: ep.MAC, PeerNamespace: netlink.NsFd(int(ctr.Fd()))}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("attach to %s: veth: %w", bridge, err)
	}
	defer func() {
		if err != nil {
			if l, e := h.LinkByName(ep.HostIf); e == nil {
				_ = h.LinkDel(l)
			}
		}
	}()
	host, err := h.LinkByName(ep.HostIf)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", bridge, err)
	}
	if err := h.LinkSetUp(host); err != nil {
		return fmt.Errorf("attach to %s: %s up: %w", bridge, ep.HostIf, err)
	}
	c, err := handleAt(ctr)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", bridge, err)
	}
	defer c.Close()
	if lo, err := c.LinkByName("lo"); err == nil {
		_ = c.LinkSetUp(lo)
	}
	in, err := c.LinkByName(peer)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", bridge, err)
	}
	if err := c.LinkSetName(in, ep.IfName); err != nil {
		return fmt.Errorf("attach to %s: name %s: %w", bridge, ep.IfName, err)
	}
	if err := c.AddrAdd(in, &netlink.Addr{IPNet: ipNet(ep.Addr)}); err != nil {
		return fmt.Errorf("attach to %s: address: %w", bridge, err)
	}
	if err := c.LinkSetUp(in); err != nil {
		return fmt.Errorf("attach to %s: %s up: %w", bridge, ep.IfName, err)
	}
	if ep.Gateway.IsValid() {
		g := ep.Gateway.As4()
		if err := c.RouteAdd(&netlink.Route{LinkIndex: in.Attrs().Index, Gw: net.IP(g[:])}); err != nil {
			return fmt.Errorf("attach to %s: default route: %w", bridge, err)
		}
	}
	return nil
}

// Detach removes the veth pair whose bridge end is hostIf from shared
// (its other end goes with it); a pair already gone is not an error.
func Detach(shared *os.File, hostIf string) error {
	h, err := handleAt(shared)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(hostIf)
	if err != nil {
		return nil
	}
	return h.LinkDel(l)
}

// SetDefaultRoute points the default route of namespace ctr at gw
// through its interface ifName, replacing any there is.
func SetDefaultRoute(ctr *os.File, ifName string, gw netip.Addr) error {
	c, err := handleAt(ctr)
	if err != nil {
		return err
	}
	defer c.Close()
	in, err := c.LinkByName(ifName)
	if err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	g := gw.As4()
	if err := c.RouteReplace(&netlink.Route{LinkIndex: in.Attrs().Index, Gw: net.IP(g[:])}); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}
