package commands

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"box/engine"
)

const defaultNetworksTable = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

// networkHeaders are the column headers of `network ls`, by template field.
var networkHeaders = map[string]string{
	"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
	"IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
}

func networkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "manage networks",
		Subcommands: []*cli.Command{
			networkCreateCommand(), networkLsCommand(), networkInspectCommand(),
			networkRmCommand(), networkPruneCommand(),
			networkConnectCommand(), networkDisconnectCommand(),
		},
	}
}

func networkCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a network",
		ArgsUsage: "NETWORK",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "driver to manage the network (bridge only)"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "set driver specific options"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata on a network"},
			&cli.BoolFlag{Name: "internal", Usage: "restrict external access to the network"},
			&cli.BoolFlag{Name: "ipv4", Value: true, Usage: "enable IPv4 address assignment (always on)"},
			&cli.BoolFlag{Name: "ipv6", Usage: "enable IPv6 address assignment (not supported)"},
			&cli.BoolFlag{Name: "attachable", Usage: "enable manual container attachment (always on)"},
			&cli.StringSliceFlag{Name: "subnet", Usage: "subnet in CIDR format that represents a network segment"},
			&cli.StringSliceFlag{Name: "gateway", Usage: "IPv4 gateway for the subnet"},
			&cli.StringSliceFlag{Name: "ip-range", Usage: "allocate container ip from a sub-range"},
			&cli.StringFlag{Name: "ipam-driver", Value: "default", Usage: "IP address management driver (default only)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			if !c.Bool("ipv4") {
				return usageErrorf("--ipv4=false is not supported: box's networks are IPv4")
			}
			if d := c.String("ipam-driver"); d != "default" {
				return usageErrorf("ipam driver %q not found: box has the default one only", d)
			}
			subnet, err := oneValue(c, "subnet")
			if err != nil {
				return err
			}
			gateway, err := oneValue(c, "gateway")
			if err != nil {
				return err
			}
			ipRange, err := oneValue(c, "ip-range")
			if err != nil {
				return err
			}
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				n, err := e.CreateNetwork(engine.NetworkCreateOptions{
					Name: c.Args().First(), Driver: c.String("driver"),
					Subnet: subnet, Gateway: gateway, IPRange: ipRange,
					Internal: c.Bool("internal"), IPv6: c.Bool("ipv6"),
					Labels: c.StringSlice("label"), Options: c.StringSlice("opt"),
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, n.ID)
				return nil
			})
		},
	}
}

// oneValue is flag's value when given at most once: box's networks have
// one subnet each.
func oneValue(c *cli.Context, flag string) (string, error) {
	v := c.StringSlice(flag)
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", usageErrorf("--%s given %d times: box's networks have one IPv4 subnet each", flag, len(v))
}

func networkLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display network IDs"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate the output"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values (name=, id=, label=, driver=, scope=, type=, dangling=)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			args, err := filterArgs(c, engine.NetworkFilters)
			if err != nil {
				return err
			}
			format := c.String("format")
			if (format == "" || format == "table") && c.Bool("quiet") {
				format = "{{.ID}}"
			}
			out, err := newLister(c.App.Writer, format, defaultNetworksTable, networkHeaders)
			if err != nil {
				return err
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				list, err := e.Networks(args)
				if err != nil {
					return err
				}
				for _, n := range list {
					row := newNetworkRow(n, !c.Bool("no-trunc"))
					if err := out.Row(row, row.jsonValue()); err != nil {
						return err
					}
				}
				return out.Flush()
			})
		},
	}
}

// networkRow is one line of `network ls`, with the fields Docker's
// templates know.
type networkRow struct {
	ID, Name, Driver, Scope, IPv4, IPv6, Internal, Labels, CreatedAt string

	labels map[string]string
}

func newNetworkRow(n *engine.NetworkInspect, trunc bool) networkRow {
	id := n.ID
	if trunc && len(id) > 12 {
		id = id[:12]
	}
	var labels []string
	for k, v := range n.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	created := ""
	if !n.Created.IsZero() {
		created = n.Created.String()
	}
	return networkRow{
		ID: id, Name: n.Name, Driver: n.Driver, Scope: n.Scope,
		IPv4: strconv.FormatBool(n.EnableIPv4), IPv6: strconv.FormatBool(n.EnableIPv6),
		Internal: strconv.FormatBool(n.Internal), Labels: strings.Join(labels, ","), CreatedAt: created,
		labels: n.Labels,
	}
}

// Label is one label's value: {{.Label "key"}}.
func (r networkRow) Label(key string) string { return r.labels[key] }

// jsonValue is the row as Docker's `network ls --format json` prints it.
func (r networkRow) jsonValue() map[string]string {
	return map[string]string{
		"CreatedAt": r.CreatedAt, "Driver": r.Driver, "ID": r.ID, "IPv4": r.IPv4, "IPv6": r.IPv6,
		"Internal": r.Internal, "Labels": r.Labels, "Name": r.Name, "Scope": r.Scope,
	}
}

func networkInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template, or 'json'"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "verbose output for diagnostics (no more than without)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return inspectAll(c, "network")
		},
	}
}

func networkRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not error if the network does not exist"},
		},
		Action: func(c *cli.Context) error {
			return eachName(c, func(e *engine.Engine, name string) (string, error) {
				err := e.RemoveNetwork(name)
				if c.Bool("force") && errors.Is(err, engine.ErrNoSuchNetwork) {
					// Docker says nothing of the networks -f passed over.
					return "", nil
				}
				return name, err
			})
		},
	}
}

func networkPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove all unused networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. \"until=<timestamp>\")"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			filter, err := pruneFilter(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") && !confirm(c, "WARNING! This will remove all custom networks not used by at least one container.\n") {
				return nil
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				removed, err := e.PruneNetworks(filter)
				if len(removed) > 0 {
					fmt.Fprintln(c.App.Writer, "Deleted Networks:")
					for _, name := range removed {
						fmt.Fprintln(c.App.Writer, name)
					}
					fmt.Fprintln(c.App.Writer)
				}
				return err
			})
		},
	}
}

func networkConnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "connect a container to a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "alias", Usage: "add a network-scoped alias for the container"},
			&cli.StringFlag{Name: "ip", Usage: "IPv4 address (e.g. 172.30.100.104)"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 2, 2, func(e *engine.Engine) error {
				return e.ConnectNetwork(engine.NetworkConnectOptions{
					Network: c.Args().Get(0), Container: c.Args().Get(1),
					Aliases: c.StringSlice("alias"), IP: c.String("ip"),
				})
			})
		},
	}
}

func networkDisconnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "disconnect",
		Usage:     "disconnect a container from a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the container to disconnect from a network"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 2, 2, func(e *engine.Engine) error {
				return e.DisconnectNetwork(c.Args().Get(0), c.Args().Get(1), c.Bool("force"))
			})
		},
	}
}
