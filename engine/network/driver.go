package network

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// A Driver connects a container's own network namespace to the host's
// network: it owns what serves the namespace (a pasta process, or
// gVisor's netstack in the calling monitor), the namespace's interface
// and addresses, and the container's published ports on the host. Two
// drivers exist, chosen by --network: "pasta" and "netstack". The
// engine asks a driver for three things: whether it can serve this
// process (Usable), the addresses by which the container reaches the
// host (Gateway, DNSForward), and, in the monitor, to attach one
// container's namespace (Attach) until Stop.
//
// User-defined networks (docker network create) are the third shape,
// not a Driver: their containers are attached to a bridge in a shared
// namespace that a holder process connects to the host once, with
// pasta (engine/usernet*.go, bridge_linux.go here). A driver serves one
// namespace per container; the bridge serves many.
type Driver interface {
	// Name is the driver's --network name, as the container's record
	// and inspect's NetworkMode keep it.
	Name() string
	// Usable is why the driver cannot serve containers of this process,
	// nil when it can; the error has a Hint saying what to do.
	Usable() error
	// Gateway is the address by which a container reaches the host's
	// loopback, "" when there is none (a host without a default route).
	Gateway() string
	// DNSForward is the nameserver to give a container without --dns in
	// place of the host's, the driver forwarding its queries to them; ""
	// when the host's own nameservers will do.
	DNSForward() string
	// Attach connects cfg.NetNS to the host's network and publishes
	// cfg.Ports. It may return before the namespace is ready; the caller
	// calls Ready before the container's command starts, and Stop once
	// the container has ended (or when Ready fails). A host port that
	// cannot be bound is a *PortError, from Attach or Ready.
	Attach(cfg Config) (Attachment, error)
}

// Attachment is one namespace served by a driver.
type Attachment interface {
	// Ready waits until the namespace is configured and the published
	// ports are bound; when it fails, nothing of the attachment runs.
	Ready() error
	// Stop closes the published ports and every connection, and ends
	// what serves the namespace; it is idempotent.
	Stop()
}

// PortError is a published port that the host refused to bind, as
// every driver reports it.
type PortError struct {
	Port Port
	Err  error
}

func (e *PortError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("publish %s: host port %d is already in use; choose another host port", e.Port, e.Port.HostPort)
	}
	return fmt.Sprintf("publish %s: %v", e.Port, e.Err)
}

func (e *PortError) Unwrap() error { return e.Err }

func portError(p Port, err error) error { return &PortError{Port: p, Err: err} }

// Config is what a driver is to set up for a container.
type Config struct {
	// NetNS is the container's network namespace, an open file (e.g.
	// /proc/PID/ns/net); the caller may close it once Attach returns.
	NetNS *os.File
	Ports []Port
	// DNSForward is the driver's DNSForward when the container uses it
	// (it has no --dns of its own), else "".
	DNSForward string
}

// The drivers, in order of preference.
var drivers = []Driver{pastaDriver{}, netstackDriver{}}

// Lookup is the driver called name; ok is false for any other name
// (host, none, a user network, container:NAME).
func Lookup(name string) (d Driver, ok bool) {
	for _, d := range drivers {
		if d.Name() == name {
			return d, true
		}
	}
	return nil, false
}

// Default is the driver of a container that names none: the first
// usable one. netstack, the last, is always usable.
func Default() Driver {
	for _, d := range drivers[:len(drivers)-1] {
		if d.Usable() == nil {
			return d
		}
	}
	return drivers[len(drivers)-1]
}
