package commands

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
	"box/storage"
)

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "save one or more images to a tar archive (streamed to STDOUT by default)",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file, instead of STDOUT"},
			&cli.StringFlag{Name: "format", Value: storage.DockerArchive, Usage: "archive format: docker-archive or oci-archive"},
		},
		Action: runSave,
	}
}

func runSave(c *cli.Context) error {
	if err := requireArgs(c, 1, -1); err != nil {
		return err
	}
	opts := storage.SaveOptions{Names: c.Args().Slice(), Format: c.String("format"), Output: c.String("output")}
	if f := opts.Format; f != storage.DockerArchive && f != storage.OCIArchive {
		return usageErrorf("invalid --format %q: want %s or %s", f, storage.DockerArchive, storage.OCIArchive)
	}
	if opts.Output == "" || opts.Output == "-" {
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
		opts.Writer = os.Stdout
	}
	return withEngine(c, 1, -1, func(e *engine.Engine) error {
		err := e.Store.Save(c.Context, opts)
		var nf *storage.NotFoundError
		if errors.As(err, &nf) && nf.Registry == "" {
			return imageError(nf.Ref, err)
		}
		return err
	})
}
