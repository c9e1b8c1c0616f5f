package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
	"box/engine/compose"
	"box/engine/flags"
	"box/engine/spec"
	"box/storage"
)

// composeProjectFlags are Docker Compose's project flags. They are taken
// before the subcommand (box compose -f x up) and after it (box compose
// up -f x), as Docker Compose's persistent flags are; a subcommand's own
// flag of the same name wins there (logs -f is --follow, rm -f --force),
// so taken names are left out.
func composeProjectFlags(taken map[string]bool) []cli.Flag {
	names := func(name string, aliases ...string) (string, []string) {
		var keep []string
		for _, a := range aliases {
			if !taken[a] {
				keep = append(keep, a)
			}
		}
		return name, keep
	}
	file, fileAliases := names("file", "f")
	project, projectAliases := names("project-name", "p")
	return []cli.Flag{
		&cli.StringSliceFlag{Name: file, Aliases: fileAliases, Usage: "compose configuration files"},
		&cli.StringFlag{Name: project, Aliases: projectAliases, Usage: "project name"},
		&cli.StringFlag{Name: "project-directory", Usage: "specify an alternate working directory (default: the path of the first compose file)"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "specify an alternate environment file"},
		&cli.StringSliceFlag{Name: "profile", Usage: "specify a profile to enable"},
		&cli.StringFlag{Name: "ansi", Value: "auto", Usage: "control when to print ANSI control characters (never|always|auto)"},
	}
}

// withProjectFlags gives every subcommand the project flags.
func withProjectFlags(cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		taken := map[string]bool{}
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				taken[n] = true
			}
		}
		c.Flags = append(c.Flags, composeProjectFlags(taken)...)
	}
	return cmds
}

// composeAlias makes `docker-compose ARGS` (or box-compose: box under
// either name, as a link) `box compose ARGS`, after box's own global
// flags. It runs after the namespace check, which, like the C
// constructor, reads the command line as given.
func composeAlias(args []string) []string {
	if len(args) == 0 {
		return args
	}
	if base := filepath.Base(args[0]); base != "docker-compose" && base != "box-compose" {
		return args
	}
	i := 1
	for i < len(args) {
		name, _, hasValue := strings.Cut(args[i], "=")
		if !globalsWithValue[name] {
			break
		}
		i++
		if !hasValue {
			i++
		}
	}
	i = min(i, len(args))
	return slices.Concat(args[:i], []string{"compose"}, args[i:])
}

func composeCommand() *cli.Command {
	return &cli.Command{
		Name:  "compose",
		Usage: "define and run multi-container applications (Docker Compose)",
		Flags: composeProjectFlags(nil),
		Subcommands: withProjectFlags(
			composeConfigCommand(), composeUpCommand(), composeDownCommand(), composePsCommand(),
			composeLsCommand(), composeLogsCommand(), composeExecCommand(),
			composeStopCommand(), composeStartCommand(), composeRestartCommand(), composeRmCommand(),
			composeCreateCommand(), composeKillCommand(), composePortCommand(), composeRunCommand(),
			composeTopCommand(), composeVersionCommand(), composeImagesCommand(),
			composePauseCommand("pause"), composePauseCommand("unpause"),
			composeCpCommand(), composeWaitCommand(),
			composeBuildCommand(), composePullCommand(), composePushCommand(),
		),
	}
}

// lineageSet is the context, the subcommand's or compose's, where the
// flag name was given.
func lineageSet(c *cli.Context, name string) *cli.Context {
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.IsSet(name) {
			return ctx
		}
	}
	return nil
}

func projectStringSlice(c *cli.Context, name string) []string {
	var out []string
	// compose's own first, then the subcommand's: -f order is kept.
	lineage := c.Lineage()
	for i := len(lineage) - 1; i >= 0; i-- {
		ctx := lineage[i]
		if ctx.Command != nil && ctx.IsSet(name) && slices.ContainsFunc(ctx.Command.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) }) {
			out = append(out, ctx.StringSlice(name)...)
		}
	}
	return out
}

func projectString(c *cli.Context, name string) string {
	if ctx := lineageSet(c, name); ctx != nil {
		return ctx.String(name)
	}
	return ""
}

// loadOptions are the project flags as the loader takes them.
func loadOptions(c *cli.Context) compose.LoadOptions {
	return compose.LoadOptions{
		Files:      projectStringSlice(c, "file"),
		Name:       projectString(c, "project-name"),
		ProjectDir: projectString(c, "project-directory"),
		EnvFiles:   projectStringSlice(c, "env-file"),
		Profiles:   projectStringSlice(c, "profile"),
		Env:        os.Environ(),
	}
}

// loadProject loads the project of the flags.
func loadProject(c *cli.Context) (*types.Project, error) {
	return compose.Load(c.Context, loadOptions(c))
}

// withProject loads the project, then opens the engine for act.
func withProject(c *cli.Context, act func(*compose.Compose, *types.Project) error) error {
	return withProjectOr(c, false, act)
}

// withProjectOrName is withProject for the verbs Docker Compose lets
// work without the files when the project is named (-p or
// COMPOSE_PROJECT_NAME): down, ps, logs, stop, kill, rm.
func withProjectOrName(c *cli.Context, act func(*compose.Compose, *types.Project) error) error {
	return withProjectOr(c, true, act)
}

func withProjectOr(c *cli.Context, byName bool, act func(*compose.Compose, *types.Project) error) error {
	if a := projectString(c, "ansi"); a != "" && a != "never" && a != "always" && a != "auto" {
		return usageErrorf("invalid --ansi %q: never, always or auto", a)
	}
	p, err := loadProject(c)
	var loadErr *compose.LoadError
	if byName && errors.As(err, &loadErr) && loadErr.NotFound && len(projectStringSlice(c, "file")) == 0 {
		name := projectString(c, "project-name")
		if name == "" {
			name = os.Getenv("COMPOSE_PROJECT_NAME")
		}
		if name != "" {
			p, err = compose.Named(name), nil
		}
	}
	if err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	return act(newCompose(c, e), p)
}

// newCompose prints progress on stderr as Docker Compose does without a
// terminal: " Container NAME  Started".
func newCompose(c *cli.Context, e *engine.Engine) *compose.Compose {
	w := c.App.ErrWriter
	return &compose.Compose{
		Engine: e, Warn: w, BuildOutput: w,
		Progress: func(kind, name, status string) { fmt.Fprintf(w, " %s %s  %s\n", kind, name, status) },
	}
}

func composeConfigCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "parse, resolve and render the compose file in canonical format",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only validate the configuration, don't print anything"},
			&cli.BoolFlag{Name: "services", Usage: "print the service names, one per line"},
			&cli.BoolFlag{Name: "volumes", Usage: "print the volume names, one per line"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, -1); err != nil {
				return err
			}
			p, err := loadProject(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				if p, err = p.WithSelectedServices(c.Args().Slice()); err != nil {
					return err
				}
			}
			w := c.App.Writer
			switch {
			case c.Bool("quiet"):
				return nil
			case c.Bool("services"):
				for _, s := range p.ServiceNames() {
					fmt.Fprintln(w, s)
				}
				return nil
			case c.Bool("volumes"):
				for _, v := range p.VolumeNames() {
					fmt.Fprintln(w, v)
				}
				return nil
			}
			b, err := compose.MarshalYAML(p)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		},
	}
}

func composeUpCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "create and start containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run containers in the background"},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers for services not defined in the compose file"},
			&cli.BoolFlag{Name: "wait", Usage: "wait for services to be running|healthy; implies detached mode"},
			&cli.IntFlag{Name: "wait-timeout", Usage: "maximum duration in seconds to wait for the project to be running|healthy"},
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if their configuration and image haven't changed"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "if containers already exist, don't recreate them"},
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
			&cli.StringSliceFlag{Name: "scale", Usage: "scale SERVICE to NUM instances (SERVICE=NUM); overrides the file's scale"},
			&cli.StringFlag{Name: "pull", Usage: "pull image before running (always|missing|never)"},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting containers"},
			&cli.BoolFlag{Name: "no-build", Usage: "don't build an image, even if it's policy"},
			&cli.BoolFlag{Name: "abort-on-container-exit", Usage: "stops all containers if any container was stopped"},
			&cli.StringFlag{Name: "exit-code-from", Usage: "return the exit code of the selected service container; implies --abort-on-container-exit"},
			&cli.StringSliceFlag{Name: "attach", Usage: "restrict attaching to the specified services"},
			&cli.StringSliceFlag{Name: "no-attach", Usage: "do not attach (stream logs) to the specified services"},
			&cli.BoolFlag{Name: "attach-dependencies", Usage: "automatically attach to log output of dependent services"},
			&cli.BoolFlag{Name: "no-color", Usage: "produce monochrome output"},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "don't print prefix in logs"},
			&cli.BoolFlag{Name: "timestamps", Usage: "show timestamps"},
			timeoutCliFlag(),
		},
		Action: func(c *cli.Context) error {
			attached := !c.Bool("detach") && !c.Bool("wait")
			abort := c.Bool("abort-on-container-exit") || c.String("exit-code-from") != ""
			if abort && !attached {
				return usageErrorf("--abort-on-container-exit and --exit-code-from cannot be combined with -d or --wait")
			}
			if len(c.StringSlice("attach")) > 0 && c.Bool("attach-dependencies") {
				return usageErrorf("cannot combine --attach and --attach-dependencies")
			}
			if c.Int("wait-timeout") < 0 {
				return usageErrorf("invalid --wait-timeout %d: must be 0 or more", c.Int("wait-timeout"))
			}
			opts := compose.UpOptions{
				RemoveOrphans: c.Bool("remove-orphans"),
				Wait:          c.Bool("wait"),
				WaitTimeout:   time.Duration(c.Int("wait-timeout")) * time.Second,
			}
			switch {
			case c.Bool("force-recreate") && c.Bool("no-recreate"):
				return usageErrorf("--force-recreate and --no-recreate are incompatible")
			case c.Bool("force-recreate"):
				opts.Recreate = compose.RecreateForce
			case c.Bool("no-recreate"):
				opts.Recreate = compose.RecreateNever
			}
			if err := pullFlag(c); err != nil {
				return err
			}
			var err error
			if opts.Build, err = buildPolicyFlag(c); err != nil {
				return err
			}
			scale, err := scaleFlag(c)
			if err != nil {
				return err
			}
			if opts.Timeout, err = timeoutFlag(c); err != nil {
				return err
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				for _, flag := range []string{"attach", "no-attach"} {
					for _, name := range c.StringSlice(flag) {
						if _, ok := p.Services[name]; !ok {
							return &compose.NoSuchServiceError{Name: name}
						}
					}
				}
				if c.NArg() > 0 {
					deps := types.IncludeDependencies
					if c.Bool("no-deps") {
						deps = types.IgnoreDependencies
					}
					var err error
					if p, err = p.WithSelectedServices(c.Args().Slice(), deps); err != nil {
						return err
					}
				}
				if err := compose.Override(p, scale, c.String("pull")); err != nil {
					return err
				}
				if from := c.String("exit-code-from"); from != "" {
					if _, ok := p.Services[from]; !ok {
						return &compose.NoSuchServiceError{Name: from}
					}
				}
				if !attached {
					return cc.Up(c.Context, p, opts)
				}
				return composeUpAttached(c, cc, p, opts, abort)
			})
		},
	}
}

// composeUpAttached is up in the foreground, as Docker Compose's: the
// project comes up, then every container's output is shown with its
// prefix until all have stopped. Ctrl-C (or SIGTERM) stops the project
// (a second one ends box at once and leaves it running); so does the
// first container that stops, with --abort-on-container-exit.
func composeUpAttached(c *cli.Context, cc *compose.Compose, p *types.Project, opts compose.UpOptions, abort bool) error {
	since := time.Now()
	ctx, stopSignals := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	if err := cc.Up(ctx, p, opts); err != nil {
		return err
	}
	var (
		list []*engine.Container
		err  error
	)
	if attach := attachedServices(c, p); len(attach) > 0 {
		if list, err = cc.Containers(p, attach, true); err != nil {
			return err
		}
	}
	names := make([]string, len(list))
	for i, ctr := range list {
		names[i] = ctr.Name
	}
	fmt.Fprintf(c.App.Writer, "Attaching to %s\n", strings.Join(names, ", "))
	follow, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	code, aborted := 0, false
	from := c.String("exit-code-from")
	ended := func(ctr *engine.Container) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(c.App.Writer, "%s exited with code %d\n", strings.TrimPrefix(ctr.Name, p.Name+"-"), ctr.ExitCode)
		if from != "" && ctr.Labels[compose.LabelService] == from || from == "" && abort && !aborted {
			code = ctr.ExitCode
		}
		if abort && !aborted {
			aborted = true
			cancel()
		}
	}
	if len(list) > 0 {
		sink := newLogSink(c, list, p.Name, !c.Bool("no-log-prefix"))
		err = cc.Logs(follow, list, engine.LogOptions{Follow: true, Tail: -1, Since: since, Timestamps: c.Bool("timestamps")}, sink, ended)
	} else if _, werr := cc.Wait(follow, p, nil, func(*engine.Container, int) {}); werr != nil && follow.Err() == nil && !errors.Is(werr, compose.ErrNoContainers) {
		// Nothing attached: up waits, quietly, for the project to stop.
		err = werr
	}
	interrupted := ctx.Err() != nil
	stopSignals() // a second Ctrl-C ends box at once
	if interrupted || aborted {
		fmt.Fprintln(c.App.ErrWriter, "Gracefully stopping... (press Ctrl+C again to force)")
		if err := cc.Stop(context.Background(), p, nil, opts.Timeout); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if interrupted {
		return &engine.ExitError{Code: 130}
	}
	if from != "" {
		// Its container may have stopped with the others, after its log
		// was no longer followed: its code is in its record.
		if list, err := cc.Containers(p, []string{from}, true); err == nil && len(list) > 0 {
			code = list[0].ExitCode
		}
	}
	if code != 0 {
		return &engine.ExitError{Code: code}
	}
	return nil
}

// attachedServices are the services whose output up shows, as Docker
// Compose picks them: --attach's; else the services named on the
// command line (all of the project with --attach-dependencies); else
// every service whose attach key is not false; less --no-attach's.
func attachedServices(c *cli.Context, p *types.Project) []string {
	var out []string
	switch {
	case len(c.StringSlice("attach")) > 0:
		out = c.StringSlice("attach")
	case c.NArg() > 0 && !c.Bool("attach-dependencies"):
		out = c.Args().Slice()
	default:
		for _, name := range p.ServiceNames() {
			if s := p.Services[name]; s.Attach == nil || *s.Attach {
				out = append(out, name)
			}
		}
	}
	out = slices.DeleteFunc(slices.Clone(out), func(n string) bool { return slices.Contains(c.StringSlice("no-attach"), n) })
	slices.Sort(out)
	return out
}

// timeoutFlag is -t/--timeout in seconds, nil when not given.
func timeoutFlag(c *cli.Context) (*time.Duration, error) {
	if !c.IsSet("timeout") {
		return nil, nil
	}
	t := c.Int("timeout")
	if t < 0 {
		return nil, usageErrorf("invalid --timeout %d: must be 0 or more", t)
	}
	d := time.Duration(t) * time.Second
	return &d, nil
}

func timeoutCliFlag() cli.Flag {
	return &cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "specify a shutdown timeout in seconds"}
}

func composeDownCommand() *cli.Command {
	return &cli.Command{
		Name:  "down",
		Usage: "stop and remove containers, networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove named volumes declared in the volumes section and anonymous volumes attached to containers"},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers for services not defined in the compose file"},
			&cli.StringFlag{Name: "rmi", Usage: `remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")`},
			timeoutCliFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			timeout, err := timeoutFlag(c)
			if err != nil {
				return err
			}
			rmi := compose.RemoveImages(c.String("rmi"))
			switch rmi {
			case "", compose.RemoveImagesLocal, compose.RemoveImagesAll:
			default:
				return usageErrorf("invalid --rmi %q: local or all", rmi)
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Down(c.Context, p, compose.DownOptions{Volumes: c.Bool("volumes"), RemoveOrphans: c.Bool("remove-orphans"), Timeout: timeout, Images: rmi})
			})
		},
	}
}

// composePsTable is Docker Compose's ps table.
const composePsTable = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

var composePsHeaders = map[string]string{
	"ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
	"Service": "SERVICE", "Project": "PROJECT", "RunningFor": "CREATED", "CreatedAt": "CREATED AT",
	"Status": "STATUS", "State": "STATE", "Health": "HEALTH", "ExitCode": "EXIT CODE", "Ports": "PORTS",
	"Labels": "LABELS",
}

// composePsRow is one line of `compose ps`, with Docker Compose's fields.
type composePsRow struct {
	ID, Name, Names, Image, Command, Service, Project string
	RunningFor, CreatedAt, Status, State, Health      string
	ExitCode                                          int
	Ports, Labels                                     string
	labels                                            map[string]string
}

func (r composePsRow) Label(name string) string { return r.labels[name] }

func newComposePsRow(ctr *engine.Container, now time.Time) composePsRow {
	row := psRow(ctr, true, "", now)
	r := composePsRow{
		ID: ctr.ID, Name: ctr.Name, Names: ctr.Name, Image: row.Image, Command: row.Command,
		Service: ctr.Labels[compose.LabelService], Project: ctr.Labels[compose.LabelProject],
		RunningFor: row.RunningFor, CreatedAt: row.CreatedAt, Status: row.Status, State: row.State,
		Health: row.health, ExitCode: ctr.ExitCode, Ports: row.Ports, Labels: row.Labels, labels: ctr.Labels,
	}
	return r
}

func composePsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ps",
		Usage:     "list containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all stopped containers"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display IDs"},
			&cli.BoolFlag{Name: "services", Usage: "display services"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.StringSliceFlag{Name: "status", Usage: "filter services by status: paused, restarting, running, created, exited"},
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			switch {
			case c.Bool("quiet"):
				format = "{{.ID}}"
			case c.Bool("services"):
				format = "{{.Service}}"
			}
			out, err := newLister(c.App.Writer, format, composePsTable, composePsHeaders)
			if err != nil {
				return usageErrorf("%v", err)
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				status := c.StringSlice("status")
				list, err := cc.Containers(p, c.Args().Slice(), c.Bool("all") || len(status) > 0)
				if err != nil {
					return err
				}
				if len(status) > 0 {
					list = slices.DeleteFunc(list, func(ctr *engine.Container) bool { return !slices.Contains(status, stateName(ctr)) })
				}
				now := time.Now()
				seen := map[string]bool{}
				for _, ctr := range list {
					row := newComposePsRow(ctr, now)
					if c.Bool("services") {
						if seen[row.Service] {
							continue
						}
						seen[row.Service] = true
					}
					if err := out.Row(row, nil); err != nil {
						return err
					}
				}
				return out.Flush()
			})
		},
	}
}

func composeLsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list running compose projects",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all stopped compose projects"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display project names"},
			&cli.StringFlag{Name: "format", Usage: "format the output: table or json"},
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if c.Bool("quiet") {
				format = "{{.Name}}"
			}
			out, err := newLister(c.App.Writer, format, "table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}",
				map[string]string{"Name": "NAME", "Status": "STATUS", "ConfigFiles": "CONFIG FILES"})
			if err != nil {
				return usageErrorf("%v", err)
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				list, err := compose.Projects(e, c.Bool("all"))
				if err != nil {
					return err
				}
				for _, p := range list {
					if err := out.Row(p, nil); err != nil {
						return err
					}
				}
				return out.Flush()
			})
		},
	}
}

// prefixWriter writes whole lines, each led by prefix, to w; the lock
// is shared by every container's writers so lines never interleave.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := slices.Index(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// flush writes a last line that had no newline.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}

// logPrefix is Docker Compose's "service-N  | " (the container's name
// without the project), padded to the widest of the containers shown,
// and coloured as Docker Compose colours it when colour says so.
func logPrefixes(list []*engine.Container, project string, colour bool) []string {
	names := make([]string, len(list))
	width := 0
	for i, ctr := range list {
		names[i] = strings.TrimPrefix(ctr.Name, project+"-")
		width = max(width, len(names[i]))
	}
	for i := range names {
		names[i] = fmt.Sprintf("%-*s |", width, names[i])
		if colour {
			names[i] = "\x1b[" + rainbow[i%len(rainbow)] + "m" + names[i] + "\x1b[0m"
		}
		names[i] += " "
	}
	return names
}

// rainbow are the colours Docker Compose gives containers' prefixes, in
// its order: cyan, yellow, green, magenta, blue, then the same bright.
var rainbow = []string{"36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"}

// composeColour says whether log prefixes are coloured: never with
// --no-color or --ansi never, always with --ansi always, else when
// standard output is a terminal and NO_COLOR is not set.
func composeColour(c *cli.Context) bool {
	if lineageSet(c, "no-color") != nil && c.Bool("no-color") {
		return false
	}
	switch projectString(c, "ansi") {
	case "never":
		return false
	case "always":
		return true
	}
	return os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(os.Stdout.Fd()))
}

func composeLogsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "view output from containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.BoolFlag{Name: "no-log-prefix", Usage: "don't print prefix in logs"},
			&cli.BoolFlag{Name: "no-color", Usage: "produce monochrome output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs for each container"},
			&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp or relative time"},
		},
		Action: func(c *cli.Context) error {
			tail := -1
			if t := c.String("tail"); t != "all" {
				n, err := strconv.Atoi(t)
				if err != nil || n < 0 {
					return usageErrorf("invalid --tail %q: a number of 0 or more, or all", t)
				}
				tail = n
			}
			since, err := logTime(c.String("since"))
			if err != nil {
				return usageErrorf("invalid --since: %v", err)
			}
			until, err := logTime(c.String("until"))
			if err != nil {
				return usageErrorf("invalid --until: %v", err)
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				list, err := cc.Containers(p, c.Args().Slice(), true)
				if err != nil {
					return err
				}
				opts := engine.LogOptions{Follow: c.Bool("follow"), Tail: tail, Timestamps: c.Bool("timestamps"), Since: since, Until: until}
				return cc.Logs(c.Context, list, opts, newLogSink(c, list, p.Name, !c.Bool("no-log-prefix")), nil)
			})
		},
	}
}

// newLogSink prints each container's lines behind its prefix (none
// without prefix), stdout to stdout and stderr to stderr, whole lines at
// a time.
func newLogSink(c *cli.Context, list []*engine.Container, project string, prefix bool) compose.LogSink {
	prefixes := map[string]string{}
	for i, p := range logPrefixes(list, project, composeColour(c)) {
		if prefix {
			prefixes[list[i].ID] = p
		}
	}
	var mu sync.Mutex
	return func(ctr *engine.Container) (io.Writer, io.Writer, func()) {
		out := &prefixWriter{mu: &mu, w: c.App.Writer, prefix: prefixes[ctr.ID]}
		errw := &prefixWriter{mu: &mu, w: c.App.ErrWriter, prefix: prefixes[ctr.ID]}
		return out, errw, func() { out.flush(); errw.flush() }
	}
}

func composeExecCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "execute a command in a running container",
		ArgsUsage: "SERVICE COMMAND [ARGS...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-TTY", Aliases: []string{"T"}, Usage: "disable pseudo-TTY allocation (default: a TTY when on a terminal)"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run the command as this user"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "path to workdir directory for this command"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the process"},
			&cli.IntFlag{Name: "index", Value: 1, Usage: "index of the container if service has multiple replicas"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usageErrorf("\"box compose exec\" requires at least 2 arguments.\nSee 'box compose exec --help'.")
			}
			for _, e := range c.StringSlice("env") {
				if strings.HasPrefix(e, "=") {
					return usageErrorf("invalid environment variable %q", e)
				}
			}
			tty := !c.Bool("no-TTY") && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				service := c.Args().First()
				ctr, err := cc.ServiceContainer(p, service, c.Int("index"), false)
				if err != nil {
					return err
				}
				opts := engine.ExecOptions{
					ExecOptions: spec.ExecOptions{
						Args: c.Args().Slice()[1:], Env: c.StringSlice("env"),
						User: c.String("user"), WorkingDir: c.String("workdir"),
						TTY: tty, Privileged: c.Bool("privileged"),
					},
					Interactive: !c.Bool("detach"),
					Detach:      c.Bool("detach"),
				}
				code, err := cc.Engine.Exec(c.Context, ctr.ID, opts, engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
				if err != nil {
					return err
				}
				if code != 0 {
					return &engine.ExitError{Code: code}
				}
				return nil
			})
		},
	}
}

func composeStopCommand() *cli.Command {
	return &cli.Command{
		Name: "stop", Usage: "stop services", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{timeoutCliFlag()},
		Action: func(c *cli.Context) error {
			timeout, err := timeoutFlag(c)
			if err != nil {
				return err
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Stop(c.Context, p, c.Args().Slice(), timeout)
			})
		},
	}
}

func composeStartCommand() *cli.Command {
	return &cli.Command{
		Name: "start", Usage: "start services", ArgsUsage: "[SERVICE...]",
		Action: func(c *cli.Context) error {
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Start(c.Context, p, c.Args().Slice())
			})
		},
	}
}

func composeRestartCommand() *cli.Command {
	return &cli.Command{
		Name: "restart", Usage: "restart service containers", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{timeoutCliFlag()},
		Action: func(c *cli.Context) error {
			timeout, err := timeoutFlag(c)
			if err != nil {
				return err
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Restart(c.Context, p, c.Args().Slice(), timeout)
			})
		},
	}
}

func composeRmCommand() *cli.Command {
	return &cli.Command{
		Name: "rm", Usage: "removes stopped service containers", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "don't ask to confirm removal"},
			&cli.BoolFlag{Name: "stop", Aliases: []string{"s"}, Usage: "stop the containers, if required, before removing"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove any anonymous volumes attached to containers"},
		},
		Action: func(c *cli.Context) error {
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				list, err := cc.Removable(p, c.Args().Slice(), c.Bool("stop"))
				if err != nil {
					return err
				}
				if len(list) == 0 {
					fmt.Fprintln(c.App.ErrWriter, "No stopped containers")
					return nil
				}
				if !c.Bool("force") {
					names := make([]string, len(list))
					for i, ctr := range list {
						names[i] = ctr.Name
					}
					fmt.Fprintf(c.App.ErrWriter, "Going to remove %s\n? Are you sure? [y/N] ", strings.Join(names, ", "))
					line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
					if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
						return nil
					}
				}
				return cc.Remove(c.Context, p, list, c.Bool("volumes"))
			})
		},
	}
}

func composeCreateCommand() *cli.Command {
	return &cli.Command{
		Name: "create", Usage: "creates containers for a service", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force-recreate", Usage: "recreate containers even if their configuration and image haven't changed"},
			&cli.BoolFlag{Name: "no-recreate", Usage: "if containers already exist, don't recreate them"},
			&cli.BoolFlag{Name: "remove-orphans", Usage: "remove containers for services not defined in the compose file"},
			&cli.StringSliceFlag{Name: "scale", Usage: "scale SERVICE to NUM instances (SERVICE=NUM)"},
			&cli.StringFlag{Name: "pull", Usage: "pull image before running (always|missing|never)"},
			&cli.BoolFlag{Name: "build", Usage: "build images before starting containers"},
			&cli.BoolFlag{Name: "no-build", Usage: "don't build an image, even if it's policy"},
		},
		Action: func(c *cli.Context) error {
			opts := compose.UpOptions{RemoveOrphans: c.Bool("remove-orphans"), CreateOnly: true}
			var err error
			if opts.Build, err = buildPolicyFlag(c); err != nil {
				return err
			}
			switch {
			case c.Bool("force-recreate") && c.Bool("no-recreate"):
				return usageErrorf("--force-recreate and --no-recreate are incompatible")
			case c.Bool("force-recreate"):
				opts.Recreate = compose.RecreateForce
			case c.Bool("no-recreate"):
				opts.Recreate = compose.RecreateNever
			}
			scale, err := scaleFlag(c)
			if err != nil {
				return err
			}
			if err := pullFlag(c); err != nil {
				return err
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				if c.NArg() > 0 {
					var err error
					if p, err = p.WithSelectedServices(c.Args().Slice(), types.IncludeDependencies); err != nil {
						return err
					}
				}
				if err := compose.Override(p, scale, c.String("pull")); err != nil {
					return err
				}
				return cc.Up(c.Context, p, opts)
			})
		},
	}
}

// scaleFlag reads --scale SERVICE=NUM values.
func scaleFlag(c *cli.Context) (map[string]int, error) {
	scale := map[string]int{}
	for _, v := range c.StringSlice("scale") {
		name, num, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return nil, usageErrorf("invalid --scale %q: want SERVICE=NUM", v)
		}
		scale[name] = n
	}
	return scale, nil
}

// pullFlag checks --pull.
func pullFlag(c *cli.Context) error {
	switch c.String("pull") {
	case "", "always", "missing", "never":
		return nil
	}
	return usageErrorf("invalid --pull %q: always, missing or never", c.String("pull"))
}

func composeKillCommand() *cli.Command {
	return &cli.Command{
		Name: "kill", Usage: "force stop service containers", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "SIGKILL", Usage: "SIGNAL to send to the container"},
		},
		Action: func(c *cli.Context) error {
			sig, err := engine.ParseSignal(c.String("signal"))
			if err != nil {
				return usageErrorf("%v", err)
			}
			return withProjectOrName(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Kill(p, c.Args().Slice(), sig)
			})
		},
	}
}

func composePauseCommand(verb string) *cli.Command {
	usage := "pause services"
	if verb == "unpause" {
		usage = "unpause services"
	}
	return &cli.Command{
		Name: verb, Usage: usage, ArgsUsage: "[SERVICE...]",
		Action: func(c *cli.Context) error {
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				return cc.Pause(p, c.Args().Slice(), verb == "unpause")
			})
		},
	}
}

func composePortCommand() *cli.Command {
	return &cli.Command{
		Name: "port", Usage: "print the public port for a port binding", ArgsUsage: "SERVICE PRIVATE_PORT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "protocol", Value: "tcp", Usage: "tcp or udp"},
			&cli.IntFlag{Name: "index", Value: 1, Usage: "index of the container if service has multiple replicas"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			private, err := strconv.Atoi(c.Args().Get(1))
			if err != nil || private < 1 || private > 65535 {
				return usageErrorf("invalid port %q", c.Args().Get(1))
			}
			proto := c.String("protocol")
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				service := c.Args().First()
				ctr, err := cc.ServiceContainer(p, service, c.Int("index"), false)
				if err != nil {
					return err
				}
				for _, port := range ctr.Ports {
					if port.ContainerPort == private && port.Proto == proto {
						ip := port.HostIP
						if ip == "" {
							ip = "0.0.0.0"
						}
						fmt.Fprintf(c.App.Writer, "%s:%d\n", ip, port.HostPort)
						return nil
					}
				}
				return fmt.Errorf("no port %d/%s for container %s", private, proto, ctr.Name)
			})
		},
	}
}

func composeRunCommand() *cli.Command {
	return &cli.Command{
		Name: "run", Usage: "run a one-off command on a service", ArgsUsage: "SERVICE [COMMAND] [ARGS...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run container in background and print container ID"},
			&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringFlag{Name: "entrypoint", Usage: "override the entrypoint of the image"},
			&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
			&cli.BoolFlag{Name: "service-ports", Usage: "run command with all service's ports enabled and mapped to the host"},
			&cli.BoolFlag{Name: "use-aliases", Usage: "use the service's network aliases in the network(s) the container connects to"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container's port(s) to the host"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "add or override a label"},
			&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
			&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
			&cli.BoolFlag{Name: "no-TTY", Aliases: []string{"T"}, Usage: "disable pseudo-TTY allocation (default: a TTY when on a terminal)"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Usage: "keep STDIN open even if not attached"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as specified username or uid"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageErrorf("\"box compose run\" requires at least 1 argument.\nSee 'box compose run --help'.")
			}
			if c.Bool("detach") && c.Bool("rm") {
				return usageErrorf("--detach and --rm cannot be combined")
			}
			opts := compose.RunOptions{
				Service: c.Args().First(), Env: c.StringSlice("env"), Name: c.String("name"),
				User: c.String("user"), Workdir: c.String("workdir"),
				Remove: c.Bool("rm"), Detach: c.Bool("detach"),
				NoDeps: c.Bool("no-deps"), ServicePorts: c.Bool("service-ports"), UseAliases: c.Bool("use-aliases"),
			}
			if c.NArg() > 1 {
				opts.Command = c.Args().Slice()[1:]
			}
			if c.IsSet("entrypoint") {
				ep := c.String("entrypoint")
				opts.Entrypoint = &ep
			}
			var err error
			if opts.Publish, err = flags.ParsePorts(c.StringSlice("publish")); err != nil {
				return err
			}
			if opts.Mounts, err = flags.ParseMounts(c.StringSlice("volume"), nil, nil); err != nil {
				return err
			}
			if opts.Labels, err = flags.ParseLabels(c.StringSlice("label")); err != nil {
				return err
			}
			if opts.CapAdd, err = flags.ParseCapabilities(c.StringSlice("cap-add")); err != nil {
				return err
			}
			if opts.CapDrop, err = flags.ParseCapabilities(c.StringSlice("cap-drop")); err != nil {
				return err
			}
			onTerminal := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
			opts.TTY = !c.Bool("no-TTY") && !opts.Detach && onTerminal
			opts.Interactive = c.Bool("interactive") && !opts.Detach
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				id, err := cc.Run(c.Context, p, opts, engine.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
				if err != nil {
					return err
				}
				if opts.Detach {
					fmt.Fprintln(c.App.Writer, id)
				}
				return nil
			})
		},
	}
}

func composeTopCommand() *cli.Command {
	return &cli.Command{
		Name: "top", Usage: "display the running processes", ArgsUsage: "[SERVICE...]",
		Action: func(c *cli.Context) error {
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				list, err := cc.Containers(p, c.Args().Slice(), false)
				if err != nil {
					return err
				}
				// Docker Compose's shape: each container's name, then its
				// processes as ps shows them.
				for i, ctr := range list {
					top, err := cc.Engine.Top(ctr.ID, nil)
					if err != nil {
						return err
					}
					if i > 0 {
						fmt.Fprintln(c.App.Writer)
					}
					fmt.Fprintln(c.App.Writer, ctr.Name)
					w := tabwriter.NewWriter(c.App.Writer, 5, 1, 3, ' ', 0)
					fmt.Fprintln(w, strings.Join(top.Titles, "\t"))
					for _, row := range top.Processes {
						fmt.Fprintln(w, strings.Join(row, "\t"))
					}
					if err := w.Flush(); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

// composeGoVersion is the compose-go release box was built with.
func composeGoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/compose-spec/compose-go/v2" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func composeVersionCommand() *cli.Command {
	return &cli.Command{
		Name: "version", Usage: "show the box compose version information",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "short", Usage: "shows only the version number"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if c.Bool("short") {
				fmt.Fprintln(c.App.Writer, storage.Version)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "box compose version %s (compose-go %s)\n", storage.Version, composeGoVersion())
			return nil
		},
	}
}

func composeImagesCommand() *cli.Command {
	return &cli.Command{
		Name: "images", Usage: "list images used by the created containers", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display IDs"},
			&cli.StringFlag{Name: "format", Usage: "format the output: table or json"},
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if c.Bool("quiet") {
				format = "{{.ID}}"
			}
			out, err := newLister(c.App.Writer, format, "table {{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}",
				map[string]string{"ContainerName": "CONTAINER", "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Size": "SIZE"})
			if err != nil {
				return usageErrorf("%v", err)
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				list, err := cc.Containers(p, c.Args().Slice(), true)
				if err != nil {
					return err
				}
				seen := map[string]bool{}
				for _, ctr := range list {
					if c.Bool("quiet") && seen[ctr.ImageID] {
						continue
					}
					seen[ctr.ImageID] = true
					repo, tag := splitImageRef(ctr.Image)
					row := composeImageRow{ContainerName: ctr.Name, Repository: repo, Tag: tag, ID: truncateID(ctr.ImageID)}
					if img, err := cc.Engine.Store.LookupImage(ctr.ImageID); err == nil {
						if n, err := img.Size(); err == nil {
							row.Size = humanSize(n)
						}
					}
					if err := out.Row(row, nil); err != nil {
						return err
					}
				}
				return out.Flush()
			})
		},
	}
}

// composeImageRow is one line of `compose images`.
type composeImageRow struct {
	ContainerName, Repository, Tag, ID, Size string
}

// splitImageRef is an image reference's repository and tag (latest when
// it names none; "" for one given by digest).
func splitImageRef(ref string) (string, string) {
	if repo, _, ok := strings.Cut(ref, "@"); ok {
		return repo, ""
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}
