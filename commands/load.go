package commands

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
)

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "load images from a tar archive or STDIN",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from tar archive file, instead of STDIN"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the load output"},
		},
		Action: runLoad,
	}
}

// runLoad prints what Docker prints: one "Loaded image: NAME:TAG" per tag
// and "Loaded image ID: sha256:..." for an image without one. Box shows
// no progress, so -q changes nothing but is accepted.
func runLoad(c *cli.Context) error {
	if err := requireArgs(c, 0, 0); err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if in := c.String("input"); in != "" && in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	} else if term.IsTerminal(int(os.Stdin.Fd())) {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	return withEngine(c, 0, 0, func(e *engine.Engine) error {
		loaded, err := e.Store.Load(c.Context, r)
		if err != nil {
			return err
		}
		out := c.App.Writer
		for _, img := range loaded {
			for _, n := range img.Names {
				if old, ok := img.Moved[n]; ok {
					fmt.Fprintf(out, "The image %s already exists, renaming the old one with ID sha256:%s to empty string\n", n, old)
				}
				fmt.Fprintf(out, "Loaded image: %s\n", n)
			}
			if len(img.Names) == 0 {
				fmt.Fprintf(out, "Loaded image ID: sha256:%s\n", img.ID)
			}
		}
		return nil
	})
}
