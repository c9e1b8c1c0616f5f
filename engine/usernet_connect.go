package engine

import (
	"errors"
	"fmt"
	"strings"

	"box/engine/control"
	"box/engine/events"
	"box/engine/usernet"
)

// network connect and disconnect: a container's endpoints are records
// (engine/usernet/endpoints.go), so on a stopped container they change only
// those and its next start attaches what they say; on a running one the
// holder attaches or detaches the network too, and every name server
// it serves follows at once. The record changes only with the holder's
// success, so a failed connect or disconnect leaves nothing half-made.

// NetworkConnectOptions are `network connect`'s choices.
type NetworkConnectOptions struct {
	Network, Container string
	// Aliases are further names the container answers to on Network;
	// IP its address there (the next free one when empty).
	Aliases []string
	IP      string
}

// onlyUserNetworks refuses a network or container box cannot connect:
// only a container run on user networks (not the default bridge, whose
// resolv.conf knows no name server of box's) can join another.
func onlyUserNetworks(network string, c *Container) error {
	if b := builtinInspect(network); b != nil {
		return &UsageError{
			Msg: fmt.Sprintf("box cannot connect or disconnect a container and the pre-defined network %s", b.Name),
			Fix: "run the container again with --network " + b.Name,
		}
	}
	if !isUserNetworkMode(c.NetworkMode) || c.NetworkMode == defaultBridge {
		return &UsageError{
			Msg: fmt.Sprintf("container %s is not on a user-defined network: box can connect only containers run with --network NAME", c.Name),
			Fix: "run it again with --network and a network from `box network ls`",
		}
	}
	return nil
}

// ConnectNetwork attaches a container to one more user network: at once
// while it runs, at its next start otherwise.
func (e *Engine) ConnectNetwork(opts NetworkConnectOptions) error {
	c, err := e.LookupContainer(opts.Container)
	if err != nil {
		return err
	}
	if err := onlyUserNetworks(opts.Network, c); err != nil {
		return err
	}
	s, err := e.networkStore()
	if err != nil {
		return err
	}
	var join usernet.Join
	var netID string
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		n, ep, err := attachEndpoint(list, usernet.JoinRequest{Network: opts.Network, ContainerID: c.ID, Name: c.Name, IP: opts.IP, Aliases: opts.Aliases}, e.endpointExists)
		if err != nil {
			return nil, err
		}
		netID, join = n.ID, holderJoinOf(n, c.ID, c.Name, ep)
		return list, nil
	})
	if err != nil {
		return err
	}
	if c.State == Running {
		if err := e.askHolder(usernet.MsgConnect, usernet.Connect{Container: c.ID, Join: join}, join.Network); err != nil {
			_ = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
				for _, n := range list {
					if n.ID == netID {
						delete(n.Endpoints, c.ID)
					}
				}
				return list, nil
			})
			return err
		}
	}
	e.objectEvent(events.Network, "connect", netID, join.Network, "container", c.ID, "type", "bridge")
	return nil
}

// NotConnectedError is a container that is not on the network named.
type NotConnectedError struct{ Container, Network string }

func (e *NotConnectedError) Error() string {
	return fmt.Sprintf("container %s is not connected to network %s", e.Container, e.Network)
}

// DisconnectNetwork detaches a container from a user network: at once
// while it runs. With force, a container that no longer exists is
// dropped from the network by its name.
func (e *Engine) DisconnectNetwork(network, container string, force bool) error {
	c, err := e.LookupContainer(container)
	if err != nil {
		if force && errors.Is(err, ErrNoSuchContainer) && e.forgetEndpoint(network, container) {
			return nil
		}
		return err
	}
	if b := builtinInspect(network); b != nil {
		return &NotConnectedError{Container: c.ID, Network: b.Name}
	}
	s, err := e.networkStore()
	if err != nil {
		return err
	}
	var bridge, name, netID string
	err = s.Read(func(list []*usernet.Network) error {
		n, err := findNetwork(list, network)
		if err != nil {
			return err
		}
		if n.Endpoints[c.ID] == nil {
			return &NotConnectedError{Container: c.ID, Network: n.Name}
		}
		bridge, name, netID = bridgeName(n.ID), n.Name, n.ID
		return nil
	})
	if err != nil {
		return err
	}
	if c.State == Running {
		if err := e.askHolder(usernet.MsgDisconnect, usernet.Disconnect{Container: c.ID, Bridge: bridge}, name); err != nil {
			return err
		}
	}
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		if n, err := findNetwork(list, network); err == nil {
			delete(n.Endpoints, c.ID)
		}
		return list, nil
	})
	if err == nil {
		e.objectEvent(events.Network, "disconnect", netID, name, "container", c.ID, "type", "bridge")
	}
	return err
}

// forgetEndpoint drops the endpoints on network of a container that no
// longer exists, found by the name or id it had, and says whether there
// was one.
func (e *Engine) forgetEndpoint(network, container string) bool {
	s, err := e.networkStore()
	if err != nil {
		return false
	}
	found := false
	_ = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		n, err := findNetwork(list, network)
		if err != nil {
			return nil, err
		}
		for id, ep := range n.Endpoints {
			if ep.Name == container || id == container || len(container) >= 12 && strings.HasPrefix(id, container) {
				delete(n.Endpoints, id)
				found = true
			}
		}
		return list, nil
	})
	return found
}

// askHolder sends the holder one request about network and waits for its
// answer.
func (e *Engine) askHolder(kind control.Kind, req any, network string) error {
	c, _, err := e.dialHolderNow()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := control.Send(c, kind, req); err != nil {
		return fmt.Errorf("network %s: %w", network, err)
	}
	return holderAnswer(c, network)
}
