package commands

import (
	"fmt"
	"sort"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/flags"
)

const defaultVolumesTable = "table {{.Driver}}\t{{.Name}}"

// volumeHeaders are the column headers of `volume ls`, by template field.
var volumeHeaders = map[string]string{
	"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
	"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "CreatedAt": "CREATED AT",
}

func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "manage volumes",
		Subcommands: []*cli.Command{
			volumeCreateCommand(), volumeLsCommand(), volumeInspectCommand(),
			volumeRmCommand(), volumePruneCommand(),
		},
	}
}

func volumeCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a volume",
		ArgsUsage: "[VOLUME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "local", Usage: "specify volume driver name (local only)"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata for a volume"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "set driver specific options (box's local driver binds a directory: type=none,o=bind,device=DIR)"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 0, 1, func(e *engine.Engine) error {
				labels, err := flags.ParseLabels(c.StringSlice("label"))
				if err != nil {
					return err
				}
				v, err := e.CreateVolume(engine.VolumeCreateOptions{
					Name: c.Args().First(), Driver: c.String("driver"),
					Labels: labels, Options: c.StringSlice("opt"),
				})
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, v.Name)
				return nil
			})
		},
	}
}

func volumeLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list volumes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display volume names"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (name=, label=, dangling=, driver=)"},
		},
		Action: func(c *cli.Context) error {
			args, err := filterArgs(c, engine.VolumeFilters)
			if err != nil {
				return err
			}
			format := c.String("format")
			if (format == "" || format == "table") && c.Bool("quiet") {
				format = "{{.Name}}"
			}
			out, err := newLister(c.App.Writer, format, defaultVolumesTable, volumeHeaders)
			if err != nil {
				return err
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				list, err := e.Volumes(args)
				if err != nil {
					return err
				}
				for _, v := range list {
					row := newVolumeRow(v)
					if err := out.Row(row, row.jsonValue()); err != nil {
						return err
					}
				}
				return out.Flush()
			})
		},
	}
}

// volumeRow is one line of `volume ls`, with the fields Docker's
// templates know.
type volumeRow struct {
	Name, Driver, Scope, Mountpoint, Labels, Links, Size, CreatedAt string

	labels map[string]string
}

func newVolumeRow(v *engine.VolumeInspect) volumeRow {
	var labels []string
	for k, val := range v.Labels {
		labels = append(labels, k+"="+val)
	}
	sort.Strings(labels)
	return volumeRow{
		Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint,
		Labels: strings.Join(labels, ","), Links: "N/A", Size: "N/A", CreatedAt: v.CreatedAt,
		labels: v.Labels,
	}
}

// Label is one label's value: {{.Label "key"}}.
func (r volumeRow) Label(key string) string { return r.labels[key] }

// jsonValue is the row as Docker's `volume ls --format json` prints it.
func (r volumeRow) jsonValue() map[string]string {
	return map[string]string{
		"Availability": "N/A", "Driver": r.Driver, "Group": "N/A", "Labels": r.Labels, "Links": r.Links,
		"Mountpoint": r.Mountpoint, "Name": r.Name, "Scope": r.Scope, "Size": r.Size, "Status": "N/A",
	}
}

func volumeInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template, or 'json'"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return inspectAll(c, "volume")
		},
	}
}

func volumeRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not fail for volumes that do not exist"},
		},
		Action: func(c *cli.Context) error {
			return eachName(c, func(e *engine.Engine, name string) (string, error) {
				return name, e.RemoveVolume(name, c.Bool("force"))
			})
		},
	}
}

func volumePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused anonymous volumes (all unused volumes with --all)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (label=KEY[=VALUE])"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			args, err := filterArgs(c, engine.VolumePruneFilters)
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				what := "anonymous local volumes"
				if c.Bool("all") {
					what = "all local volumes"
				}
				if !confirm(c, fmt.Sprintf("WARNING! This will remove %s not used by at least one container.\n", what)) {
					return nil
				}
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				removed, reclaimed, err := e.PruneVolumes(c.Bool("all"), args)
				if len(removed) > 0 {
					fmt.Fprintln(c.App.Writer, "Deleted Volumes:")
					for _, name := range removed {
						fmt.Fprintln(c.App.Writer, name)
					}
					fmt.Fprintln(c.App.Writer)
				}
				fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", units.HumanSize(float64(reclaimed)))
				return err
			})
		},
	}
}
