package commands

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"box/storage"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "show the box version information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using the given Go template"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			v := versionInfo{Client: clientVersion{
				Version: storage.Version, GoVersion: runtime.Version(),
				Os: runtime.GOOS, Arch: runtime.GOARCH,
			}}
			if f := c.String("format"); f != "" {
				return printJSONOrTemplateOne(c.App.Writer, f, v)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "Client:\n Version:    %s\n Go version: %s\n OS/Arch:    %s/%s\n",
				v.Client.Version, v.Client.GoVersion, v.Client.Os, v.Client.Arch)
			return nil
		},
	}
}

type versionInfo struct {
	Client clientVersion
}

type clientVersion struct {
	Version   string
	GoVersion string
	Os        string
	Arch      string
}
