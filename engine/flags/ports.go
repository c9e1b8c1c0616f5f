package flags

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"

	"box/engine/network"
)

// ParsePorts reads -p specs ([hostIP:][hostPort:]containerPort[/proto],
// ports may be ranges) into the ports to publish. Host ports left out
// are 0: the engine picks free ones.
//
// -p specs are parsed here, not by docker/go-connections/nat, which
// parses the same grammar. Measured on the specs TestPortMalformed
// (commands/e2e) holds: nat words each mistake without the part and the
// fix ("invalid containerPort: 90-80" for a range that ends before it
// starts, "invalid IP address: 1:2" for "1:2:3:4", "no port specified:
// 8080:<empty>"), and it accepts what box cannot honour: sctp, host port
// 0, and a host port range for one container port (nothing in box picks
// one port of the range). The image's EXPOSE keys, where no user reads a
// message, go through nat (ExposedPorts).
func ParsePorts(specs []string) ([]network.Port, error) {
	var out []network.Port
	for _, s := range specs {
		ps, err := parsePortSpec(s)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid publish spec %q: %s", s, err)}
		}
		out = append(out, ps...)
	}
	return out, nil
}

// ExposedPorts are the ports of an image's EXPOSE list ("80/tcp",
// "8000-8010/udp"), in order, that -P publishes on host ports the engine
// picks. Ports box cannot publish (sctp) are left out.
func ExposedPorts(exposed map[string]struct{}) []network.Port {
	keys := make([]string, 0, len(exposed))
	for k := range exposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []network.Port
	for _, k := range keys {
		p := nat.Port(k)
		proto := p.Proto()
		lo, hi, err := p.Range()
		if err != nil || lo < 1 || proto != "tcp" && proto != "udp" {
			continue
		}
		for n := lo; n <= hi; n++ {
			out = append(out, network.Port{ContainerPort: n, Proto: proto})
		}
	}
	return out
}

// parsePortSpec reads one -p spec.
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
			// Also one container port with a host range, which Docker
			// takes as a range to pick one from: box picks none.
			return nil, fmt.Errorf("host port range %s and container port range %s differ in size", hostPart, ctrPart)
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

// ParseContainerPort reads `box port`'s PRIVATE_PORT[/PROTO] ("80",
// "80/udp"; tcp when no protocol is given) into a port with only
// ContainerPort and Proto set.
func ParseContainerPort(s string) (network.Port, error) {
	proto, port := nat.SplitProtoPort(s)
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return network.Port{}, &UsageError{Msg: fmt.Sprintf("invalid port %q: want PORT[/tcp|/udp]", s)}
	}
	return network.Port{ContainerPort: n, Proto: proto}, nil
}
