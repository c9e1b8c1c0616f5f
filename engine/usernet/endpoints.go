package usernet

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"box/engine/spec"
)

// Endpoints: a container's place on a user network is kept in the
// network's record, not the container's, so that allocation is one
// read-modify-write of one file under one lock. An endpoint lives as long
// as its container (stopped or running): its address is stable across
// restarts and freed when the container is removed, or, for a container
// that vanished without box's knowledge, by the next allocation on that
// network (exists says which containers are still there).

// JoinRequest is a container joining one user network.
type JoinRequest struct {
	Network     string // name or id
	ContainerID string
	Name        string // the container's name
	IP          string // --ip, or "" for the next free address
	Aliases     []string
}

// Attach allocates req's address on n and records the endpoint. A
// container already on the network is refused as Docker refuses a second
// connect.
func (n *Network) Attach(req JoinRequest, exists func(id string) bool) (*Endpoint, error) {
	used := map[netip.Addr]bool{}
	for id, ep := range n.Endpoints {
		if !exists(id) {
			delete(n.Endpoints, id)
			continue
		}
		if id == req.ContainerID {
			return nil, &spec.UsageError{Msg: fmt.Sprintf("endpoint with name %s already exists in network %s", req.Name, n.Name)}
		}
		if a, err := netip.ParseAddr(ep.IP); err == nil {
			used[a] = true
		}
	}
	a, err := allocate(n, req.IP, used)
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{Name: req.Name, IP: a.String(), MAC: macOf(a), Static: req.IP != "", Attached: time.Now().UTC()}
	for _, al := range req.Aliases {
		if al != "" && !slices.Contains(ep.Aliases, al) {
			ep.Aliases = append(ep.Aliases, al)
		}
	}
	if n.Endpoints == nil {
		n.Endpoints = map[string]*Endpoint{}
	}
	n.Endpoints[req.ContainerID] = ep
	return ep, nil
}

// DetachEndpoints drops every endpoint of container id and says whether
// there was one.
func DetachEndpoints(list []*Network, id string) bool {
	found := false
	for _, n := range list {
		if _, ok := n.Endpoints[id]; ok {
			delete(n.Endpoints, id)
			found = true
		}
	}
	return found
}
