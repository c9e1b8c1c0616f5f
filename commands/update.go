package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/flags"
)

// unsupportedUpdateFlags are Docker's `update` flags box does not have:
// each is refused by name rather than as an unknown flag.
var unsupportedUpdateFlags = map[string]bool{
	"cpu-rt-period": false, "cpu-rt-runtime": false,
	"kernel-memory": false,
}

func updateCommand() *cli.Command {
	cliFlags := append([]cli.Flag{
		&cli.StringFlag{Name: "restart", Usage: "restart policy to apply when a container exits: no, on-failure[:max-retries], always, unless-stopped"},
	}, resourceFlags()...)
	cliFlags = append(cliFlags, unsupportedFlags(unsupportedUpdateFlags)...)
	return &cli.Command{
		Name:      "update",
		Usage:     "update configuration of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     cliFlags,
		Action: func(c *cli.Context) error {
			if err := refuseUnsupported(c, unsupportedUpdateFlags); err != nil {
				return err
			}
			var opts engine.UpdateOptions
			if c.IsSet("restart") {
				r, err := flags.ParseRestartPolicy(c.String("restart"))
				if err != nil {
					return usageErrorf("%v", err)
				}
				opts.Restart = &r
			}
			r, err := parseResourceFlags(c, true)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if r.Any() {
				opts.Resources = &r
			}
			if opts.Restart == nil && opts.Resources == nil {
				return usageErrorf("you must provide one or more flags when using this command")
			}
			warned := false
			opts.Warn = func(w string) {
				if !warned {
					fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", w)
					warned = true
				}
			}
			return eachContainer(c, func(e *engine.Engine, name string) error {
				return e.Update(name, opts)
			})
		},
	}
}
