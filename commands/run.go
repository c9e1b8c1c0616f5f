package commands

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
	"box/engine/flags"
	"box/storage"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "create and run a new container from an image",
		ArgsUsage: "IMAGE [COMMAND] [ARG...]",
		// Flags stop at the image: what follows belongs to the container.
		SkipFlagParsing:        false,
		UseShortOptionHandling: true,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
			&cli.StringFlag{Name: "restart", Value: "no", Usage: "restart policy when the container exits: no, on-failure[:max-retries], always, unless-stopped (by its monitor while it lives; nothing restarts after a reboot)"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run container in background and print container ID"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy received signals to the process (false: Ctrl-C leaves it running; ignored with -t, as Docker's)"},
			&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "read in a file of environment variables"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
			&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the default ENTRYPOINT of the image"},
			&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host name"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a host path or mount a volume ([/host/path|NAME:]/container/path[:ro])"},
			&cli.StringSliceFlag{Name: "volumes-from", Usage: "mount volumes from the specified container(s) (CONTAINER[:ro|:rw])"},
			&cli.StringSliceFlag{Name: "mount", Usage: "attach a filesystem mount to the container"},
			&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs directory"},
			&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
			&cli.StringSliceFlag{Name: "network", Aliases: []string{"net"}, Usage: "connect a container to a network (default: its own, through pasta or else netstack; pasta, netstack, host, none, or user networks, several times)"},
			&cli.StringFlag{Name: "ip", Usage: "IPv4 address on the (first) user network (e.g. 172.30.100.104)"},
			&cli.StringSliceFlag{Name: "network-alias", Usage: "add a network-scoped alias for the container"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container's port(s) to the host ([hostIP:][hostPort:]containerPort[/tcp|/udp])"},
			&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish all exposed ports to random host ports"},
			&cli.StringSliceFlag{Name: "dns", Usage: "set custom DNS servers"},
			&cli.StringSliceFlag{Name: "dns-search", Usage: "set custom DNS search domains"},
			&cli.StringSliceFlag{Name: "dns-option", Aliases: []string{"dns-opt"}, Usage: "set DNS options"},
			&cli.StringSliceFlag{Name: "add-host", Usage: "add a custom host-to-IP mapping (host:ip; ip may be host-gateway)"},
			&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
			&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
			&cli.StringSliceFlag{Name: "security-opt", Usage: "security options"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container"},
			&cli.StringFlag{Name: "pull", Value: "missing", Usage: `pull image before running ("always", "missing", "never")`},
			&cli.StringFlag{Name: "platform", Usage: "set platform if server is multi-platform capable"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the pull output"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata on a container"},
			&cli.StringSliceFlag{Name: "label-file", Usage: "read in a line delimited file of labels"},
			&cli.StringFlag{Name: "log-driver", Value: "json-file", Usage: "logging driver for the container (json-file, none)"},
			&cli.StringSliceFlag{Name: "log-opt", Usage: "log driver options (max-size=10m, max-file=3)"},
			&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
			&cli.StringFlag{Name: "health-cmd", Usage: "command to run to check health"},
			&cli.DurationFlag{Name: "health-interval", Usage: "time between running the check (ms|s|m|h) (default 0s)"},
			&cli.DurationFlag{Name: "health-timeout", Usage: "maximum time to allow one check to run (ms|s|m|h) (default 0s)"},
			&cli.IntFlag{Name: "health-retries", Usage: "consecutive failures needed to report unhealthy"},
			&cli.DurationFlag{Name: "health-start-period", Usage: "start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)"},
			&cli.DurationFlag{Name: "health-start-interval", Usage: "time between running the check during the start period (ms|s|m|h) (default 0s)"},
			&cli.BoolFlag{Name: "no-healthcheck", Usage: "disable any container-specified HEALTHCHECK"},
		}, append(settingsFlags(), unsupportedFlags(unsupportedRunFlags)...)...),
		Action: runRun,
	}
}

// createCommand is run's flags with create's action: the container is
// made, not started, and its id printed.
func createCommand() *cli.Command {
	c := runCommand()
	c.Name, c.Usage = "create", "create a new container"
	c.Action = runRun
	for _, f := range c.Flags {
		if b, ok := f.(*cli.BoolFlag); ok && b.Name == "sig-proxy" {
			b.Hidden = true // run's alone, refused by runRun
		}
	}
	return c
}

func runRun(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageErrorf("\"box %s\" requires at least 1 argument.\nSee 'box %s --help'.", c.Command.Name, c.Command.Name)
	}
	if err := refuseUnsupported(c, unsupportedRunFlags); err != nil {
		return &runFailure{err}
	}
	if c.Command.Name == "create" && c.IsSet("sig-proxy") {
		// Docker's create has no such flag; run shares create's others.
		return &runFailure{usageErrorf("unknown flag: --sig-proxy (box create has none: it is run's)")}
	}
	if err := checkDetachKeys(c); err != nil {
		return &runFailure{err}
	}
	opts, err := runOptions(c)
	if err != nil {
		return &runFailure{err}
	}
	if opts.Settings, err = runSettings(c); err != nil {
		return &runFailure{err}
	}
	opts.Health = engine.HealthOptions{
		Cmd: c.String("health-cmd"), Interval: c.Duration("health-interval"), Timeout: c.Duration("health-timeout"),
		StartPeriod: c.Duration("health-start-period"), StartInterval: c.Duration("health-start-interval"),
		Retries: c.Int("health-retries"), Disable: c.Bool("no-healthcheck"),
	}
	if c.NArg() > 1 {
		opts.Cmd = c.Args().Slice()[1:]
	}
	if c.IsSet("entrypoint") {
		ep := c.String("entrypoint")
		opts.Entrypoint = &ep
	}
	if opts.TTY && opts.Interactive && !opts.CreateOnly && !opts.Detach && !term.IsTerminal(int(os.Stdin.Fd())) {
		return &runFailure{usageErrorf("the input device is not a TTY")}
	}
	opts.Puller = &runPuller{w: c.App.ErrWriter, quiet: c.Bool("quiet")}

	e, err := newEngine(c)
	if err != nil {
		return &runFailure{err}
	}
	defer e.Close()
	for _, w := range opts.Warnings() {
		fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", w)
	}
	opts.Warn = func(w string) { fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", w) }
	cid, err := newCIDFile(c.String("cidfile"))
	if err != nil {
		return &runFailure{err}
	}
	defer cid.Close()
	opts.Created = cid.Write
	stdio := engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	inA, outA, errA, err := attachStreams(c)
	if err != nil {
		return &runFailure{err}
	}
	if !outA || !errA {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return &runFailure{err}
		}
		defer devnull.Close()
		if !outA {
			stdio.Stdout = devnull
		}
		if !errA {
			stdio.Stderr = devnull
		}
	}
	if inA && len(c.StringSlice("attach")) > 0 {
		opts.Interactive = true // Docker: -a stdin keeps it open
	}
	id, err := e.Run(c.Context, opts, stdio)
	if err != nil {
		return &runFailure{err}
	}
	if opts.Detach || opts.CreateOnly {
		fmt.Fprintln(c.App.Writer, id)
	}
	return nil
}

// runOptions are run's and create's flags, Docker's syntax parsed into
// the engine's typed options by engine/flags.
func runOptions(c *cli.Context) (engine.RunOptions, error) {
	opts := engine.RunOptions{
		Image:    c.Args().First(),
		Pull:     engine.PullPolicy(c.String("pull")),
		Platform: c.String("platform"),
		// Docker takes the name as its API spells it, "/NAME", too.
		Name:           strings.TrimPrefix(c.String("name"), "/"),
		Remove:         c.Bool("rm"),
		Detach:         c.Bool("detach"),
		NoSigProxy:     !c.Bool("sig-proxy"),
		CreateOnly:     c.Command.Name == "create",
		Interactive:    c.Bool("interactive"),
		TTY:            c.Bool("tty"),
		Workdir:        c.String("workdir"),
		User:           c.String("user"),
		Hostname:       c.String("hostname"),
		ReadOnly:       c.Bool("read-only"),
		IP:             c.String("ip"),
		NetworkAliases: c.StringSlice("network-alias"),
		PublishAll:     c.Bool("publish-all"),
		Privileged:     c.Bool("privileged"),
		Init:           c.Bool("init"),
	}
	// Several --network flags: the first is the container's network, the
	// others user networks it joins besides.
	if nets := c.StringSlice("network"); len(nets) > 0 {
		opts.Network, opts.Networks = flags.ParseNetwork(nets[0]), nets[1:]
	}
	var err error
	if opts.Log, err = flags.ParseLogConfig(c.String("log-driver"), c.StringSlice("log-opt")); err != nil {
		return opts, err
	}
	if opts.Names, err = flags.ParseNameOptions(c.StringSlice("dns"), c.StringSlice("dns-search"), c.StringSlice("dns-option"), c.StringSlice("add-host")); err != nil {
		return opts, err
	}
	if opts.Restart, err = flags.ParseRestartPolicy(c.String("restart")); err != nil {
		return opts, err
	}
	if opts.Mounts, err = flags.ParseMounts(c.StringSlice("volume"), c.StringSlice("mount"), c.StringSlice("tmpfs")); err != nil {
		return opts, err
	}
	if opts.VolumesFrom, err = flags.ParseVolumesFrom(c.StringSlice("volumes-from")); err != nil {
		return opts, err
	}
	if opts.Env, err = flags.ParseEnv(c.StringSlice("env"), c.StringSlice("env-file")); err != nil {
		return opts, err
	}
	if opts.Labels, err = flags.ParseLabelsAndFiles(c.StringSlice("label"), c.StringSlice("label-file")); err != nil {
		return opts, err
	}
	if opts.Publish, err = flags.ParsePorts(c.StringSlice("publish")); err != nil {
		return opts, err
	}
	if opts.Security, err = flags.ParseSecurityOpts(c.StringSlice("security-opt")); err != nil {
		return opts, err
	}
	if opts.CapAdd, err = flags.ParseCapabilities(c.StringSlice("cap-add")); err != nil {
		return opts, err
	}
	if opts.CapDrop, err = flags.ParseCapabilities(c.StringSlice("cap-drop")); err != nil {
		return opts, err
	}
	return opts, nil
}

// runPuller prints run's implicit pull as Docker does, finishing the
// progress bars before the container takes the terminal.
type runPuller struct {
	w     io.Writer
	quiet bool
	prog  *pullProgress
}

func (p *runPuller) Start(ref string, missing bool) {
	if missing && !p.quiet {
		fmt.Fprintf(p.w, "Unable to find image '%s' locally\n", ref)
	}
	p.prog = newPullProgress(p.w, p.quiet)
}

func (p *runPuller) Event(ev storage.Progress) { p.prog.Event(ev) }

func (p *runPuller) Done() { p.prog.Done() }
