package engine

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Endpoints: a container's place on a user network is kept in the
// network's record, not the container's, so that allocation is one
// read-modify-write of one file under one lock. An endpoint lives as long
// as its container (stopped or running): its address is stable across
// restarts and freed when the container is removed, or, for a container
// that vanished without box's knowledge, by the next allocation on that
// network (exists says which containers are still there).

// joinRequest is a container joining one user network.
type joinRequest struct {
	Network     string // name or id
	ContainerID string
	Name        string // the container's name
	IP          string // --ip, or "" for the next free address
	Aliases     []string
}

// attachEndpoint allocates req's address on its network and records the
// endpoint; it returns the network's record (as it is now) and the
// endpoint. A container already on the network is refused as Docker
// refuses a second connect.
func attachEndpoint(list []*userNetwork, req joinRequest, exists func(id string) bool) (*userNetwork, *endpoint, error) {
	n, err := findNetwork(list, req.Network)
	if err != nil {
		return nil, nil, err
	}
	used := map[netip.Addr]bool{}
	for id, ep := range n.Endpoints {
		if !exists(id) {
			delete(n.Endpoints, id)
			continue
		}
		if id == req.ContainerID {
			return nil, nil, &UsageError{Msg: fmt.Sprintf("endpoint with name %s already exists in network %s", req.Name, n.Name)}
		}
		if a, err := netip.ParseAddr(ep.IP); err == nil {
			used[a] = true
		}
	}
	a, err := allocate(n, req.IP, used)
	if err != nil {
		return nil, nil, err
	}
	ep := &endpoint{Name: req.Name, IP: a.String(), MAC: macOf(a), Static: req.IP != "", Attached: time.Now().UTC()}
	for _, al := range req.Aliases {
		if al != "" && !slices.Contains(ep.Aliases, al) {
			ep.Aliases = append(ep.Aliases, al)
		}
	}
	if n.Endpoints == nil {
		n.Endpoints = map[string]*endpoint{}
	}
	n.Endpoints[req.ContainerID] = ep
	return n, ep, nil
}

// detachEndpoints drops every endpoint of container id and says whether
// there was one.
func detachEndpoints(list []*userNetwork, id string) bool {
	found := false
	for _, n := range list {
		if _, ok := n.Endpoints[id]; ok {
			delete(n.Endpoints, id)
			found = true
		}
	}
	return found
}

// dnsNames are the names n's name server answers: each live container's
// name, its 12-digit short id and its aliases, with its address.
func dnsNames(n *userNetwork, exists func(id string) bool) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	add := func(name string, a netip.Addr) {
		name = strings.ToLower(name)
		if name != "" && !slices.Contains(out[name], a) {
			out[name] = append(out[name], a)
		}
	}
	for id, ep := range n.Endpoints {
		a, err := netip.ParseAddr(ep.IP)
		if err != nil || !exists(id) {
			continue
		}
		add(ep.Name, a)
		if len(id) >= 12 {
			add(id[:12], a)
		}
		for _, al := range ep.Aliases {
			add(al, a)
		}
	}
	return out
}

// releaseNetworks frees the addresses of container id on every user
// network. It is called as the container is removed; a failure only
// delays the release to the next allocation on that network.
func (e *Engine) releaseNetworks(id string) {
	s, err := e.networkStore()
	if err != nil {
		return
	}
	found := false
	_ = s.read(func(list []*userNetwork) error {
		for _, n := range list {
			_, ok := n.Endpoints[id]
			found = found || ok
		}
		return nil
	})
	if !found {
		return
	}
	_ = s.update(func(list []*userNetwork) ([]*userNetwork, error) {
		detachEndpoints(list, id)
		return list, nil
	})
}
