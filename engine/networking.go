package engine

import (
	"fmt"
	"net"
	"os"
	"strings"

	"box/engine/network"
	"box/engine/spec"
)

// networkPasta is the private network mode: the container's own network
// namespace, connected to the host's network by pasta.
const networkPasta = "pasta"

// NetworkBackend says how containers get their default network: "pasta"
// (a private network each) when pasta is installed and can open
// /dev/net/tun, else "host".
func NetworkBackend() string {
	if network.PastaPath() != "" && network.TunAccessible() {
		return networkPasta
	}
	return string(spec.NetworkHost)
}

// privateNetworkMissing is why there is no private network, for -p.
func privateNetworkMissing() error {
	if network.PastaPath() == "" {
		return &UsageError{Msg: network.ErrNoPasta.Error()}
	}
	if !network.TunAccessible() {
		return &UsageError{Msg: (&network.TunError{Msg: "cannot open /dev/net/tun"}).Error()}
	}
	return nil
}

// resolveNetwork turns --network into the mode box uses: the default
// (and Docker's "bridge") is a private network when pasta is installed,
// the host's otherwise. Publishing ports needs the private network.
func resolveNetwork(mode string, publishing bool) (string, error) {
	switch mode {
	case "", "default", "bridge", "private":
		mode = NetworkBackend()
		if mode != networkPasta && publishing {
			return "", privateNetworkMissing()
		}
	case networkPasta:
		if err := privateNetworkMissing(); err != nil {
			return "", err
		}
	case string(spec.NetworkHost), string(spec.NetworkNone):
		if publishing {
			return "", &UsageError{Msg: fmt.Sprintf("conflicting options: port publishing and the network mode %s", mode)}
		}
	default:
		if networkOwnerName(mode) != "" {
			if publishing {
				return "", &UsageError{Msg: "conflicting options: port publishing and the container type network mode"}
			}
			return mode, nil
		}
		return "", &UsageError{Msg: fmt.Sprintf("network %q not found: box supports the default (pasta), host, none and container:NAME", mode)}
	}
	return mode, nil
}

// specNetwork is the runtime spec's view of a network mode: the private
// network is a fresh namespace, set up by the monitor once it exists.
func specNetwork(mode string) spec.Network {
	if mode == networkPasta {
		return spec.NetworkNone
	}
	return spec.Network(mode)
}

// privateNameOptions points the container's names for the host at the
// gateway pasta maps to the host, and its DNS at pasta's forwarder when
// the host's nameservers are loopback addresses the container cannot
// reach.
func privateNameOptions(names *nameOptions) {
	gw := network.Gateway()
	if gw == "" {
		return
	}
	names.Gateway = gw
	if len(names.DNS) == 0 && hostNameserversLoopback() {
		names.DNSForward = gw
	}
}

func hostNameserversLoopback() bool {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return false
	}
	seen := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip := net.ParseIP(f[1])
			if ip == nil || !ip.IsLoopback() {
				return false
			}
			seen = true
		}
	}
	return seen
}

// networkHook is the monitor's set-up of rec's private network: started
// between the creation of the container's namespaces and its command, it
// runs pasta for the namespace, with the published ports. stop ends pasta
// (closing the ports) once the container has ended. Both are nil for
// containers without a private network.
func networkHook(rec *record) (hook func(pid int) error, stop func()) {
	if rec.NetworkMode != networkPasta {
		return nil, nil
	}
	var p *network.Pasta
	hook = func(pid int) error {
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			return fmt.Errorf("container network: %w", err)
		}
		defer ns.Close()
		p, err = network.StartPasta(network.Config{NetNS: ns, Ports: rec.Ports, DNSForward: rec.DNSForward})
		return err
	}
	stop = func() { p.Stop() }
	return hook, stop
}

// networkInfo is `box info`'s Network line: the default backend, and
// why it is not pasta when it is not.
func networkInfo() string {
	switch {
	case network.PastaPath() == "":
		return "host (default; install passt for a private network per container), none"
	case !network.TunAccessible():
		return "host (default; pasta cannot open /dev/net/tun: chmod 0666 /dev/net/tun), none"
	}
	return "pasta (default: a private network per container), host, none"
}
