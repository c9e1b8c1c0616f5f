package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"box/engine/flags"
	"box/engine/spec"
)

// nameOptions are a container's name resolution choices, checked.
type nameOptions struct {
	DNS, Search, Options []string
	// Hosts are extra /etc/hosts entries; IP flags.HostGateway is the
	// host.
	Hosts []flags.Host
	// Gateway is the address by which the container reaches the host
	// (loopbackGateway when empty).
	Gateway string
	// DNSForward, when set, is the nameserver the container is given in
	// place of the host's loopback ones, which it cannot reach; its
	// network forwards queries to them.
	DNSForward string
	// Resolver, when set, is the only nameserver of resolv.conf (a user
	// network's name server, which forwards to DNS or the host's).
	Resolver string
	// Bridged says the hostname's address is the container's own on its
	// network, given in Hosts (userNetworkNames), not loopback.
	Bridged bool
}

// loopbackGateway is how a container that shares the host's network
// reaches the host.
const loopbackGateway = "127.0.0.1"

// writeEtcFiles writes /etc/hostname, /etc/hosts and /etc/resolv.conf
// for the container into its directory and returns them for bind mounts.
func writeEtcFiles(dir, hostname string, network spec.Network, names nameOptions) (map[string]string, error) {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	if network == spec.NetworkHost {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
			if hosts != "" && !strings.HasSuffix(hosts, "\n") {
				hosts += "\n"
			}
		}
	} else if !names.Bridged {
		// On the default and user networks the hostname is the
		// container's address there, as Docker writes it
		// (userNetworkNames).
		hosts += "127.0.0.1\t" + hostname + "\n"
	}
	gateway := names.Gateway
	if gateway == "" {
		gateway = loopbackGateway
	}
	if network != spec.NetworkNone {
		// Podman's and Docker Desktop's names for the host.
		hosts += gateway + "\thost.containers.internal host.docker.internal\n"
	}
	for _, h := range names.Hosts {
		if h.IP == flags.HostGateway {
			h.IP = gateway
		}
		hosts += h.IP + "\t" + h.Name + "\n"
	}
	host, _ := os.ReadFile("/etc/resolv.conf")
	if names.DNSForward != "" && len(names.DNS) == 0 {
		names.DNS = []string{names.DNSForward}
	}
	if names.Resolver != "" {
		names.DNS = []string{names.Resolver}
	}
	files := map[string]string{
		"/etc/hostname":    hostname + "\n",
		"/etc/hosts":       hosts,
		"/etc/resolv.conf": containerResolvConf(string(host), names, network),
	}
	out := map[string]string{}
	for dst, content := range files {
		p := filepath.Join(dir, filepath.Base(dst))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", dst, err)
		}
		out[dst] = p
	}
	return out, nil
}

// defaultNameservers are Docker's for a container of a host that names
// none: the resolver's own default, loopback, is the container's loopback.
var defaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// containerResolvConf is resolvConf for a container on network, with
// defaultNameservers when neither the host nor --dns gave one to a
// container with a network of its own.
func containerResolvConf(host string, names nameOptions, network spec.Network) string {
	if network != spec.NetworkHost && network != spec.NetworkNone && len(names.DNS) == 0 {
		has := false
		for _, line := range strings.Split(host, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "nameserver" {
				has = true
			}
		}
		if !has {
			names.DNS = defaultNameservers
		}
	}
	return resolvConf(host, names)
}

// resolvConf is the host's resolv.conf with the container's nameserver,
// search and options lines in place of the host's where it has its own.
func resolvConf(host string, names nameOptions) string {
	var out []string
	for _, line := range strings.Split(host, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "nameserver" && len(names.DNS) > 0 ||
			(f[0] == "search" || f[0] == "domain") && len(names.Search) > 0 ||
			f[0] == "options" && len(names.Options) > 0) {
			continue
		}
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	for _, ip := range names.DNS {
		out = append(out, "nameserver "+ip)
	}
	if len(names.Search) > 0 {
		out = append(out, "search "+strings.Join(names.Search, " "))
	}
	if len(names.Options) > 0 {
		out = append(out, "options "+strings.Join(names.Options, " "))
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}
