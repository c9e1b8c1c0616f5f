package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"

	"box/engine/flags"
	"box/engine/network"
	"box/engine/usernet"
)

// Legacy links: --link NAME[:ALIAS].
//
// On a user network a link is one more name, ALIAS, that the linking
// container's own name server answers with the linked container's
// address, when both are on that network (usernet.Attach.Links); nothing
// else, as Docker's embedded DNS does.
//
// On the default network Docker writes the linked container to the
// linking one's /etc/hosts ("IP ALIAS HOSTNAME NAME") and sets
// ALIAS_NAME, ALIAS_ENV_* and ALIAS_PORT_* (moby's daemon/links). Where
// both containers are on box's default bridge, so does box: the linked
// container's address there, and its ports. A container with a private
// network of its own (netstack's, or pasta's with --network pasta)
// reaches no other container's address. What it reaches is the host, at
// its gateway, and there the linked container's published ports. So the
// link's address is then that gateway, and a port the linked container
// publishes is given by the host port it is published on (the variable's
// name keeps the container's port, as Docker names it); a port it only
// exposes keeps its number and is reachable only when published on the
// same number.

// linkNetworkConflict is Docker's refusal of links with the host's or
// another container's network.
func linkNetworkConflict(kind string) error {
	return &UsageError{Msg: fmt.Sprintf("conflicting options: %s type networking can't be used with links. This would result in undefined behavior", kind)}
}

// planLinks checks opts' links for a container named linker and returns
// them with each NAME as the linked container's own name, with the
// environment and /etc/hosts entries they give on the default network
// (none on a user network). gateway is the linking container's way to
// the host. A linked container must exist, and run unless the linking
// one is only created (then its start will need it running, as Docker's).
func (e *Engine) planLinks(opts RunOptions, linker, gateway string) ([]flags.Link, []string, []flags.Host, error) {
	links := opts.Settings.Links
	if len(links) == 0 {
		return nil, nil, nil, nil
	}
	switch opts.Network.Mode {
	case flags.NetworkHost:
		return nil, nil, nil, linkNetworkConflict("host")
	case flags.NetworkContainer:
		return nil, nil, nil, linkNetworkConflict("container")
	}
	userNet := opts.userNetwork && opts.Network.Name != defaultBridge
	var out []flags.Link
	var env []string
	var hosts []flags.Host
	for _, l := range links {
		c, err := e.LookupContainer(l.Name)
		if err != nil {
			return nil, nil, nil, &UsageError{Msg: fmt.Sprintf("could not get container for %s: %v", l.Name, err)}
		}
		if c.NetworkMode == string(flags.NetworkHost) {
			return nil, nil, nil, linkNetworkConflict("host")
		}
		if !opts.CreateOnly && c.State != Running {
			return nil, nil, nil, &UsageError{Msg: fmt.Sprintf("Cannot link to a non running container: /%s AS /%s/%s", c.Name, linker, l.Alias)}
		}
		out = append(out, flags.Link{Name: c.Name, Alias: l.Alias})
		if userNet {
			continue
		}
		if !isPrivate(c.NetworkMode) && c.NetworkMode != defaultBridge {
			return nil, nil, nil, &UsageError{Msg: fmt.Sprintf("Cannot link to /%s, as it does not belong to the default network", c.Name)}
		}
		childEnv, hostname, exposed, err := e.linkedConfig(c)
		if err != nil {
			return nil, nil, nil, err
		}
		// Two containers on the default bridge reach each other as on
		// Docker's: at the linked one's address, on its own ports.
		addr, published := gateway, c.Ports
		if ip := e.bridgeAddress(c.ID); ip != "" && opts.Network.Name == defaultBridge {
			addr, published = ip, nil
		}
		env = append(env, linkEnv(addr, "/"+linker+"/"+l.Alias, childEnv, exposed, published)...)
		names := l.Alias + " " + hostname
		if l.Alias != c.Name {
			names += " " + c.Name
		}
		hosts = append(hosts, flags.Host{Name: names, IP: addr})
	}
	return out, env, hosts, nil
}

// bridgeAddress is container id's address on the default bridge, empty
// when it is not on it.
func (e *Engine) bridgeAddress(id string) string {
	s, err := e.networkStore()
	if err != nil {
		return ""
	}
	ip := ""
	_ = s.Read(func(list []*usernet.Network) error {
		for _, n := range list {
			if ep := n.Endpoints[id]; n.Default && ep != nil {
				ip = ep.IP
			}
		}
		return nil
	})
	return ip
}

// linkedConfig is what a link shows of container c: its environment as
// its Config.Env (less HOSTNAME, which Docker's does not hold), its
// hostname, and its exposed ports, published ones included, as Docker's
// Config.ExposedPorts.
func (e *Engine) linkedConfig(c *Container) ([]string, string, []string, error) {
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return nil, "", nil, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return nil, "", nil, fmt.Errorf("link to %s: %w", c.Name, err)
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return nil, "", nil, fmt.Errorf("link to %s: %w", c.Name, err)
	}
	var env []string
	for _, kv := range sp.Process.Env {
		if !strings.HasPrefix(kv, "HOSTNAME=") {
			env = append(env, kv)
		}
	}
	ports := exposedPorts(rec.ImageExposed, rec.Settings.Expose)
	if ports == nil {
		ports = map[string]struct{}{}
	}
	for _, p := range rec.Ports {
		ports[strconv.Itoa(p.ContainerPort)+"/"+p.Proto] = struct{}{}
	}
	var keys []string
	for k := range ports {
		keys = append(keys, k)
	}
	return env, sp.Hostname, keys, nil
}

// linkEnv is Docker's link environment (moby's links.Link.ToEnv) for the
// link named name ("/LINKER/ALIAS") to a container with env and exposed
// ports, reached at addr, its published ports at their host ports.
func linkEnv(addr, name string, env, exposed []string, published []network.Port) []string {
	alias := strings.ReplaceAll(strings.ToUpper(name[strings.LastIndexByte(name, '/')+1:]), "-", "_")
	hostPort := map[string]int{}
	for _, p := range published {
		hostPort[strconv.Itoa(p.ContainerPort)+"/"+p.Proto] = p.HostPort
	}
	var ports []nat.Port
	for _, k := range exposed {
		ports = append(ports, nat.Port(k))
	}
	// TCP first, then by number: the first is ALIAS_PORT, and runs of
	// consecutive ports get _START and _END, as Docker's.
	sort.Slice(ports, func(i, j int) bool {
		pi, pj := ports[i], ports[j]
		if pi.Proto() != pj.Proto() {
			if pi.Proto() == "tcp" || pj.Proto() == "tcp" {
				return pi.Proto() == "tcp"
			}
			return pi.Proto() < pj.Proto()
		}
		return pi.Int() < pj.Int()
	})
	reach := func(p nat.Port) int {
		if hp, ok := hostPort[string(p)]; ok && hp != 0 {
			return hp
		}
		return p.Int()
	}
	var out []string
	var start, end nat.Port
	for i, p := range ports {
		if i == 0 {
			start, end = p, p
			out = append(out, fmt.Sprintf("%s_PORT=%s://%s:%d", alias, p.Proto(), addr, reach(p)))
		}
		prefix := fmt.Sprintf("%s_PORT_%d_%s", alias, p.Int(), strings.ToUpper(p.Proto()))
		out = append(out,
			fmt.Sprintf("%s=%s://%s:%d", prefix, p.Proto(), addr, reach(p)),
			fmt.Sprintf("%s_ADDR=%s", prefix, addr),
			fmt.Sprintf("%s_PORT=%d", prefix, reach(p)),
			fmt.Sprintf("%s_PROTO=%s", prefix, p.Proto()))
		if p.Int() == end.Int()+1 && p.Proto() == end.Proto() {
			end = p
			if i < len(ports)-1 {
				continue
			}
		}
		if end != start {
			prefix = fmt.Sprintf("%s_PORT_%d_%s", alias, start.Int(), strings.ToUpper(start.Proto()))
			out = append(out,
				fmt.Sprintf("%s_START=%s://%s:%d", prefix, start.Proto(), addr, reach(start)),
				fmt.Sprintf("%s_PORT_START=%d", prefix, reach(start)),
				fmt.Sprintf("%s_END=%s://%s:%d", prefix, end.Proto(), addr, reach(end)),
				fmt.Sprintf("%s_PORT_END=%d", prefix, reach(end)))
		}
		start, end = p, p
	}
	out = append(out, fmt.Sprintf("%s_NAME=%s", alias, name))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "HOME" || k == "PATH" {
			continue
		}
		out = append(out, fmt.Sprintf("%s_ENV_%s=%s", alias, k, v))
	}
	return out
}

// linksInspect is HostConfig.Links as Docker shows them:
// /NAME:/LINKER/ALIAS.
func linksInspect(linker string, links []flags.Link) []string {
	var out []string
	for _, l := range links {
		out = append(out, "/"+l.Name+":/"+linker+"/"+l.Alias)
	}
	return out
}

// checkLinks refuses to start rec's container while a container it links
// to is missing or not running, as Docker's start does.
func (e *Engine) checkLinks(rec *record) error {
	for _, l := range rec.Settings.Links {
		c, err := e.LookupContainer(l.Name)
		if err != nil {
			return &UsageError{Msg: fmt.Sprintf("could not get container for %s: %v", l.Name, err)}
		}
		if c.State != Running {
			return &UsageError{Msg: fmt.Sprintf("Cannot link to a non running container: /%s AS /%s/%s", c.Name, rec.Name, l.Alias)}
		}
	}
	return nil
}
