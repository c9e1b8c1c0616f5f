package commands

import (
	"fmt"
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
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: 10, Usage: "seconds to wait before killing the container"},
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container (default: the image's StopSignal, else SIGTERM)"},
		},
		Action: func(c *cli.Context) error {
			var sig syscall.Signal
			if s := c.String("signal"); s != "" {
				var err error
				if sig, err = engine.ParseSignal(s); err != nil {
					return usageErrorf("%v", err)
				}
			}
			timeout := time.Duration(c.Int("time")) * time.Second
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
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			var errs []error
			for _, name := range c.Args().Slice() {
				code, err := e.Wait(c.Context, name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(c.App.Writer, code)
			}
			return finishEach(c, errs)
		},
	}
}

// eachContainer applies act to every named container, printing each name
// it succeeded for and one error line per failure, as Docker does.
func eachContainer(c *cli.Context, act func(*engine.Engine, string) error) error {
	if err := requireArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	var errs []error
	for _, name := range c.Args().Slice() {
		if err := act(e, name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, name)
	}
	return finishEach(c, errs)
}

// finishEach reports the failures of a verb that takes many names: one
// line each, exit 1 if any.
func finishEach(c *cli.Context, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	printErrors(c.App.ErrWriter, errs)
	return errSilent
}
