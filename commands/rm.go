package commands

import (
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
// error line per failure, and exits 1 if any failed, as Docker does.
func runRm(c *cli.Context) error {
	return eachContainer(c, func(e *engine.Engine, name string) error {
		if c.Bool("volumes") {
			return e.RemoveContainerAndVolumes(c.Context, name, c.Bool("force"))
		}
		return e.RemoveContainer(c.Context, name, c.Bool("force"))
	})
}
