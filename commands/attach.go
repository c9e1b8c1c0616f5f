package commands

import (
	"os"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "attach local standard input, output, and error streams to a running container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container (default \"ctrl-p,ctrl-q\")"},
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy all received signals to the process"},
		},
		Action: func(c *cli.Context) error {
			if _, err := engine.ParseDetachKeys(c.String("detach-keys")); err != nil {
				return usageErrorf("%v", err)
			}
			opts := engine.AttachOptions{
				NoStdin:    c.Bool("no-stdin"),
				DetachKeys: c.String("detach-keys"),
				SigProxy:   c.Bool("sig-proxy"),
			}
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				code, err := e.Attach(c.Context, c.Args().First(), opts, engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
				if err != nil {
					return err
				}
				if code != 0 {
					return &engine.ExitError{Code: code}
				}
				return nil
			})
		},
	}
}
