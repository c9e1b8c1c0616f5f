package engine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"box/engine/network"
)

// PortInUseError is a host port that another process holds.
type PortInUseError struct{ Port network.Port }

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("publish %s: host port %d is already in use; choose another host port", e.Port, e.Port.HostPort)
}

// claimHostPorts picks a free host port for each port that has none and
// checks that the others are free, by binding each briefly: a taken port
// fails the run here, before anything is made. rootless says whether
// ports below the unprivileged start need a hint.
func claimHostPorts(ports []network.Port, rootless bool) error {
	for i := range ports {
		p := &ports[i]
		addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
		var err error
		var got int
		if p.Proto == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp", addr); err == nil {
				got = c.LocalAddr().(*net.UDPAddr).Port
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp", addr); err == nil {
				got = l.Addr().(*net.TCPAddr).Port
				l.Close()
			}
		}
		switch {
		case err == nil:
			p.HostPort = got
		case errors.Is(err, syscall.EADDRINUSE):
			return &PortInUseError{Port: *p}
		case errors.Is(err, syscall.EACCES) && rootless:
			return &UsageError{Msg: fmt.Sprintf("publish %s: a rootless user cannot bind host port %d; allow it with `sysctl net.ipv4.ip_unprivileged_port_start=%d` (as root) or publish a port above %d",
				p, p.HostPort, p.HostPort, unprivilegedPortStart()-1)}
		default:
			return fmt.Errorf("publish %s: %w", p, err)
		}
	}
	return nil
}

func unprivilegedPortStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1024
	}
	return n
}

// NoPublishedPortError is `box port CTR PORT` for a port not published.
type NoPublishedPortError struct{ Container, Port string }

func (e *NoPublishedPortError) Error() string {
	return fmt.Sprintf("No public port '%s' published for %s", e.Port, e.Container)
}

// Ports are the ports a running container publishes; when
// only.ContainerPort is set, those of that port and protocol only.
func (e *Engine) Ports(nameOrID string, only network.Port) ([]network.Port, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if only.ContainerPort == 0 {
		if c.State != Running {
			return nil, nil
		}
		return c.Ports, nil
	}
	var out []network.Port
	if c.State == Running {
		for _, p := range c.Ports {
			if p.ContainerPort == only.ContainerPort && p.Proto == only.Proto {
				out = append(out, p)
			}
		}
	}
	if out == nil {
		return nil, &NoPublishedPortError{Container: nameOrID, Port: fmt.Sprintf("%d/%s", only.ContainerPort, only.Proto)}
	}
	return out, nil
}
