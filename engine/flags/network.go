package flags

import (
	"fmt"
	"path"
	"strings"
)

// NetworkMode is the kind of network --network asks for.
type NetworkMode string

const (
	// NetworkDefault is box's default: a private network of the
	// container's own ("", default, bridge and private say it).
	NetworkDefault NetworkMode = ""
	// NetworkHost shares the host's network.
	NetworkHost NetworkMode = "host"
	// NetworkNone is a network namespace with loopback only.
	NetworkNone NetworkMode = "none"
	// NetworkContainer shares the network of the container Name.
	NetworkContainer NetworkMode = "container"
	// NetworkNamed is a network by its name: a private network driver
	// (pasta, netstack) or a user-defined network; the engine tells
	// which, and whether it exists.
	NetworkNamed NetworkMode = "named"
)

// Network is --network's value.
type Network struct {
	Mode NetworkMode `json:"mode,omitempty"`
	// Name is the container (NetworkContainer) or the network
	// (NetworkNamed).
	Name string `json:"name,omitempty"`
}

// ParseNetwork reads --network: "", default, bridge or private; host;
// none; container:NAME; or the name of a network. It cannot fail: only
// the engine knows which names exist.
func ParseNetwork(s string) Network {
	switch s {
	case "", "default", "bridge", "private":
		return Network{}
	case "host":
		return Network{Mode: NetworkHost}
	case "none":
		return Network{Mode: NetworkNone}
	}
	if name, ok := strings.CutPrefix(s, "container:"); ok && name != "" {
		return Network{Mode: NetworkContainer, Name: name}
	}
	return Network{Mode: NetworkNamed, Name: s}
}

// NamedNetwork is the network called name.
func NamedNetwork(name string) Network { return Network{Mode: NetworkNamed, Name: name} }

// String is the network as the engine records its mode (and inspect
// shows it in HostConfig.NetworkMode): "" for the default, host, none,
// container:NAME, or the name.
func (n Network) String() string {
	switch n.Mode {
	case NetworkHost, NetworkNone:
		return string(n.Mode)
	case NetworkContainer:
		return "container:" + n.Name
	}
	return n.Name
}

// Link is one --link NAME[:ALIAS]: the container linked to and the name
// the linking container knows it by (NAME when no alias is given).
type Link struct {
	Name  string `json:"name"`
	Alias string `json:"alias"`
}

// ParseLinks reads --link as Docker's CLI does (opts.ParseLink): NAME or
// NAME:ALIAS, and the form inspect shows, /NAME:/LINKER/ALIAS, which
// scripts feed back.
func ParseLinks(specs []string) ([]Link, error) {
	var out []Link
	for _, s := range specs {
		if s == "" {
			return nil, &UsageError{Msg: "invalid argument \"\" for \"--link\" flag: empty string specified for links"}
		}
		parts := strings.SplitN(s, ":", 3)
		bad := &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--link\" flag: bad format for links: %s", s, s)}
		name := strings.TrimPrefix(parts[0], "/")
		if len(parts) > 2 || name == "" {
			return nil, bad
		}
		alias := name
		if len(parts) == 2 {
			alias = parts[1]
			if strings.HasPrefix(parts[0], "/") {
				// inspect's form: the alias is the last element.
				alias = path.Base(alias)
			}
		}
		if alias == "" || alias == "/" || alias == "." {
			return nil, bad
		}
		out = append(out, Link{Name: name, Alias: alias})
	}
	return out, nil
}
