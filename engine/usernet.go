package engine

// User-defined networks (`box network create`), the model. Podman 5's
// rootless netns, in process, without a daemon:
//
//   - One network namespace per user holds a Linux bridge per user
//     network (engine/network/bridge_linux.go), the bridge carrying the
//     network's gateway address, and is joined to the outside by one
//     pasta (or box's netstack where pasta cannot run). Each container on
//     user networks keeps a network namespace of its own, attached to
//     each network's bridge by a veth pair (eth0, eth1, ...), with an
//     address of the subnet (engine/usernet: ipam.go, endpoints.go) and
//     its default route via its first network with a way out. A name
//     server (engine/network/dns.go) at 127.0.0.11 in each container's
//     namespace, as Docker's, answers the names, short ids and aliases of
//     the containers on the networks it is on and forwards the rest to
//     its --dns or the host's resolvers.
//   - Rootless, a veth can only be moved between namespaces whose owning
//     user namespace the mover administers, and a box invocation (each in
//     a fresh user namespace of its own) cannot join a sibling's. So the
//     shared namespace is made and held by a holder process, and every
//     container on a user network is run by a box that the holder starts
//     inside its user namespace, as `--network container:` has the
//     owner's monitor start a network guest (guest_client.go,
//     guest_server.go). The holder lives exactly as long as some
//     container on a user network runs: each such container's monitor
//     keeps a connection to it, and it ends with the last. Should it be
//     killed, each monitor joins again, the first starting a new holder
//     in the same user namespace. As root there is no user namespace
//     and any box joins the shared namespace by path; nothing touches
//     the host's iptables either way: published ports are bound by the
//     holder on the host and carried into the shared namespace
//     (engine/usernet/ports.go).
//   - The default network, Docker's "bridge", is one more bridge there
//     (defaultBridge in usernet_join.go), wherever pasta can run: one pasta
//     for all containers rather than one each (some 20 MB apiece). As on
//     Docker's default bridge, its containers reach each other by address
//     and by --link, not by name; their resolv.conf has the host's
//     nameservers.
//   - The records (engine/usernet/store.go) are the only state that outlives
//     the holder: networks, and each container's endpoints (address, MAC,
//     aliases), which live as long as the container or until it is
//     disconnected.
//
// The holder is engine/usernet/holder.go, the clients' side (run, start and
// the monitor's hook) usernet_join.go, network connect and disconnect
// usernet_connect.go.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"box/engine/control"
	"box/engine/usernet"
	"box/storage"
	"box/storage/filter"
)

// ErrNoSuchNetwork marks a name that matches no network.
var ErrNoSuchNetwork = errors.New("no such network")

// NoSuchNetworkError names what matched no network, in Docker's words.
type NoSuchNetworkError struct{ Name string }

func (e *NoSuchNetworkError) Error() string { return fmt.Sprintf("network %s not found", e.Name) }
func (e *NoSuchNetworkError) Unwrap() error { return ErrNoSuchNetwork }

// NetworkInUseError is a network with containers attached.
type NetworkInUseError struct {
	Name       string
	Containers [][2]string // name, id
}

func (e *NetworkInUseError) Error() string {
	var parts []string
	for _, c := range e.Containers {
		parts = append(parts, fmt.Sprintf("name:%q id:%q", c[0], c[1][:12]))
	}
	return fmt.Sprintf("error while removing network: network %s has active endpoints (%s)", e.Name, strings.Join(parts, ", "))
}

// builtinNetworks always exist: the private network of each container
// (Docker's default "bridge"), the host's and none. Their ids are fixed.
var builtinNetworks = []struct{ Name, Driver string }{
	{"bridge", "bridge"}, {"host", "host"}, {"none", "null"},
}

func builtinID(name string) string {
	sum := sha256.Sum256([]byte("box network " + name))
	return hex.EncodeToString(sum[:])
}

// isModeName says whether name is one of the other --network values box
// knows (resolveNetwork): no user network may take it.
func isModeName(name string) bool {
	switch name {
	case "default", "private", networkPasta, networkNetstack:
		return true
	}
	return false
}

func isBuiltinNetwork(name string) bool {
	for _, b := range builtinNetworks {
		if b.Name == name {
			return true
		}
	}
	return false
}

// NetworkCreateOptions are `network create`'s choices.
type NetworkCreateOptions struct {
	Name string
	// Driver must be "bridge" or empty.
	Driver                   string
	Subnet, Gateway, IPRange string
	Internal                 bool
	IPv6                     bool
	// Labels are "key=value" or "key"; Options are -o KEY=VALUE.
	Labels, Options []string
}

// NetworkInspect is a network in the shape and with the field names of
// Docker's network inspect.
type NetworkInspect struct {
	Name       string                      `json:"Name"`
	ID         string                      `json:"Id"`
	Created    time.Time                   `json:"Created"`
	Scope      string                      `json:"Scope"`
	Driver     string                      `json:"Driver"`
	EnableIPv4 bool                        `json:"EnableIPv4"`
	EnableIPv6 bool                        `json:"EnableIPv6"`
	IPAM       NetworkIPAM                 `json:"IPAM"`
	Internal   bool                        `json:"Internal"`
	Attachable bool                        `json:"Attachable"`
	Ingress    bool                        `json:"Ingress"`
	ConfigFrom struct{ Network string }    `json:"ConfigFrom"`
	ConfigOnly bool                        `json:"ConfigOnly"`
	Containers map[string]NetworkContainer `json:"Containers"`
	Options    map[string]string           `json:"Options"`
	Labels     map[string]string           `json:"Labels"`
	// Builtin says box made it (bridge, host, none), not the user.
	Builtin bool `json:"-"`
}

// NetworkIPAM is a network's address plan as Docker shows it.
type NetworkIPAM struct {
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	Config  []IPAMConfig      `json:"Config"`
}

// IPAMConfig is one subnet of a network.
type IPAMConfig struct {
	Subnet  string `json:"Subnet"`
	IPRange string `json:"IPRange,omitempty"`
	Gateway string `json:"Gateway"`
}

// NetworkContainer is one container attached to a network.
type NetworkContainer struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

func (e *Engine) networkStore() (*usernet.Store, error) {
	return usernet.OpenStore(e.Store.Root())
}

// CreateNetwork records a new user network and returns it. Nothing is
// made on the host until a container joins it.
func (e *Engine) CreateNetwork(opts NetworkCreateOptions) (*NetworkInspect, error) {
	if opts.Driver != "" && opts.Driver != "bridge" {
		return nil, &UsageError{Msg: fmt.Sprintf("plugin %q not found: box's networks use the bridge driver only", opts.Driver)}
	}
	if opts.IPv6 {
		return nil, &UsageError{Msg: "--ipv6 is not supported: box's networks are IPv4 only"}
	}
	if !validName(opts.Name) {
		return nil, &UsageError{Msg: fmt.Sprintf("invalid network name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", opts.Name)}
	}
	labels, err := parseLabelList(opts.Labels)
	if err != nil {
		return nil, err
	}
	options, err := parseNetworkOptions(opts.Options)
	if err != nil {
		return nil, err
	}
	if isBuiltinNetwork(opts.Name) || isModeName(opts.Name) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is a pre-defined network and cannot be created", opts.Name)}
	}
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var made *usernet.Network
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		for _, n := range list {
			if n.Name == opts.Name {
				return nil, &UsageError{Msg: fmt.Sprintf("network with name %s already exists", opts.Name)}
			}
		}
		plan, err := usernet.PlanAddresses(opts.Subnet, opts.Gateway, opts.IPRange, takenPrefixes(list))
		if err != nil {
			return nil, err
		}
		made = &usernet.Network{
			ID: newNetworkID(), Name: opts.Name, Created: time.Now().UTC(),
			Subnet: plan.Subnet.String(), Gateway: plan.Gateway.String(),
			Internal: opts.Internal, Labels: labels, Options: options,
		}
		if plan.IPRange.IsValid() {
			made.IPRange = plan.IPRange.String()
		}
		return append(list, made), nil
	})
	if err != nil {
		return nil, err
	}
	e.userNetworkEvent("create", made)
	return e.networkInspectOf(made), nil
}

// takenPrefixes are what a new network's subnet must not overlap: the
// host's routes and addresses, and the subnets of the networks in list.
func takenPrefixes(list []*usernet.Network) []netip.Prefix {
	taken := usernet.HostPrefixes()
	for _, n := range list {
		if p, err := netip.ParsePrefix(n.Subnet); err == nil {
			taken = append(taken, p)
		}
	}
	return taken
}

func newNetworkID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parseNetworkOptions reads -o KEY=VALUE. The bridge driver of box takes
// Docker's com.docker.network.driver.mtu (checked here, applied when the
// holder makes the bridge) and keeps the rest for inspect, as Docker
// keeps what its driver ignores.
func parseNetworkOptions(opts []string) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid network option %q: want KEY=VALUE", o)}
		}
		out[k] = v
	}
	if _, err := parseMTU(out[mtuOption]); err != nil {
		return nil, err
	}
	return out, nil
}

// findNetwork is the record named by nameOrID: its name, its id, or a
// unique prefix of its id, as Docker looks networks up.
func findNetwork(list []*usernet.Network, nameOrID string) (*usernet.Network, error) {
	list = slices.DeleteFunc(slices.Clone(list), func(n *usernet.Network) bool { return n.Default })
	for _, n := range list {
		if n.ID == nameOrID {
			return n, nil
		}
	}
	for _, n := range list {
		if n.Name == nameOrID {
			return n, nil
		}
	}
	var found []*usernet.Network
	for _, n := range list {
		if nameOrID != "" && strings.HasPrefix(n.ID, nameOrID) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, &NoSuchNetworkError{Name: nameOrID}
	}
	return nil, &UsageError{Msg: fmt.Sprintf("network %s is ambiguous (%d matches found based on ID prefix)", nameOrID, len(found))}
}

// NetworkHolderMain is the network holder's role as main.go dispatches
// it: package usernet's holder, serving guests as a monitor does.
func NetworkHolderMain(args []string) int {
	return usernet.HolderMain(args, usernet.Hooks{
		Guest: func(c *net.UnixConn, m control.Message, req control.GuestEnvelope) {
			runGuest(c, m, guestEnvironment(req.Env), req.Dir, "the network holder")
		},
		Report:      func(err error) control.ErrorReport { return reportOf(portInUse(err)) },
		PastaUsable: pastaMissing,
	})
}

// attachEndpoint attaches the container req names to the network it
// names in list; it returns the network's record (as it is now) and the
// endpoint.
func attachEndpoint(list []*usernet.Network, req usernet.JoinRequest, exists func(id string) bool) (*usernet.Network, *usernet.Endpoint, error) {
	// The default network's record is found by its id alone.
	var n *usernet.Network
	if i := slices.IndexFunc(list, func(n *usernet.Network) bool { return n.ID == req.Network }); i >= 0 {
		n = list[i]
	} else {
		var err error
		if n, err = findNetwork(list, req.Network); err != nil {
			return nil, nil, err
		}
	}
	ep, err := n.Attach(req, exists)
	if err != nil {
		return nil, nil, err
	}
	return n, ep, nil
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
	_ = s.Read(func(list []*usernet.Network) error {
		for _, n := range list {
			_, ok := n.Endpoints[id]
			found = found || ok
		}
		return nil
	})
	if !found {
		return
	}
	_ = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		usernet.DetachEndpoints(list, id)
		return list, nil
	})
}

// builtinInspect is the built-in network nameOrID names, or nil.
func builtinInspect(nameOrID string) *NetworkInspect {
	for _, b := range builtinNetworks {
		id := builtinID(b.Name)
		if b.Name == nameOrID || id == nameOrID || len(nameOrID) >= 12 && strings.HasPrefix(id, nameOrID) {
			return &NetworkInspect{
				Name: b.Name, ID: id, Scope: "local", Driver: b.Driver, EnableIPv4: b.Name == "bridge",
				IPAM:       NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []IPAMConfig{}},
				Containers: map[string]NetworkContainer{}, Options: map[string]string{}, Labels: map[string]string{},
				Builtin: true,
			}
		}
	}
	return nil
}

// networkInspectOf is n as Docker's inspect shows it, with the endpoints
// of containers that still exist.
func (e *Engine) networkInspectOf(n *usernet.Network) *NetworkInspect {
	ni := &NetworkInspect{
		Name: n.Name, ID: n.ID, Created: n.Created.Local(), Scope: "local", Driver: "bridge",
		EnableIPv4: true, Internal: n.Internal,
		IPAM:       NetworkIPAM{Driver: "default", Options: map[string]string{}},
		Containers: map[string]NetworkContainer{}, Options: map[string]string{}, Labels: map[string]string{},
	}
	maps.Copy(ni.Options, n.Options)
	maps.Copy(ni.Labels, n.Labels)
	e.addAddressing(ni, n)
	return ni
}

// addAddressing gives ni n's subnet and the endpoints of its containers
// that still exist.
func (e *Engine) addAddressing(ni *NetworkInspect, n *usernet.Network) {
	ni.IPAM.Config = []IPAMConfig{{Subnet: n.Subnet, IPRange: n.IPRange, Gateway: n.Gateway}}
	bits := strings.TrimPrefix(n.Subnet[strings.IndexByte(n.Subnet, '/'):], "/")
	for id, ep := range e.liveEndpoints(n) {
		ni.Containers[id] = NetworkContainer{
			Name: ep.Name, EndpointID: endpointID(n.ID, id), MacAddress: ep.MAC,
			IPv4Address: ep.IP + "/" + bits,
		}
	}
}

// builtinWithDefault is the built-in network nameOrID names, or nil; the
// default network shows the subnet and containers of its record, once
// a container has used it.
func (e *Engine) builtinWithDefault(nameOrID string, list []*usernet.Network) *NetworkInspect {
	b := builtinInspect(nameOrID)
	if b == nil || b.Name != defaultBridge {
		return b
	}
	for _, n := range list {
		if n.Default {
			b.Created = n.Created.Local()
			e.addAddressing(b, n)
		}
	}
	return b
}

// endpointID is a stable id for a container's attachment to a network.
func endpointID(networkID, containerID string) string {
	sum := sha256.Sum256([]byte(networkID + "/" + containerID))
	return hex.EncodeToString(sum[:])
}

// liveEndpoints are n's endpoints whose containers still exist.
func (e *Engine) liveEndpoints(n *usernet.Network) map[string]*usernet.Endpoint {
	out := map[string]*usernet.Endpoint{}
	for id, ep := range n.Endpoints {
		if _, err := e.Store.Container(id); err == nil {
			out[id] = ep
		}
	}
	return out
}

// InspectNetwork describes a network as Docker's network inspect does.
func (e *Engine) InspectNetwork(nameOrID string) (*NetworkInspect, error) {
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var out *NetworkInspect
	err = s.Read(func(list []*usernet.Network) error {
		if out = e.builtinWithDefault(nameOrID, list); out != nil {
			return nil
		}
		n, err := findNetwork(list, nameOrID)
		if err != nil {
			return err
		}
		out = e.networkInspectOf(n)
		return nil
	})
	return out, err
}

// Networks lists the networks, built-in and the user's, sorted by name,
// that pass every filter: name=, id= (a regular expression each, as
// Docker matches them), label=KEY[=VALUE], driver=, scope=local,
// type=custom|builtin and dangling=true|false.
func (e *Engine) Networks(filters filter.Args) ([]*NetworkInspect, error) {
	match, err := networkFilter(filters)
	if err != nil {
		return nil, err
	}
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var out []*NetworkInspect
	err = s.Read(func(list []*usernet.Network) error {
		for _, b := range builtinNetworks {
			out = append(out, e.builtinWithDefault(b.Name, list))
		}
		for _, n := range list {
			if !n.Default {
				out = append(out, e.networkInspectOf(n))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(n *NetworkInspect) bool { return !match(n) })
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	return out, nil
}

// NetworkFilters are the --filter keys of network ls.
var NetworkFilters = filter.Spec{Keys: []string{"name", "id", "label", "driver", "scope", "type", "dangling"}, Negatable: []string{"label"}}

// networkFilter compiles filters into one predicate.
func networkFilter(args filter.Args) (func(*NetworkInspect) bool, error) {
	names, err := args.Regexps("name")
	if err != nil {
		return nil, err
	}
	ids, err := args.Regexps("id")
	if err != nil {
		return nil, err
	}
	for _, v := range args.Values("type") {
		if v != "custom" && v != "builtin" {
			return nil, &filter.Error{Key: "type", Value: v, Why: "want custom or builtin"}
		}
	}
	dangling, danglingSet, err := args.Bool("dangling")
	if err != nil {
		return nil, err
	}
	anyOf := func(res []*regexp.Regexp, s string) bool {
		return len(res) == 0 || slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(s) })
	}
	return func(n *NetworkInspect) bool {
		return anyOf(names, n.Name) && anyOf(ids, n.ID) &&
			args.MatchLabels(n.Labels) &&
			args.Match("driver", func(v string) bool { return n.Driver == v }) &&
			args.Match("scope", func(v string) bool { return n.Scope == v }) &&
			args.Match("type", func(v string) bool { return n.Builtin == (v == "builtin") }) &&
			// Docker counts the built-in networks as never dangling.
			(!danglingSet || !n.Builtin && len(n.Containers) == 0 == dangling)
	}, nil
}

// RemoveNetwork removes a user network no container is attached to. A
// built-in network is refused; one that does not exist is an
// ErrNoSuchNetwork.
func (e *Engine) RemoveNetwork(nameOrID string) error {
	if b := builtinInspect(nameOrID); b != nil {
		return &UsageError{Msg: fmt.Sprintf("%s is a pre-defined network and cannot be removed", b.Name)}
	}
	s, err := e.networkStore()
	if err != nil {
		return err
	}
	return s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		n, err := findNetwork(list, nameOrID)
		if err != nil {
			return nil, err
		}
		if err := e.checkUnused(n); err != nil {
			return nil, err
		}
		defer e.userNetworkEvent("destroy", n)
		return slices.DeleteFunc(list, func(o *usernet.Network) bool { return o == n }), nil
	})
}

// checkUnused refuses a network some existing container is attached to.
func (e *Engine) checkUnused(n *usernet.Network) error {
	live := e.liveEndpoints(n)
	if len(live) == 0 {
		return nil
	}
	ie := &NetworkInUseError{Name: n.Name}
	for id, ep := range live {
		ie.Containers = append(ie.Containers, [2]string{ep.Name, id})
	}
	sort.Slice(ie.Containers, func(i, j int) bool { return ie.Containers[i][0] < ie.Containers[j][0] })
	return ie
}

// PruneNetworks removes every user network no container is attached to
// that passes filter (until=, label=, label!=) and returns their names.
func (e *Engine) PruneNetworks(pf storage.PruneFilter) ([]string, error) {
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var removed []string
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		return slices.DeleteFunc(list, func(n *usernet.Network) bool {
			if n.Default || !pf.Matches(n.Created, n.Labels) || e.checkUnused(n) != nil {
				return false
			}
			removed = append(removed, n.Name)
			e.userNetworkEvent("destroy", n)
			return true
		}), nil
	})
	sort.Strings(removed)
	return removed, err
}

// naturalLess orders names as Docker's network ls does: runs of digits
// by their value (net2 before net10), the rest byte by byte.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if da != db {
				return da < db
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
