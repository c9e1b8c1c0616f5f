package network

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The netstack network's addresses, those slirp4netns gives containers
// too: the container's own, the gateway that stands for the host's
// loopback, and the nameserver that forwards to the host's resolvers.
const (
	netstackPrefix = 24
	// NetstackAddr is the container's address on its netstack network.
	NetstackAddr = "10.0.2.100"
	// NetstackGateway is the container's default gateway on its netstack
	// network; connections to it reach the host's 127.0.0.1.
	NetstackGateway = "10.0.2.2"
	// NetstackDNS is the nameserver of a container on the netstack
	// network, which forwards queries to the host's nameservers.
	NetstackDNS = "10.0.2.3"
	// userspaceMTU is the MTU of the links a userspace stack (netstack,
	// pasta) carries out: the fewer packets it handles, the faster it
	// goes. It is pasta's own, and a bridge's unless its network sets
	// one: at Docker's 1500, a container's download from the host through
	// the holder's pasta ran at 64-75 MB/s here, against 270-595 MB/s.
	userspaceMTU = 65520
)

// packetLink is the host side of a container's netstack link: an
// AF_PACKET socket on the peer of the container's eth0, in a network
// namespace of its own.
type packetLink struct {
	fd  int
	mac net.HardwareAddr
}

// attachLink gives the network namespace ctrNS an eth0 (with lo, the
// address, the route and the MTU set) whose other end is a veth in a
// fresh network namespace that nothing but the returned socket holds:
// when the container's namespace goes, the veth pair goes, and the
// socket stops. The caller closes the socket.
//
// Why veth and AF_PACKET rather than a tap device: /dev/net/tun is often
// 0600 (machines without udev), which is where pasta cannot run either;
// veth needs only CAP_NET_ADMIN in the namespaces, which box's monitor
// has (root in its user namespace). gVisor's runsc attaches its netstack
// to a veth the same way.
func attachLink(ctrNS *os.File) (*packetLink, error) {
	type result struct {
		link *packetLink
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// This thread moves to a network namespace of its own and is
		// never unlocked: the runtime ends it with the goroutine rather
		// than give the namespace to other goroutines.
		runtime.LockOSThread()
		l, err := attachLinkOnThread(ctrNS)
		done <- result{l, err}
	}()
	r := <-done
	if r.err != nil {
		return nil, fmt.Errorf("netstack: %w", r.err)
	}
	return r.link, nil
}

func attachLinkOnThread(ctrNS *os.File) (*packetLink, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("new network namespace: %w", err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "veth0", MTU: userspaceMTU},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsFd(int(ctrNS.Fd())),
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("add veth pair: %w", err)
	}
	peer, err := h.LinkByName("veth0")
	if err != nil {
		return nil, err
	}
	if err := h.LinkSetUp(peer); err != nil {
		return nil, fmt.Errorf("veth0 up: %w", err)
	}
	if err := configureContainer(ctrNS); err != nil {
		return nil, err
	}

	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: peer.Attrs().Index}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind packet socket to veth0: %w", err)
	}
	return &packetLink{fd: fd, mac: peer.Attrs().HardwareAddr}, nil
}

// configureContainer sets up lo and eth0 in the container's namespace.
func configureContainer(ctrNS *os.File) error {
	h, err := handleAt(ctrNS)
	if err != nil {
		return fmt.Errorf("enter the container's network namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	addr := &net.IPNet{IP: net.ParseIP(NetstackAddr).To4(), Mask: net.CIDRMask(netstackPrefix, 32)}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: addr}); err != nil {
		return fmt.Errorf("eth0 address: %w", err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("eth0 up: %w", err)
	}
	gw := net.ParseIP(NetstackGateway).To4()
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw}); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
