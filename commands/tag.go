package commands

import (
	"errors"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/storage"
)

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Action: func(c *cli.Context) error {
			return withEngine(c, 2, 2, func(e *engine.Engine) error {
				source, target := c.Args().Get(0), c.Args().Get(1)
				err := e.Store.Tag(source, target)
				if errors.Is(err, storage.ErrImageNotFound) {
					return &shownError{msg: "No such image: " + source, err: err}
				}
				return referenceError(err)
			})
		},
	}
}
