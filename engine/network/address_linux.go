package network

import (
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
)

// Address is how a container's own namespace is addressed on its one
// interface other than loopback, as the driver configured it: pasta
// copies the host's address, netstack gives a fixed one.
type Address struct {
	IP        string `json:"ip"`
	PrefixLen int    `json:"prefix_len"`
	Gateway   string `json:"gateway,omitempty"`
	MAC       string `json:"mac,omitempty"`
}

// NamespaceAddress reads the IPv4 address, prefix length, MAC and
// default gateway of the interface of the network namespace ns (an open
// /proc/PID/ns/net); zero values where there is none.
func NamespaceAddress(ns *os.File) (Address, error) {
	h, err := handleAt(ns)
	if err != nil {
		return Address{}, fmt.Errorf("container address: %w", err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return Address{}, fmt.Errorf("container address: %w", err)
	}
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback != 0 {
			continue
		}
		var a Address
		if mac := l.Attrs().HardwareAddr; len(mac) > 0 {
			a.MAC = mac.String()
		}
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		if err != nil || len(addrs) == 0 {
			continue
		}
		a.IP = addrs[0].IP.String()
		a.PrefixLen, _ = addrs[0].Mask.Size()
		if routes, err := h.RouteList(l, netlink.FAMILY_V4); err == nil {
			for _, r := range routes {
				if r.Gw != nil && (r.Dst == nil || r.Dst.IP.IsUnspecified()) {
					a.Gateway = r.Gw.String()
					break
				}
			}
		}
		return a, nil
	}
	return Address{}, nil
}
