package engine

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"box/engine/flags"
	"box/engine/network"
	"box/engine/spec"
)

// The private network modes, the network drivers' names: the
// container's own network namespace, connected to the host's network
// by pasta, or by gVisor's user-mode network stack running in the
// container's monitor (see network.Driver).
const (
	networkPasta    = "pasta"
	networkNetstack = "netstack"
)

// NetworkBackend says how containers get their default network:
// "pasta" when pasta is installed and can open /dev/net/tun (the default
// bridge in the network holder's namespace then, which one pasta joins to
// the outside; a build's RUN step has a pasta of its own), else
// "netstack", which needs neither, a private network per container.
func NetworkBackend() string { return network.Default().Name() }

// isPrivate says whether mode is a network namespace of the
// container's own that a network driver connects to the host.
func isPrivate(mode string) bool {
	_, ok := network.Lookup(mode)
	return ok
}

// pastaMissing is why pasta cannot serve a container, nil when it can.
func pastaMissing() error {
	d, _ := network.Lookup(networkPasta)
	return unusable(d)
}

// unusable is why d cannot serve a container, as a UsageError with the
// driver's hint; nil when it can.
func unusable(d network.Driver) error {
	err := d.Usable()
	var h interface {
		error
		Hint() string
	}
	if errors.As(err, &h) {
		return usageOf(h)
	}
	return err
}

// usageOf is err as a UsageError (exit 125, nothing made), keeping its hint.
func usageOf(err interface {
	error
	Hint() string
}) *UsageError {
	return &UsageError{Msg: err.Error(), Fix: err.Hint()}
}

// resolveNetwork turns --network into the network box uses, for what
// is not on the holder's networks (userNetworksOf): the default (Docker's
// "bridge") is then a private network, pasta's for a build's RUN step,
// netstack's where pasta cannot run.
func resolveNetwork(n flags.Network, publishing bool) (flags.Network, error) {
	switch n.Mode {
	case flags.NetworkDefault:
		return flags.NamedNetwork(NetworkBackend()), nil
	case flags.NetworkHost, flags.NetworkNone:
		// As Docker: published ports are discarded here, not refused.
		return n, nil
	case flags.NetworkContainer:
		if publishing {
			return n, &UsageError{Msg: "conflicting options: port publishing and the container type network mode"}
		}
		return n, nil
	}
	if d, ok := network.Lookup(n.Name); ok {
		if err := unusable(d); err != nil {
			return n, err
		}
		return n, nil
	}
	return n, &UsageError{Msg: fmt.Sprintf("network %q not found: box supports the default (pasta, or netstack without it), pasta, netstack, host, none and container:NAME", n.Name)}
}

// Warnings are what Docker's daemon warns of when it creates a container
// with these options, each to be shown as "WARNING: ...".
func (o RunOptions) Warnings() []string {
	if o.Network.Mode == flags.NetworkHost && len(o.Publish) > 0 {
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
// gateway its network's driver maps to the host, and, without --dns,
// its nameserver at the driver's forwarder when it has one (pasta's
// when the host's nameservers are loopback addresses the container
// cannot reach; netstack's always).
func privateNameOptions(mode string, names *nameOptions) {
	d, ok := network.Lookup(mode)
	if !ok {
		return
	}
	if gw := d.Gateway(); gw != "" {
		names.Gateway = gw
	}
	if len(names.DNS) == 0 {
		if fwd := d.DNSForward(); fwd != "" {
			names.DNSForward = fwd
		}
	}
}

// networkHook is the monitor's set-up of rec's private network: hook,
// given the pid of a process in the container's network namespace (the
// holder the container will join), attaches the namespace to its
// driver with the published ports; ready, run before the container's
// command starts, waits until the driver has configured the namespace
// (pasta works meanwhile, while the container's root is set up); stop
// ends it (closing the ports and every connection) once the container
// has ended. All are nil for containers without a private network.
func networkHook(rec *record) (hook func(pid int) error, ready func() error, stop func()) {
	d, ok := network.Lookup(rec.NetworkMode)
	if !ok {
		return nil, nil, nil
	}
	var a network.Attachment
	var nsPath string
	hook = func(pid int) error {
		nsPath = fmt.Sprintf("/proc/%d/ns/net", pid)
		ns, err := os.Open(nsPath)
		if err != nil {
			return fmt.Errorf("container network: %w", err)
		}
		defer ns.Close()
		a, err = d.Attach(network.Config{NetNS: ns, Ports: rec.Ports, DNSForward: rec.DNSForward})
		return portInUse(err)
	}
	ready = func() error {
		if a == nil {
			return nil
		}
		if err := a.Ready(); err != nil {
			return portInUse(err)
		}
		// What the driver gave the namespace, for inspect (saved with
		// the start); the container runs without it should it fail.
		rec.Address = nil
		if ns, err := os.Open(nsPath); err == nil {
			if addr, err := network.NamespaceAddress(ns); err == nil {
				rec.Address = &addr
			}
			ns.Close()
		}
		return nil
	}
	stop = func() {
		if a != nil {
			a.Stop()
		}
	}
	return hook, ready, stop
}

// portInUse is err as a *PortInUseError when it is a published port
// that another process holds.
func portInUse(err error) error {
	var pe *network.PortError
	if errors.As(err, &pe) && errors.Is(err, syscall.EADDRINUSE) {
		return &PortInUseError{Port: pe.Port}
	}
	return err
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
	return "bridge (default: one bridge for all containers, joined to the host by one pasta), pasta (a private network per container), netstack, host, none"
}
