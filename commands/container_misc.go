package commands

import (
	"fmt"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
)

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "rename a container",
		ArgsUsage: "CONTAINER NEW_NAME",
		Action: func(c *cli.Context) error {
			return withEngine(c, 2, 2, func(e *engine.Engine) error {
				// Docker's daemon takes "/NAME" for NAME.
				return e.Rename(c.Args().Get(0), strings.TrimPrefix(c.Args().Get(1), "/"))
			})
		},
	}
}

func containerPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove all stopped containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: `provide filter values (e.g. "until=<timestamp>", "label=key=value")`},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			pf, err := pruneFilter(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") && !confirm(c, "WARNING! This will remove all stopped containers.\n") {
				return nil
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			removed, reclaimed, err := e.Prune(c.Context, pf)
			if len(removed) > 0 {
				fmt.Fprintln(c.App.Writer, "Deleted Containers:")
				for _, id := range removed {
					fmt.Fprintln(c.App.Writer, id)
				}
				fmt.Fprintln(c.App.Writer)
			}
			fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", units.HumanSize(float64(reclaimed)))
			return err
		},
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "inspect changes to files or directories on a container's filesystem",
		ArgsUsage: "CONTAINER",
		Action: func(c *cli.Context) error {
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				changes, err := e.Diff(c.Args().First())
				if err != nil {
					return err
				}
				for _, ch := range changes {
					fmt.Fprintf(c.App.Writer, "%s %s\n", ch.Kind, ch.Path)
				}
				return nil
			})
		},
	}
}
