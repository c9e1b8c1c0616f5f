package commands

import (
	"errors"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
		},
		Action: runRm,
	}
}

// runRm removes each named container, printing each name removed and one
// error line per failure, and exits 1 if any failed, as Docker does. With
// -f a name that matches nothing is reported but fails nothing.
func runRm(c *cli.Context) error {
	force := c.Bool("force")
	return eachName(c, func(e *engine.Engine, name string) (string, error) {
		var err error
		if c.Bool("volumes") {
			err = e.RemoveContainerAndVolumes(c.Context, name, force)
		} else {
			err = e.RemoveContainer(c.Context, name, force)
		}
		if err != nil && force && errors.Is(err, engine.ErrNoSuchContainer) {
			printError(c.App.ErrWriter, err)
			return "", nil
		}
		return name, err
	})
}
