package commands

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func cpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "copy files/folders between a container and the local filesystem",
		ArgsUsage: "CONTAINER:SRC_PATH DEST_PATH|-\n" +
			"   box cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbol link in SRC_PATH"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress progress output during copy (box prints none)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			srcCtr, srcPath := splitCpArg(c.Args().Get(0))
			dstCtr, dstPath := splitCpArg(c.Args().Get(1))
			switch {
			case srcCtr != "" && dstCtr != "":
				return errors.New("copying between containers is not supported")
			case srcCtr == "" && dstCtr == "":
				return errors.New("must specify at least one container source")
			}
			opts := engine.CopyOptions{Archive: c.Bool("archive"), FollowLink: c.Bool("follow-link")}
			return withEngine(c, 2, 2, func(e *engine.Engine) error {
				if srcCtr != "" {
					return e.CopyFromContainer(srcCtr, srcPath, dstPath, os.Stdout, opts)
				}
				return e.CopyToContainer(dstCtr, dstPath, srcPath, os.Stdin, opts)
			})
		},
	}
}

// splitCpArg splits CONTAINER:PATH as Docker does: an absolute path, an
// argument without a colon, or one starting with "." (./file:name) is a
// local path.
func splitCpArg(arg string) (container, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	container, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(container, ".") {
		return "", arg
	}
	return container, path
}
