package commands

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/storage"
	"box/storage/filter"
)

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused images",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: `provide filter values (e.g. "until=<timestamp>", "label=key=value")`},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			filter, err := pruneFilter(c)
			if err != nil {
				return err
			}
			all := c.Bool("all")
			warning := "WARNING! This will remove all dangling images."
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them."
			}
			if !c.Bool("force") && !confirm(c, warning+"\n") {
				return nil
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				rep, err := e.Store.PruneImages(all, filter)
				if rep != nil {
					printDeletedImages(c.App.Writer, rep)
					fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", units.HumanSize(float64(rep.Reclaimed)))
				}
				return err
			})
		},
	}
}

func systemPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused data",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.BoolFlag{Name: "volumes", Usage: "prune anonymous volumes"},
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
			if !pf.Until.IsZero() && c.Bool("volumes") {
				// Docker's words: volumes keep no creation time to compare.
				return usageErrorf(`the "until" filter is not supported with "--volumes"`)
			}
			all := c.Bool("all")
			// Box keeps no networks and no build cache: Docker's lines
			// for them would promise nothing.
			warning := "WARNING! This will remove:\n  - all stopped containers\n"
			if c.Bool("volumes") {
				warning += "  - all anonymous volumes not used by at least one container\n"
			}
			if all {
				warning += "  - all images without at least one container associated to them\n"
			} else {
				warning += "  - all dangling images\n"
			}
			if !c.Bool("force") && !confirm(c, warning+"\n") {
				return nil
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				var labels []string
				for _, f := range c.StringSlice("filter") {
					if strings.HasPrefix(f, "label=") || strings.HasPrefix(f, "label!=") {
						labels = append(labels, f)
					}
				}
				volumeFilters, err := filter.Parse(labels, engine.VolumePruneFilters)
				if err != nil {
					return err
				}
				rep, err := e.SystemPrune(c.Context, all, c.Bool("volumes"), pf, volumeFilters)
				if rep != nil {
					w := c.App.Writer
					if len(rep.Containers) > 0 {
						fmt.Fprintln(w, "Deleted Containers:")
						for _, id := range rep.Containers {
							fmt.Fprintln(w, id)
						}
						fmt.Fprintln(w)
					}
					if len(rep.Volumes) > 0 {
						fmt.Fprintln(w, "Deleted Volumes:")
						for _, name := range rep.Volumes {
							fmt.Fprintln(w, name)
						}
						fmt.Fprintln(w)
					}
					printDeletedImages(w, rep.Images)
					fmt.Fprintf(w, "Total reclaimed space: %s\n", units.HumanSize(float64(rep.Reclaimed)))
				}
				return err
			})
		},
	}
}

// confirm asks Docker's question after warning and reads the answer.
func confirm(c *cli.Context, warning string) bool {
	fmt.Fprint(c.App.ErrWriter, warning+"Are you sure you want to continue? [y/N] ")
	answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}

func pruneFilter(c *cli.Context) (storage.PruneFilter, error) {
	args, err := filter.Parse(c.StringSlice("filter"), storage.PruneFilters)
	if err != nil {
		return storage.PruneFilter{}, usageErrorf("%v", err)
	}
	f, err := storage.NewPruneFilter(args, time.Now())
	if err != nil {
		return f, usageErrorf("%v", err)
	}
	return f, nil
}

func printDeletedImages(w io.Writer, rep *storage.PruneReport) {
	if len(rep.Deleted) == 0 && len(rep.Untagged) == 0 {
		return
	}
	fmt.Fprintln(w, "Deleted Images:")
	for _, u := range rep.Untagged {
		fmt.Fprintf(w, "untagged: %s\n", u)
	}
	for _, d := range rep.Deleted {
		fmt.Fprintf(w, "deleted: %s\n", d)
	}
	fmt.Fprintln(w)
}
