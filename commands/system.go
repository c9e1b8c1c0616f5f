package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func systemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "remove all images, containers and state box stored for you",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") && !confirm(c, fmt.Sprintf("WARNING! This will remove all containers, images and build state in %s.\n", e.Store.Root())) {
				e.Close()
				return nil
			}
			return e.Reset()
		},
	}
}
