package commands

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export a container's filesystem as a tar archive",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file, instead of STDOUT"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			out := c.String("output")
			if out == "" && term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				if out == "" {
					return e.Export(c.Args().First(), os.Stdout)
				}
				return exportToFile(e, c.Args().First(), out)
			})
		},
	}
}

// exportToFile writes the archive beside path and renames it into place,
// as Docker does, so that a failed export leaves no partial file (and,
// as with Docker, the file is private to the user: mode 0600).
func exportToFile(e *engine.Engine, name, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".box_temp_")
	if err != nil {
		return fmt.Errorf("failed to create a temporary file: %w", err)
	}
	err = e.Export(name, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
