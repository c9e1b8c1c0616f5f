package commands

import (
	"fmt"
	"net"
	"strconv"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/flags"
	"box/engine/network"
)

func portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "list port mappings or a specific mapping for the container",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Action: func(c *cli.Context) error {
			return withEngine(c, 1, 2, func(e *engine.Engine) error {
				var only network.Port
				if c.Args().Len() == 2 {
					var err error
					if only, err = flags.ParseContainerPort(c.Args().Get(1)); err != nil {
						return err
					}
				}
				ports, err := e.Ports(c.Args().Get(0), only)
				if err != nil {
					return err
				}
				for _, p := range ports {
					ip := p.HostIP
					if ip == "" {
						ip = "0.0.0.0"
					}
					host := net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
					if c.Args().Len() == 2 {
						fmt.Fprintln(c.App.Writer, host)
					} else {
						fmt.Fprintf(c.App.Writer, "%d/%s -> %s\n", p.ContainerPort, p.Proto, host)
					}
				}
				return nil
			})
		},
	}
}
