package commands

import (
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/flags"
)

// updateResourceFlags are Docker's `update` flags for resources. Box
// cannot change a container's limits yet: each is refused by name rather
// than as an unknown flag.
var updateResourceFlags = []string{
	"blkio-weight", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime",
	"cpu-shares", "cpus", "cpuset-cpus", "cpuset-mems", "kernel-memory", "memory",
	"memory-reservation", "memory-swap", "pids-limit",
}

func updateCommand() *cli.Command {
	cliFlags := []cli.Flag{
		&cli.StringFlag{Name: "restart", Usage: "restart policy to apply when a container exits: no, on-failure[:max-retries], always, unless-stopped"},
	}
	for _, name := range updateResourceFlags {
		f := &cli.StringFlag{Name: name, Usage: "not supported by box yet"}
		switch name {
		case "memory":
			f.Aliases = []string{"m"}
		case "cpu-shares":
			f.Aliases = []string{"c"}
		}
		cliFlags = append(cliFlags, f)
	}
	return &cli.Command{
		Name:      "update",
		Usage:     "update configuration of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     cliFlags,
		Action: func(c *cli.Context) error {
			for _, name := range updateResourceFlags {
				if c.IsSet(name) {
					return usageErrorf("--%s is not supported by box update: it can change the restart policy only (--restart)", name)
				}
			}
			var opts engine.UpdateOptions
			if c.IsSet("restart") {
				r, err := flags.ParseRestartPolicy(c.String("restart"))
				if err != nil {
					return usageErrorf("%v", err)
				}
				opts.Restart = &r
			} else {
				return usageErrorf("you must provide one or more flags when using this command")
			}
			return eachContainer(c, func(e *engine.Engine, name string) error {
				return e.Update(name, opts)
			})
		},
	}
}
