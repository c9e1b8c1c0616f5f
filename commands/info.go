package commands

import (
	"fmt"
	"io"
	"sort"
	"strings"

	units "github.com/docker/go-units"
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
				printInfo(c.App.Writer, info)
				// Docker puts the warnings on stderr, under the rest.
				for _, w := range info.Warnings {
					fmt.Fprintln(c.App.ErrWriter, w)
				}
				return nil
			})
		},
	}
}

// printInfo prints Docker's layout of `docker info` (docker/cli's
// prettyPrintInfo), then box's own lines at the end of the Server section.
func printInfo(w io.Writer, info *engine.Info) {
	fmt.Fprintln(w, "Client: box")
	fmt.Fprintln(w, " Version:   ", info.ServerVersion)
	fmt.Fprintln(w, " Context:    default")
	fmt.Fprintln(w, " Debug Mode:", info.Debug)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Server:")
	fmt.Fprintln(w, " Containers:", info.Containers)
	fmt.Fprintln(w, "  Running:", info.ContainersRunning)
	fmt.Fprintln(w, "  Paused:", info.ContainersPaused)
	fmt.Fprintln(w, "  Stopped:", info.ContainersStopped)
	fmt.Fprintln(w, " Images:", info.Images)
	fmt.Fprintln(w, " Server Version:", info.ServerVersion)
	fmt.Fprintln(w, " Storage Driver:", info.Driver)
	for _, pair := range info.DriverStatus {
		fmt.Fprintf(w, "  %s: %s\n", pair[0], pair[1])
	}
	fmt.Fprintln(w, " Logging Driver:", info.LoggingDriver)
	fmt.Fprintln(w, " Cgroup Driver:", info.CgroupDriver)
	fmt.Fprintln(w, " Cgroup Version:", info.CgroupVersion)
	runtimes := make([]string, 0, len(info.Runtimes))
	for name := range info.Runtimes {
		runtimes = append(runtimes, name)
	}
	sort.Strings(runtimes)
	fmt.Fprintln(w, " Runtimes:", strings.Join(runtimes, " "))
	fmt.Fprintln(w, " Default Runtime:", info.DefaultRuntime)
	fmt.Fprintln(w, " Init Binary:", info.InitBinary)
	fmt.Fprintln(w, " runc version:", info.RuncCommit.ID)
	if len(info.SecurityOptions) > 0 {
		fmt.Fprintln(w, " Security Options:")
		for _, opt := range info.SecurityOptions {
			printSecurityOption(w, opt)
		}
	}
	fmt.Fprintln(w, " Kernel Version:", info.KernelVersion)
	fmt.Fprintln(w, " Operating System:", info.OperatingSystem)
	fmt.Fprintln(w, " OSType:", info.OSType)
	fmt.Fprintln(w, " Architecture:", info.Architecture)
	fmt.Fprintln(w, " CPUs:", info.NCPU)
	fmt.Fprintln(w, " Total Memory:", units.BytesSize(float64(info.MemTotal)))
	fmt.Fprintln(w, " Name:", info.Name)
	fmt.Fprintln(w, " ID:", info.ID)
	fmt.Fprintln(w, " Docker Root Dir:", info.DockerRootDir)
	fmt.Fprintln(w, " Debug Mode:", info.Debug)
	for _, p := range [][2]string{{"HTTP Proxy", info.HTTPProxy}, {"HTTPS Proxy", info.HTTPSProxy}, {"No Proxy", info.NoProxy}} {
		if p[1] != "" {
			fmt.Fprintf(w, " %s: %s\n", p[0], p[1])
		}
	}
	fmt.Fprintln(w, " Experimental:", info.ExperimentalBuild)
	if rc := info.RegistryConfig; rc != nil {
		var insecure []string
		for _, ic := range rc.IndexConfigs {
			if !ic.Secure {
				insecure = append(insecure, ic.Name)
			}
		}
		sort.Strings(insecure)
		if insecure = append(insecure, rc.InsecureRegistryCIDRs...); len(insecure) > 0 {
			fmt.Fprintln(w, " Insecure Registries:")
			for _, r := range insecure {
				fmt.Fprintln(w, "  "+r)
			}
		}
		if len(rc.Mirrors) > 0 {
			fmt.Fprintln(w, " Registry Mirrors:")
			for _, m := range rc.Mirrors {
				fmt.Fprintln(w, "  "+m)
			}
		}
	}
	fmt.Fprintln(w, " Live Restore Enabled:", info.LiveRestoreEnabled)
	// box's own.
	fmt.Fprintln(w, " Rootless:", info.Rootless)
	if info.Rootless {
		fmt.Fprintln(w, " ID Mapping:", info.IDMode)
		fmt.Fprintln(w, "  UID Map:", mapString(info.UIDMap))
		fmt.Fprintln(w, "  GID Map:", mapString(info.GIDMap))
	}
	fmt.Fprintln(w, " Run Root:", info.RunRoot)
	fmt.Fprintln(w, " Cgroup Layout:", info.CgroupLayout)
	fmt.Fprintln(w, " Network:", info.Network)
	fmt.Fprintln(w, " Registries:")
	fmt.Fprintln(w, "  Search:", strings.Join(info.Search, ", "))
	for _, r := range info.Registries {
		fmt.Fprintf(w, "  %s: location=%s insecure=%t", r.Prefix, r.Location, r.Insecure)
		if len(r.Mirrors) > 0 {
			fmt.Fprintf(w, " mirrors=%s", strings.Join(r.Mirrors, ","))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// printSecurityOption prints "name=seccomp,profile=builtin" as Docker
// does: the name, and its profile under it.
func printSecurityOption(w io.Writer, opt string) {
	var name, profile string
	for _, kv := range strings.Split(opt, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "name":
			name = v
		case "profile":
			profile = v
		}
	}
	fmt.Fprintln(w, "  "+name)
	if profile != "" {
		fmt.Fprintln(w, "   Profile:", profile)
	}
}

func mapString(m []specs.LinuxIDMapping) string {
	var parts []string
	for _, r := range m {
		parts = append(parts, fmt.Sprintf("%d:%d:%d", r.ContainerID, r.HostID, r.Size))
	}
	return strings.Join(parts, " ")
}
