package commands

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"box/engine/build"
	"box/storage"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import the contents from a tarball to create a filesystem image",
		ArgsUsage: "file|URL|- [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply Dockerfile instruction to the created image"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "set commit message for imported image"},
		},
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	if err := requireArgs(c, 1, 2); err != nil {
		return err
	}
	opts := storage.ImportOptions{Message: c.String("message")}
	if c.NArg() == 2 {
		ref, err := storage.ParseReference(c.Args().Get(1))
		if err != nil {
			return err
		}
		opts.Ref = ref
	}
	changes, err := build.ParseChanges(c.StringSlice("change"))
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := changes.Apply(&opts.Config); err != nil {
		return usageErrorf("%v", err)
	}
	src := c.Args().First()
	var r io.Reader
	switch {
	case src == "-":
		r = os.Stdin
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		resp, err := http.Get(src)
		if err != nil {
			return fmt.Errorf("import %s: %w", src, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("import %s: %s", src, resp.Status)
		}
		r = resp.Body
	default:
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	id, err := e.Store.Import(c.Context, r, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "sha256:%s\n", id)
	return nil
}
