package commands

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine/build"
	"box/engine/flags"
	"box/storage"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "build an image from a Dockerfile",
		ArgsUsage: "PATH",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: `name and optionally a tag in the "name:tag" format`},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: `name of the Dockerfile (default "PATH/Dockerfile", then "PATH/Containerfile"; "-" reads it from stdin)`},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set build-time variables"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata for an image"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the build output and print image ID on success"},
			&cli.StringFlag{Name: "iidfile", Usage: "write the image ID to the file"},
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use cache when building the image"},
			&cli.StringFlag{Name: "target", Usage: "set the target build stage to build"},
			&cli.StringFlag{Name: "network", Usage: "set the networking mode for the RUN instructions (default, host or none)"},
			&cli.BoolFlag{Name: "pull", Usage: "always attempt to pull a newer version of the base images"},
			&cli.StringFlag{Name: "platform", Usage: "set the platform (only the host's: " + hostPlatform() + ")"},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "set type of progress output (auto, plain, tty)"},
			&cli.StringFlag{Name: "format", Value: "oci", Usage: "format of the image's manifest (oci or docker)"},
			&cli.StringSliceFlag{Name: "add-host", Usage: "add a custom host-to-IP mapping for RUN (host:ip; ip may be host-gateway)"},
			// Docker's, refused until RUN can apply them.
			&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (not supported yet)"},
			&cli.StringFlag{Name: "shm-size", Usage: "size of /dev/shm (not supported yet)"},
			&cli.StringSliceFlag{Name: "secret", Usage: "secret to expose to the build (not supported yet)"},
			&cli.StringSliceFlag{Name: "ssh", Usage: "SSH agent socket or keys to expose to the build (not supported yet)"},
		},
		Action: runBuild,
	}
}

func runBuild(c *cli.Context) error {
	if err := requireArgs(c, 1, 1); err != nil {
		return err
	}
	for _, name := range []string{"ulimit", "shm-size", "secret", "ssh"} {
		if c.IsSet(name) {
			return usageErrorf("box build does not support --%s yet", name)
		}
	}
	dir := c.Args().First()
	// Docker's order: stdin, a local directory, a Git repository, a URL.
	var contextURL string
	info, statErr := os.Stat(dir)
	switch {
	case dir == "-":
		if c.String("file") == "-" {
			return usageErrorf("invalid argument: can't use stdin for both build context and dockerfile")
		}
	case statErr == nil && info.IsDir():
	case build.IsGitURL(dir) || build.IsURL(dir):
		contextURL, dir = dir, ""
	default:
		return usageErrorf("unable to prepare context: path %q not found or not a directory", dir)
	}
	opts := build.Options{
		ContextDir: dir,
		ContextURL: contextURL,
		Dockerfile: c.String("file"),
		BuildArgs:  map[string]string{},
		Labels:     map[string]string{},
		Target:     c.String("target"),
		NoCache:    c.Bool("no-cache"),
		Network:    flags.ParseNetwork(c.String("network")),
	}
	var err error
	if opts.AddHosts, err = flags.ParseAddHosts(c.StringSlice("add-host")); err != nil {
		// A flag mistake, as --network's and --progress's below: 125.
		return usageErrorf("%v", err)
	}
	opts.Pull = c.Bool("pull")
	if p := c.String("platform"); p != "" && p != hostPlatform() && p != "linux" {
		return usageErrorf("invalid --platform %q: box build builds for the host platform, %s", p, hostPlatform())
	}
	progress := c.String("progress")
	switch progress {
	case "auto":
		// As Docker: the live view on a terminal, plain lines elsewhere
		// (and, as pull's bars, on a terminal nobody gave a size).
		progress = "plain"
		if f, ok := c.App.ErrWriter.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				progress = "tty"
			}
		}
	case "plain", "tty":
	default:
		return usageErrorf("invalid --progress %q: want auto, plain or tty", progress)
	}
	switch c.String("format") {
	case "oci":
	case "docker":
		opts.DockerFormat = true
	default:
		return usageErrorf("invalid --format %q: want oci or docker", c.String("format"))
	}
	switch n := c.String("network"); n {
	case "", "default", "host", "none":
	default:
		return usageErrorf("network %q not found: box build supports host and none", n)
	}
	for _, t := range c.StringSlice("tag") {
		ref, err := storage.ParseReference(t)
		if err != nil {
			return usageErrorf("invalid argument %q for \"-t, --tag\" flag: %v", t, err)
		}
		opts.Tags = append(opts.Tags, ref)
	}
	maps.Copy(opts.BuildArgs, buildArgs(c.StringSlice("build-arg")))
	for _, l := range c.StringSlice("label") {
		k, v, _ := strings.Cut(l, "=")
		opts.Labels[k] = v
	}
	if dir == "-" {
		// A tar stream of the context, compressed or not, or a Dockerfile
		// and no context, as Docker takes it.
		opts.ContextDir, opts.ContextTar = "", os.Stdin
	}
	if opts.Dockerfile == "-" {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read the Dockerfile from stdin: %w", err)
		}
		opts.Content = data
	}
	quiet := c.Bool("quiet")
	if !quiet && progress == "plain" {
		opts.Progress = build.Plain(c.App.ErrWriter)
		opts.Output = os.Stderr
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	var view *buildView
	if !quiet && progress == "tty" {
		// --progress=tty on something that is no terminal still gets the
		// view, at 80 columns.
		width := func() int { return 0 }
		if f, ok := c.App.ErrWriter.(*os.File); ok {
			width = func() int {
				w, _, err := term.GetSize(int(f.Fd()))
				if err != nil {
					return 0
				}
				return w
			}
		}
		view = newBuildView(c.App.ErrWriter, width, time.Now, viewTick)
		opts.Progress, opts.Output = view, view
	}
	// Ctrl-C kills the step's container; the build removes it and its
	// mounts on the way out, then box ends by the signal.
	ctx, interrupted := interruptible(c.Context)
	rep, err := e.Build(ctx, opts)
	e.Close()
	if view != nil {
		view.finish(err)
	}
	if sig := interrupted(); sig != nil {
		reraise(sig)
	}
	if err != nil {
		return err
	}
	if f := c.String("iidfile"); f != "" {
		if err := os.WriteFile(f, []byte("sha256:"+rep.ID), 0o644); err != nil {
			return fmt.Errorf("write the image id to %s: %w", f, err)
		}
	}
	if quiet {
		fmt.Fprintf(c.App.Writer, "sha256:%s\n", rep.ID)
	}
	return nil
}

// buildxCommand is `box buildx build`, the spelling Docker's documentation
// now uses; the image always lands in box's store, so --load asks for
// nothing more.
func buildxCommand(build *cli.Command) *cli.Command {
	bx := alias(build, "build", "b")
	bx.Flags = append(append([]cli.Flag{}, build.Flags...),
		&cli.BoolFlag{Name: "load", Usage: "load the built image into the store (always so)"})
	return &cli.Command{
		Name:        "buildx",
		Usage:       "build with Docker's buildx spelling",
		Subcommands: []*cli.Command{bx},
	}
}

// hostPlatform is the only platform box builds for.
func hostPlatform() string { return "linux/" + runtime.GOARCH }

// buildArgs are --build-arg KEY=VALUE values; a bare KEY takes its value
// from the environment and is left out when unset, as Docker and Docker
// Compose do.
func buildArgs(list []string) map[string]string {
	out := map[string]string{}
	for _, a := range list {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			var set bool
			if v, set = os.LookupEnv(k); !set {
				continue
			}
		}
		out[k] = v
	}
	return out
}
