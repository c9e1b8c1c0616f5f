package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/build"
	"box/storage"
)

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "create a new image from a container's changes",
		ArgsUsage: "CONTAINER [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply Dockerfile instruction to the created image"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: `author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Value: true, Usage: "pause container during commit (rootful only: rootless containers cannot be frozen and are committed running)"},
		},
		Action: runCommit,
	}
}

func runCommit(c *cli.Context) error {
	if err := requireArgs(c, 1, 2); err != nil {
		return err
	}
	changes, err := build.ParseChanges(c.StringSlice("change"))
	if err != nil {
		return usageErrorf("%v", err)
	}
	opts := engine.CommitOptions{
		Changes: changes.Apply,
		Message: c.String("message"),
		Author:  c.String("author"),
		Pause:   c.Bool("pause"),
	}
	if c.NArg() == 2 {
		ref, err := storage.ParseReference(c.Args().Get(1))
		if err != nil {
			return referenceError(err)
		}
		opts.Ref = ref
	}
	return withEngine(c, 1, 2, func(e *engine.Engine) error {
		id, err := e.Commit(c.Context, c.Args().First(), opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "sha256:%s\n", id)
		return nil
	})
}
