package engine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
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

// parsePorts turns -p specs ([hostIP:][hostPort:]containerPort[/proto],
// ports may be ranges) and, with publishAll, the image's EXPOSE list
// into the ports to publish. Host ports left out are 0: chosen later.
func parsePorts(specs []string, publishAll bool, exposed map[string]struct{}) ([]network.Port, error) {
	var out []network.Port
	for _, s := range specs {
		ps, err := parsePortSpec(s)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid publish spec %q: %s", s, err)}
		}
		out = append(out, ps...)
	}
	if publishAll {
		keys := make([]string, 0, len(exposed))
		for k := range exposed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			port, proto, _ := strings.Cut(k, "/")
			if proto == "" {
				proto = "tcp"
			}
			lo, hi, err := parsePortRange(port)
			if err != nil || proto != "tcp" && proto != "udp" {
				continue // not one box can publish (sctp)
			}
			for p := lo; p <= hi; p++ {
				out = append(out, network.Port{ContainerPort: p, Proto: proto})
			}
		}
	}
	return out, nil
}

// parsePortSpec reads one -p spec. docker/go-connections/nat parses the
// same grammar, but it words every mistake as "Invalid containerPort: x"
// without the spec or what would be right, and it accepts a host range for
// one container port, which box cannot honour (nothing picks one port of
// the range): box keeps its own parser for messages that name the part
// and the fix (TestPortMalformed holds them).
func parsePortSpec(s string) ([]network.Port, error) {
	rest, proto := s, "tcp"
	if i := strings.LastIndex(s, "/"); i >= 0 {
		rest, proto = s[:i], s[i+1:]
		if proto != "tcp" && proto != "udp" {
			return nil, fmt.Errorf("protocol %q: box publishes tcp and udp", proto)
		}
	}
	var hostIP, hostPart, ctrPart string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return nil, errors.New("unclosed [ around the host IP")
		}
		hostIP, rest = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
		var ok bool
		if hostPart, ctrPart, ok = strings.Cut(rest, ":"); !ok {
			return nil, errors.New("want [hostIP]:hostPort:containerPort")
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPart = parts[0]
		case 2:
			hostPart, ctrPart = parts[0], parts[1]
		case 3:
			hostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
		default:
			return nil, errors.New("too many colons: want [hostIP:][hostPort:]containerPort[/tcp|/udp]")
		}
	}
	if hostIP != "" && net.ParseIP(hostIP) == nil {
		return nil, fmt.Errorf("host IP %q is not an IP address", hostIP)
	}
	if ctrPart == "" {
		return nil, errors.New("no container port")
	}
	clo, chi, err := parsePortRange(ctrPart)
	if err != nil {
		return nil, fmt.Errorf("container port %s", err)
	}
	hlo, hhi := 0, 0
	if hostPart != "" {
		if hlo, hhi, err = parsePortRange(hostPart); err != nil {
			return nil, fmt.Errorf("host port %s", err)
		}
		if hhi-hlo != chi-clo && hhi != hlo {
			return nil, fmt.Errorf("host port range %s and container port range %s differ in size", hostPart, ctrPart)
		}
		if hhi != hlo && chi == clo {
			// Docker: one container port, a host range to pick from.
			return nil, fmt.Errorf("host port range %s for one container port: box wants the same number of ports on both sides", hostPart)
		}
	}
	var out []network.Port
	for i := 0; i <= chi-clo; i++ {
		p := network.Port{HostIP: hostIP, ContainerPort: clo + i, Proto: proto}
		if hlo != 0 {
			p.HostPort = hlo + i
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePortRange reads "N" or "N-M" (1..65535, N <= M).
func parsePortRange(s string) (int, int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 1 || a > 65535 {
		return 0, 0, fmt.Errorf("%q is not a port number (1-65535)", lo)
	}
	if !isRange {
		return a, a, nil
	}
	b, err := strconv.Atoi(hi)
	if err != nil || b < 1 || b > 65535 {
		return 0, 0, fmt.Errorf("%q is not a port number (1-65535)", hi)
	}
	if b < a {
		return 0, 0, fmt.Errorf("range %q ends before it starts", s)
	}
	return a, b, nil
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

// Ports are the ports a running container publishes, those of
// containerPort ("80" or "80/udp") only when it is not empty.
func (e *Engine) Ports(nameOrID, containerPort string) ([]network.Port, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if c.State != Running {
		if containerPort != "" {
			return nil, &NoPublishedPortError{Container: nameOrID, Port: containerPort}
		}
		return nil, nil
	}
	if containerPort == "" {
		return c.Ports, nil
	}
	port, proto, _ := strings.Cut(containerPort, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return nil, &UsageError{Msg: fmt.Sprintf("invalid port %q: want PORT[/tcp|/udp]", containerPort)}
	}
	var out []network.Port
	for _, p := range c.Ports {
		if p.ContainerPort == n && p.Proto == proto {
			out = append(out, p)
		}
	}
	if out == nil {
		return nil, &NoPublishedPortError{Container: nameOrID, Port: port + "/" + proto}
	}
	return out, nil
}
