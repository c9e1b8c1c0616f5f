package commands

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func unshareCommand() *cli.Command {
	return &cli.Command{
		Name:            "unshare",
		Usage:           "run a command inside box's user namespace (e.g. to remove files owned by subordinate ids)",
		ArgsUsage:       "[COMMAND [ARG...]]",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			root, runRoot := e.Store.Root(), e.Store.RunRoot()
			e.Close()
			args := c.Args().Slice()
			if len(args) == 0 {
				shell := os.Getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				args = []string{shell}
			}
			path, err := exec.LookPath(args[0])
			if err != nil {
				return &engine.CommandError{Path: args[0], NotFound: true, Err: err}
			}
			env := append(os.Environ(), "BOX_STORAGE_ROOT="+root, "BOX_RUN_ROOT="+runRoot)
			err = syscall.Exec(path, args, env)
			if errors.Is(err, syscall.EACCES) {
				return &engine.CommandError{Path: args[0], Err: err}
			}
			return fmt.Errorf("exec %s: %w", args[0], err)
		},
	}
}
