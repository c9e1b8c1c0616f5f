package commands

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"box/engine"
)

// versionCommand is `box version`: Docker's Client and Server sections,
// where box is both. It reads only the binary (engine.BuildInfo): no user
// namespace, no store, so it costs what starting box costs.
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
			v := newVersionInfo(engine.BuildInfo(), c.String("storage-driver"))
			if f := c.String("format"); f != "" {
				return printJSONOrTemplateOne(c.App.Writer, f, v)
			}
			return printVersion(c.App.Writer, v)
		},
	}
}

// printShortVersion is `box --version`, in Docker's words:
// "Docker version 28.2.2, build e6534b4".
func printShortVersion(c *cli.Context) {
	b := engine.BuildInfo()
	commit := b.GitCommit
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(c.App.Writer, "box version %s, build %s\n", b.Version, commit)
}

// versionInfo is docker/cli's: the client's version and the server's
// (moby's types.Version), under Docker's field and JSON names.
type versionInfo struct {
	Client clientVersion
	Server *serverVersion
}

type platformInfo struct {
	Name string `json:"Name,omitempty"`
}

type clientVersion struct {
	Platform          *platformInfo `json:"Platform,omitempty"`
	Version           string        `json:"Version,omitempty"`
	APIVersion        string        `json:"ApiVersion,omitempty"`
	DefaultAPIVersion string        `json:"DefaultAPIVersion,omitempty"`
	GitCommit         string        `json:"GitCommit,omitempty"`
	GoVersion         string        `json:"GoVersion,omitempty"`
	Os                string        `json:"Os,omitempty"`
	Arch              string        `json:"Arch,omitempty"`
	BuildTime         string        `json:"BuildTime,omitempty"`
	Context           string        `json:"Context"`
}

type componentVersion struct {
	Name    string
	Version string
	Details map[string]string `json:",omitempty"`
}

type serverVersion struct {
	Platform      struct{ Name string } `json:",omitempty"`
	Components    []componentVersion    `json:",omitempty"`
	Version       string
	APIVersion    string `json:"ApiVersion"`
	MinAPIVersion string `json:"MinAPIVersion,omitempty"`
	GitCommit     string
	GoVersion     string
	Os            string
	Arch          string
	KernelVersion string `json:",omitempty"`
	Experimental  bool   `json:",omitempty"`
	BuildTime     string `json:",omitempty"`
}

// newVersionInfo describes box as Docker's client and engine at once.
// driver is the storage driver box would open the store with.
func newVersionInfo(b engine.Build, driver string) versionInfo {
	if driver == "" {
		driver = "overlay" // storage.Open's default
	}
	built := ansiDate(b.BuildTime)
	client := clientVersion{
		Platform: &platformInfo{Name: "box"},
		Version:  b.Version, APIVersion: engine.APIVersion, DefaultAPIVersion: engine.APIVersion,
		GitCommit: b.GitCommit, GoVersion: b.GoVersion, Os: runtime.GOOS, Arch: runtime.GOARCH,
		BuildTime: built, Context: "default",
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	server := &serverVersion{
		Version: b.Version, APIVersion: engine.APIVersion, MinAPIVersion: engine.APIVersion,
		GitCommit: b.GitCommit, GoVersion: b.GoVersion, Os: runtime.GOOS, Arch: runtime.GOARCH,
		KernelVersion: unix.ByteSliceToString(uts.Release[:]), BuildTime: built,
	}
	server.Platform.Name = "box"
	server.Components = []componentVersion{
		{Name: "Engine", Version: b.Version, Details: map[string]string{
			"ApiVersion": engine.APIVersion, "MinAPIVersion": engine.APIVersion,
			"GitCommit": b.GitCommit, "GoVersion": b.GoVersion,
			"Os": runtime.GOOS, "Arch": runtime.GOARCH, "KernelVersion": server.KernelVersion,
			"BuildTime": built, "Experimental": "false", "StorageDriver": driver,
		}},
		// box runs containers with runc's libcontainer, in its own process.
		{Name: "runc", Version: b.Runtime, Details: map[string]string{"Library": "libcontainer, in box"}},
	}
	return versionInfo{Client: client, Server: server}
}

// ansiDate shows a build time as Docker does; anything unparsable as is.
func ansiDate(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Format(time.ANSIC)
	}
	return s
}

// printVersion prints Docker's default layout of `docker version`.
func printVersion(out io.Writer, v versionInfo) error {
	w := tabwriter.NewWriter(out, 20, 1, 1, ' ', 0)
	cl := v.Client
	fmt.Fprintf(w, "Client: %s\n", cl.Platform.Name)
	fmt.Fprintf(w, " Version:\t%s\n", cl.Version)
	fmt.Fprintf(w, " API version:\t%s\n", cl.APIVersion)
	fmt.Fprintf(w, " Go version:\t%s\n", cl.GoVersion)
	fmt.Fprintf(w, " Git commit:\t%s\n", cl.GitCommit)
	fmt.Fprintf(w, " Built:\t%s\n", cl.BuildTime)
	fmt.Fprintf(w, " OS/Arch:\t%s/%s\n", cl.Os, cl.Arch)
	fmt.Fprintf(w, " Context:\t%s\n", cl.Context)
	fmt.Fprintf(w, "\nServer: %s\n", v.Server.Platform.Name)
	for _, comp := range v.Server.Components {
		d := comp.Details
		fmt.Fprintf(w, " %s:\n", comp.Name)
		fmt.Fprintf(w, "  Version:\t%s\n", comp.Version)
		if comp.Name != "Engine" {
			for _, k := range slices.Sorted(maps.Keys(d)) {
				fmt.Fprintf(w, "  %s:\t%s\n", k, d[k])
			}
			continue
		}
		// box serves no API: the version is the one whose behaviour it follows.
		fmt.Fprintf(w, "  API version:\t%s (emulated: box has no daemon)\n", d["ApiVersion"])
		fmt.Fprintf(w, "  Go version:\t%s\n", d["GoVersion"])
		fmt.Fprintf(w, "  Git commit:\t%s\n", d["GitCommit"])
		fmt.Fprintf(w, "  Built:\t%s\n", d["BuildTime"])
		fmt.Fprintf(w, "  OS/Arch:\t%s/%s\n", d["Os"], d["Arch"])
		fmt.Fprintf(w, "  Storage driver:\t%s\n", d["StorageDriver"])
		fmt.Fprintf(w, "  Experimental:\t%s\n", d["Experimental"])
	}
	return w.Flush()
}
