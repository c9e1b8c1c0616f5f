package commands

import (
	"errors"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/compose"
)

// composeCpCommand is `compose cp`: box cp with a service in place of
// the container, copying from the service's first container (or
// --index) and to all of them.
func composeCpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "copy files/folders between a service container and the local filesystem",
		ArgsUsage: "SERVICE:SRC_PATH DEST_PATH|-\n" +
			"   box compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbol link in SRC_PATH"},
			&cli.IntFlag{Name: "index", Usage: "index of the container if service has multiple replicas"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			srcSvc, srcPath := splitCpArg(c.Args().Get(0))
			dstSvc, dstPath := splitCpArg(c.Args().Get(1))
			switch {
			case srcSvc != "" && dstSvc != "":
				return errors.New("copying between services is not supported")
			case srcSvc == "" && dstSvc == "":
				return errors.New("unknown copy direction")
			}
			from, service := srcSvc != "", srcSvc+dstSvc
			opts := engine.CopyOptions{Archive: c.Bool("archive"), FollowLink: c.Bool("follow-link")}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				list, err := cc.CopyTargets(p, service, c.Int("index"), from)
				if err != nil {
					return err
				}
				if !from && srcPath == "-" && len(list) > 1 {
					return usageErrorf("standard input can be copied to one container only: choose one with --index")
				}
				for _, ctr := range list {
					cc.Progress("Container", ctr.Name, "Copying")
					if from {
						err = cc.Engine.CopyFromContainer(ctr.ID, srcPath, dstPath, os.Stdout, opts)
					} else {
						err = cc.Engine.CopyToContainer(ctr.ID, dstPath, srcPath, os.Stdin, opts)
					}
					if err != nil {
						return err
					}
					cc.Progress("Container", ctr.Name, "Copied")
				}
				return nil
			})
		},
	}
}

// composeWaitCommand is `compose wait`: it blocks until the services'
// containers stop, says each one's exit code as Docker Compose does, and
// exits with the last one's.
func composeWaitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until containers of all (or specified) services stop",
		ArgsUsage: "SERVICE [SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "down-project", Usage: "drops project when the first container stops"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageErrorf("\"box compose wait\" requires at least 1 argument.\nSee 'box compose wait --help'.")
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				code, err := cc.Wait(c.Context, p, c.Args().Slice(), func(ctr *engine.Container, code int) {
					fmt.Fprintf(c.App.Writer, "container %q exited with status code %d\n", ctr.ID, code)
				})
				if err != nil {
					return err
				}
				if c.Bool("down-project") {
					if err := cc.Down(c.Context, p, compose.DownOptions{RemoveOrphans: true}); err != nil {
						return err
					}
				}
				if code != 0 {
					return &engine.ExitError{Code: code}
				}
				return nil
			})
		},
	}
}
