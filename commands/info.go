package commands

import (
	"fmt"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"box/engine"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "display system-wide information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using the given Go template"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				info, err := e.Info()
				if err != nil {
					return err
				}
				if f := c.String("format"); f != "" {
					return printJSONOrTemplateOne(c.App.Writer, f, info)
				}
				w := c.App.Writer
				fmt.Fprintf(w, "Version:         %s\n", info.Version)
				fmt.Fprintf(w, "Rootless:        %t\n", info.Rootless)
				if info.Rootless {
					fmt.Fprintf(w, "ID mapping:      %s\n", info.IDMode)
					fmt.Fprintf(w, " UID map:        %s\n", mapString(info.UIDMap))
					fmt.Fprintf(w, " GID map:        %s\n", mapString(info.GIDMap))
				}
				fmt.Fprintf(w, "Storage Driver:  %s\n", info.Driver)
				fmt.Fprintf(w, " Root:           %s\n", info.GraphRoot)
				fmt.Fprintf(w, " Run Root:       %s\n", info.RunRoot)
				fmt.Fprintf(w, "Images:          %d\n", info.Images)
				fmt.Fprintf(w, "Containers:      %d\n", info.Containers)
				fmt.Fprintf(w, "Cgroup Version:  %s\n", info.CgroupVersion)
				fmt.Fprintf(w, "Kernel Version:  %s\n", info.Kernel)
				fmt.Fprintf(w, "OSType/Arch:     %s/%s\n", info.OS, info.Arch)
				fmt.Fprintf(w, "Network:         %s\n", info.Network)
				fmt.Fprintf(w, "Registries:\n")
				fmt.Fprintf(w, " Search:         %s\n", strings.Join(info.Search, ", "))
				for _, r := range info.Registries {
					fmt.Fprintf(w, " %s: location=%s insecure=%t", r.Prefix, r.Location, r.Insecure)
					if len(r.Mirrors) > 0 {
						fmt.Fprintf(w, " mirrors=%s", strings.Join(r.Mirrors, ","))
					}
					fmt.Fprintln(w)
				}
				return nil
			})
		},
	}
}

func mapString(m []specs.LinuxIDMapping) string {
	var parts []string
	for _, r := range m {
		parts = append(parts, fmt.Sprintf("%d:%d:%d", r.ContainerID, r.HostID, r.Size))
	}
	return strings.Join(parts, " ")
}
