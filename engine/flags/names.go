package flags

import (
	"fmt"
	"net"
	"strings"
)

// HostGateway is an --add-host IP that stands for the host itself, as
// seen from the container's network.
const HostGateway = "host-gateway"

// Host is one --add-host entry for /etc/hosts.
type Host struct {
	Name string `json:"name"`
	// IP is an address, or HostGateway.
	IP string `json:"ip"`
	// Given is the value as the user spelt it (NAME:IP or NAME=IP), which
	// inspect shows in HostConfig.ExtraHosts.
	Given string `json:"given"`
}

// NameOptions are a container's name resolution flags, checked: --dns,
// --dns-search and --dns-option replace those of the host's resolv.conf;
// --add-host adds /etc/hosts entries.
type NameOptions struct {
	DNS     []string `json:"dns,omitempty"`
	Search  []string `json:"search,omitempty"`
	Options []string `json:"options,omitempty"`
	Hosts   []Host   `json:"hosts,omitempty"`
}

// Empty says whether no name resolution flag was given.
func (n NameOptions) Empty() bool {
	return len(n.DNS) == 0 && len(n.Search) == 0 && len(n.Options) == 0 && len(n.Hosts) == 0
}

// ParseNameOptions checks --dns, --dns-search, --dns-option and
// --add-host values as Docker does.
func ParseNameOptions(dns, search, options, addHosts []string) (NameOptions, error) {
	out := NameOptions{DNS: dns, Search: search, Options: options}
	for _, ip := range dns {
		if net.ParseIP(ip) == nil {
			return out, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--dns\" flag: %s is not an ip address", ip, ip)}
		}
	}
	hosts, err := ParseAddHosts(addHosts)
	out.Hosts = hosts
	return out, err
}

// ParseAddHosts reads --add-host NAME:IP or NAME=IP (Docker 25's form,
// which IPv6 needs) values; IP may be in brackets, or host-gateway.
func ParseAddHosts(addHosts []string) ([]Host, error) {
	var out []Host
	for _, h := range addHosts {
		name, ip, ok := strings.Cut(h, "=")
		if !ok {
			name, ip, ok = strings.Cut(h, ":")
		}
		switch {
		case !ok || name == "" || strings.ContainsAny(name, " \t"):
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q", h, h)}
		case ip == HostGateway:
		case net.ParseIP(strings.Trim(ip, "[]")) == nil:
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--add-host\" flag: invalid IP address in add-host: %q", h, ip)}
		}
		out = append(out, Host{Name: name, IP: strings.Trim(ip, "[]"), Given: h})
	}
	return out, nil
}
