package engine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"box/engine/network"
	"box/engine/spec"
)

// The private network modes: the container's own network namespace,
// connected to the host's network by pasta, or by gVisor's user-mode
// network stack running in the container's monitor.
const (
	networkPasta    = "pasta"
	networkNetstack = "netstack"
)

// NetworkBackend says how containers get their default network, a
// private network each: "pasta" when pasta is installed and can open
// /dev/net/tun, else "netstack", which needs neither.
func NetworkBackend() string {
	if pastaMissing() == nil {
		return networkPasta
	}
	return networkNetstack
}

// isPrivate says whether mode is a network namespace of the
// container's own that box connects to the host.
func isPrivate(mode string) bool { return mode == networkPasta || mode == networkNetstack }

// pastaMissing is why pasta cannot serve a container, nil when it can.
func pastaMissing() error {
	if network.PastaPath() == "" {
		return usageOf(&network.NoPastaError{})
	}
	if !network.TunAccessible() {
		return usageOf(&network.TunError{Msg: "cannot open /dev/net/tun"})
	}
	return nil
}

// usageOf is err as a UsageError (exit 125, nothing made), keeping its hint.
func usageOf(err interface {
	error
	Hint() string
}) *UsageError {
	return &UsageError{Msg: err.Error(), Fix: err.Hint()}
}

// resolveNetwork turns --network into the mode box uses: the default
// (and Docker's "bridge") is a private network, pasta's when pasta is
// usable, netstack's otherwise. Publishing ports needs a private network.
func resolveNetwork(mode string, publishing bool) (string, error) {
	switch mode {
	case "", "default", "bridge", "private":
		mode = NetworkBackend()
	case networkPasta:
		if err := pastaMissing(); err != nil {
			return "", err
		}
	case networkNetstack:
	case string(spec.NetworkHost), string(spec.NetworkNone):
		// As Docker: published ports are discarded here, not refused.
	default:
		if networkOwnerName(mode) != "" {
			if publishing {
				return "", &UsageError{Msg: "conflicting options: port publishing and the container type network mode"}
			}
			return mode, nil
		}
		return "", &UsageError{Msg: fmt.Sprintf("network %q not found: box supports the default (pasta, or netstack without it), pasta, netstack, host, none and container:NAME", mode)}
	}
	return mode, nil
}

// Warnings are what Docker's daemon warns of when it creates a container
// with these options, each to be shown as "WARNING: ...".
func (o RunOptions) Warnings() []string {
	if o.Network == string(spec.NetworkHost) && len(o.Publish) > 0 {
		return []string{"Published ports are discarded when using host network mode"}
	}
	return nil
}

// specNetwork is the runtime spec's view of a network mode: the private
// network is a fresh namespace, set up by the monitor once it exists.
func specNetwork(mode string) spec.Network {
	if isPrivate(mode) || isUserNetworkMode(mode) {
		return spec.NetworkNone
	}
	return spec.Network(mode)
}

// privateNameOptions points the container's names for the host at the
// gateway its network maps to the host. With pasta, its DNS goes to
// pasta's forwarder when the host's nameservers are loopback addresses
// the container cannot reach. With netstack, always to the stack's
// nameserver, which forwards to the host's nameservers of the moment.
func privateNameOptions(mode string, names *nameOptions) {
	if mode == networkNetstack {
		names.Gateway = network.NetstackGateway
		if len(names.DNS) == 0 {
			names.DNSForward = network.NetstackDNS
		}
		return
	}
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

// networkHook is the monitor's set-up of rec's private network: hook,
// given the pid of a process in the container's network namespace (the
// holder the container will join), starts pasta for the namespace, or
// the netstack in this process, with the published ports;
// ready, run before the container's command starts, waits until pasta
// has configured the namespace (it works meanwhile); stop ends either
// (closing the ports and every connection) once the container has ended.
// All are nil for containers without a private network.
func networkHook(rec *record) (hook func(pid int) error, ready func() error, stop func()) {
	if !isPrivate(rec.NetworkMode) {
		return nil, nil, nil
	}
	var p *network.Pasta
	var n *network.Netstack
	hook = func(pid int) error {
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			return fmt.Errorf("container network: %w", err)
		}
		defer ns.Close()
		cfg := network.Config{NetNS: ns, Ports: rec.Ports, DNSForward: rec.DNSForward}
		if rec.NetworkMode == networkNetstack {
			n, err = network.StartNetstack(cfg)
			var pe *network.PortError
			if errors.As(err, &pe) && errors.Is(err, syscall.EADDRINUSE) {
				return &PortInUseError{Port: pe.Port}
			}
			return err
		}
		// pasta configures the namespace while the container's root is
		// set up; ready waits for it.
		p, err = network.SpawnPasta(cfg)
		return err
	}
	ready = func() error {
		if p == nil {
			return nil
		}
		return p.Ready()
	}
	stop = func() {
		p.Stop()
		n.Stop()
	}
	return hook, ready, stop
}

// networkInfo is `box info`'s Network line: the default backend, and
// why it is not pasta when it is not.
func networkInfo() string {
	switch {
	case network.PastaPath() == "":
		return "netstack (default: a private network per container, served by box; install passt for pasta, which is faster), host, none"
	case !network.TunAccessible():
		return "netstack (default: a private network per container, served by box; pasta cannot open /dev/net/tun: chmod 0666 /dev/net/tun), host, none"
	}
	return "pasta (default: a private network per container), netstack, host, none"
}
