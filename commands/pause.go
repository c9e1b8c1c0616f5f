package commands

import (
	"github.com/urfave/cli/v2"

	"box/engine"
)

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "pause all processes within one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			return eachContainer(c, func(e *engine.Engine, name string) error { return e.Pause(name) })
		},
	}
}

func unpauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "unpause",
		Usage:     "unpause all processes within one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			return eachContainer(c, func(e *engine.Engine, name string) error { return e.Unpause(name) })
		},
	}
}
