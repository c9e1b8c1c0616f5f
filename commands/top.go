package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "display the running processes of a container",
		ArgsUsage: "CONTAINER [ps OPTIONS]",
		// ps's options are ps's: box must not read them as its own.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
				return cli.ShowSubcommandHelp(c)
			}
			return withEngine(c, 1, -1, func(e *engine.Engine) error {
				top, err := e.Top(args[0], args[1:])
				if err != nil {
					return err
				}
				// Docker's table: tab-separated, aligned like its other tables.
				w := tabwriter.NewWriter(c.App.Writer, 20, 1, 3, ' ', 0)
				fmt.Fprintln(w, strings.Join(top.Titles, "\t"))
				for _, p := range top.Processes {
					fmt.Fprintln(w, strings.Join(p, "\t"))
				}
				return w.Flush()
			})
		},
	}
}
