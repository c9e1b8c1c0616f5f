package commands

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			timeout, sig, err := stopOptions(c)
			if err != nil {
				return err
			}
			return eachContainer(c, func(e *engine.Engine, name string) error {
				return e.Stop(c.Context, name, timeout, sig)
			})
		},
	}
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "kill one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send to the container"},
		},
		Action: func(c *cli.Context) error {
			sig, err := engine.ParseSignal(c.String("signal"))
			if err != nil {
				return usageErrorf("%v", err)
			}
			return eachContainer(c, func(e *engine.Engine, name string) error {
				return e.Kill(name, sig)
			})
		},
	}
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until one or more containers stop, then print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "condition", Value: engine.WaitNotRunning, Usage: "condition to wait for: not-running, next-exit or removed"},
		},
		Action: func(c *cli.Context) error {
			switch cond := c.String("condition"); cond {
			case engine.WaitNotRunning, engine.WaitNextExit, engine.WaitRemoved:
			default:
				return usageErrorf("invalid condition: %q: want not-running, next-exit or removed", cond)
			}
			return eachName(c, func(e *engine.Engine, name string) (string, error) {
				code, err := e.WaitFor(c.Context, name, c.String("condition"))
				return strconv.Itoa(code), err
			})
		},
	}
}

// eachContainer applies act to every named container, printing each name
// it succeeded for and one error line per failure, as Docker does.
func eachContainer(c *cli.Context, act func(*engine.Engine, string) error) error {
	return eachName(c, func(e *engine.Engine, name string) (string, error) {
		return name, act(e, name)
	})
}

// eachName applies act to every name given, printing what it returns for
// each success and one error line per failure; any failure exits 1.
func eachName(c *cli.Context, act func(*engine.Engine, string) (string, error)) error {
	return withEngine(c, 1, -1, func(e *engine.Engine) error {
		var errs []error
		for _, name := range c.Args().Slice() {
			out, err := act(e, name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if out != "" {
				fmt.Fprintln(c.App.Writer, out)
			}
		}
		if len(errs) == 0 {
			return nil
		}
		printErrors(c.App.ErrWriter, errs)
		return errSilent
	})
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start one or more stopped containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach container's STDIN"},
		},
		Action: func(c *cli.Context) error {
			attach := c.Bool("attach") || c.Bool("interactive")
			if attach {
				// Attached, Docker's start takes one container and exits
				// with its code.
				return withEngine(c, 1, 1, func(e *engine.Engine) error {
					name := c.Args().First()
					code, err := e.Start(c.Context, name, true, c.Bool("interactive"), engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
					if err != nil {
						return &startFailure{err}
					}
					if code != 0 {
						return &engine.ExitError{Code: code}
					}
					return nil
				})
			}
			return eachName(c, func(e *engine.Engine, name string) (string, error) {
				return startDetached(c, e, name)
			})
		},
	}
}

// startDetached starts a container under its monitor and returns its
// name to print.
func startDetached(c *cli.Context, e *engine.Engine, name string) (string, error) {
	_, err := e.Start(c.Context, name, false, false, engine.IO{})
	return name, err
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "restart one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			timeout, sig, err := stopOptions(c)
			if err != nil {
				return err
			}
			return eachName(c, func(e *engine.Engine, name string) (string, error) {
				if err := e.Stop(c.Context, name, timeout, sig); err != nil {
					return "", err
				}
				return startDetached(c, e, name)
			})
		},
	}
}

// stopFlags are stop's and restart's: Docker 25 named -t --timeout and
// kept --time, hidden, for older scripts.
func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: 10, Usage: "seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: for ever)"},
		&cli.IntFlag{Name: "time", Value: 10, Hidden: true, Usage: "seconds to wait before killing the container (deprecated: use --timeout)"},
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container (default: its --stop-signal, else the image's StopSignal, else SIGTERM)"},
	}
}

// stopOptions reads stopFlags: a timeout of -1 when none was given,
// which the engine reads as the container's own.
func stopOptions(c *cli.Context) (time.Duration, syscall.Signal, error) {
	if c.IsSet("time") && c.IsSet("timeout") {
		return 0, 0, usageErrorf("conflicting options: cannot specify both --timeout and --time")
	}
	seconds := c.Int("timeout")
	if c.IsSet("time") {
		seconds = c.Int("time")
	}
	var sig syscall.Signal
	if s := c.String("signal"); s != "" {
		var err error
		if sig, err = engine.ParseSignal(s); err != nil {
			return 0, 0, usageErrorf("%v", err)
		}
	}
	switch {
	case !c.IsSet("time") && !c.IsSet("timeout"):
		return -1, sig, nil // the container's --stop-timeout, else 10 s
	case seconds < 0:
		return 100 * 365 * 24 * time.Hour, sig, nil // Docker's -1: wait for ever
	}
	return time.Duration(seconds) * time.Second, sig, nil
}
