package commands

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
	"box/engine/flags"
	"box/engine/spec"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:                   "exec",
		Usage:                  "execute a command in a running container",
		ArgsUsage:              "CONTAINER COMMAND [ARG...]",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "read in a file of environment variables"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching (default \"ctrl-p,ctrl-q\")"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usageErrorf("\"box exec\" requires at least 2 arguments.\nSee 'box exec --help'.")
			}
			env, err := flags.ParseEnv(c.StringSlice("env"), c.StringSlice("env-file"))
			var usage *engine.UsageError
			if errors.As(err, &usage) {
				// Options exec cannot apply: 125, as for run.
				return &runFailure{err}
			} else if err != nil {
				return err
			}
			opts := engine.ExecOptions{
				ExecOptions: spec.ExecOptions{
					Args:       c.Args().Slice()[1:],
					Env:        env,
					User:       c.String("user"),
					WorkingDir: c.String("workdir"),
					TTY:        c.Bool("tty"),
					Privileged: c.Bool("privileged"),
				},
				Interactive: c.Bool("interactive"),
				Detach:      c.Bool("detach"),
				DetachKeys:  c.String("detach-keys"),
			}
			if _, err := engine.ParseDetachKeys(opts.DetachKeys); err != nil {
				return usageErrorf("%v", err)
			}
			if opts.TTY && opts.Interactive && !opts.Detach && !term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("the input device is not a TTY")
			}
			return withEngine(c, 2, -1, func(e *engine.Engine) error {
				code, err := e.Exec(c.Context, c.Args().First(), opts, engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
				var usage *engine.UsageError
				if errors.As(err, &usage) {
					// Options exec cannot apply: 125, as for run.
					return &runFailure{err}
				}
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
