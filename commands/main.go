// Package commands is box's command line: it turns flags into engine
// options, makes one engine call per verb and prints what comes back.
// It is the only package that prints to the terminal or imports urfave/cli.
package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/rootless"
	"box/storage"
)

// Main runs box's CLI and returns the process exit code.
func Main(args []string) int {
	if rootless.NeedsNamespace(args) && !rootless.InNamespace() && os.Geteuid() != 0 && !isSystemCheck(args) {
		// rootless's constructor did not get this process into its user
		// namespace before main; say why.
		printError(os.Stderr, rootless.EntryError())
		return exitBoxFailed
	}
	if w := rootless.FallbackWarning(); w != "" {
		warnOnce(os.Stderr, w)
	}
	app := newApp(os.Stdout, os.Stderr)
	args, err := normalizeArgs(app, composeAlias(args))
	if err == nil {
		err = app.Run(args)
	}
	if err == nil {
		return 0
	}
	code := exitCode(err)
	if !isSilent(err) {
		printError(os.Stderr, err)
	}
	return code
}

// warnOnce prints the single-id warning once per boot, remembered in the
// user's default run root whatever --runroot says.
func warnOnce(w io.Writer, msg string) {
	id, err := rootless.Current()
	if err != nil {
		return
	}
	_, runRoot, err := engine.Paths(id, engine.Options{})
	if err != nil {
		return
	}
	marker := filepath.Join(runRoot, "single-id-warned")
	if _, err := os.Stat(marker); err == nil {
		return
	}
	fmt.Fprintf(w, "box: warning: %s\n", msg)
	if err := os.MkdirAll(runRoot, 0o700); err == nil {
		_ = os.WriteFile(marker, nil, 0o600)
	}
}

// hinter is an error that knows how the user can fix its cause; the
// hint goes on a line of its own, under the error.
type hinter interface{ Hint() string }

func printError(w io.Writer, err error) {
	msg := err.Error()
	if msg == "" {
		return
	}
	fmt.Fprintf(w, "Error: %s\n", msg)
	var h hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(w, "Hint: %s\n", h.Hint())
	}
}

// globalsWithValue are the global flags that take a separate value, as
// the user-namespace constructor skips them too (rootless/roles.go).
var globalsWithValue = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range rootless.GlobalValueFlags {
		m[f] = true
	}
	return m
}()

// newEngine opens the engine with the global flags.
func newEngine(c *cli.Context) (*engine.Engine, error) {
	return engine.New(engine.Options{
		Root:    c.String("root"),
		RunRoot: c.String("runroot"),
		Driver:  c.String("storage-driver"),
	})
}

// withEngine checks the number of arguments, opens the engine for act
// and closes it afterwards: the frame of most verbs.
func withEngine(c *cli.Context, min, max int, act func(*engine.Engine) error) error {
	if err := requireArgs(c, min, max); err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	return act(e)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	// Docker's -h is run's --hostname; help is --help only.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	// -v and --version before any verb: "box version 0.1.0, build abc1234".
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print version information and quit"}
	cli.VersionPrinter = printShortVersion
	app := &cli.App{
		Name:                   "box",
		Usage:                  "run containers without a daemon, as yourself",
		Version:                storage.Version,
		CustomAppHelpTemplate:  appHelpTemplate,
		Writer:                 stdout,
		ErrWriter:              stderr,
		UseShortOptionHandling: true,
		// Docker's list flags take one value each: --mount's own commas stay.
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "where images, layers and containers are stored"},
			&cli.StringFlag{Name: "runroot", Usage: "where run-time state is kept"},
			&cli.StringFlag{Name: "storage-driver", Usage: "storage driver (overlay, vfs)"},
			&cli.StringFlag{Name: "log-level", Value: "error", Usage: "debug, info, warn or error"},
			cli.VersionFlag,
		},
		Before: func(c *cli.Context) error {
			lvl, err := logrus.ParseLevel(c.String("log-level"))
			if err != nil {
				return usageErrorf("invalid --log-level %q: want debug, info, warn or error", c.String("log-level"))
			}
			logrus.SetLevel(lvl)
			logrus.SetOutput(stderr)
			return nil
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("unknown command %q for \"box\"\nRun 'box --help' for usage.", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: categorize(commandTree()),
	}
	setUsageErrors(app.Commands)
	app.ExitErrHandler = func(*cli.Context, error) {}
	return app
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	name := "box"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name = "box " + c.Command.FullName()
	}
	return usageErrorf("%v\nSee '%s --help'.", err, name)
}

// commandTree lists every verb in both of Docker's spellings.
func commandTree() []*cli.Command {
	run := runCommand()
	pull := pullCommand()
	images := imagesCommand()
	rmi := rmiCommand()
	tag := tagCommand()
	history := historyCommand()
	imageInspect := imageInspectCommand()
	ps := psCommand()
	rm := rmCommand()
	stop, kill, wait := stopCommand(), killCommand(), waitCommand()
	logs, rename := logsCommand(), renameCommand()
	create, start, restart := createCommand(), startCommand(), restartCommand()
	diff := diffCommand()
	exec, attach := execCommand(), attachCommand()
	top, stats := topCommand(), statsCommand()
	port := portCommand()
	pause, unpause := pauseCommand(), unpauseCommand()
	cp, export := cpCommand(), exportCommand()
	push := pushCommand()
	save, load, commit := saveCommand(), loadCommand(), commitCommand()
	build := buildCommand()
	events, update := eventsCommand(), updateCommand()
	return []*cli.Command{
		push, loginCommand(), logoutCommand(), searchCommand(),
		run, pull, images, rmi, tag, history, ps, rm, stop, kill, wait, logs, rename,
		create, start, restart, diff, exec, attach, top, stats, pause, unpause, cp, export, port,
		versionCommand(), infoCommand(), completionCommand(), completeCommand(), unshareCommand(), inspectCommand(), importCommand(),
		volumeCommand(),
		networkCommand(),
		composeCommand(), kubeCommand(), playCommand(),
		save, load, commit, build, buildxCommand(build), events, update,
		{
			Name:        "builder",
			Usage:       "manage builds",
			Subcommands: []*cli.Command{alias(build, "build")},
		},
		{
			Name:  "container",
			Usage: "manage containers",
			Subcommands: []*cli.Command{
				alias(run, "run"), alias(ps, "ls", "list", "ps"), alias(rm, "rm", "remove"),
				alias(stop, "stop"), alias(kill, "kill"), alias(wait, "wait"), alias(logs, "logs"),
				alias(rename, "rename"), containerPruneCommand(),
				alias(create, "create"), alias(start, "start"), alias(restart, "restart"),
				containerInspectCommand(), alias(diff, "diff"), alias(exec, "exec"), alias(attach, "attach"),
				alias(top, "top"), alias(stats, "stats"), alias(pause, "pause"), alias(unpause, "unpause"),
				alias(cp, "cp"), alias(export, "export"), alias(commit, "commit"), alias(port, "port"),
				alias(update, "update"),
			},
		},
		{
			Name:  "image",
			Usage: "manage images",
			Subcommands: []*cli.Command{
				alias(pull, "pull"), alias(push, "push"), alias(images, "ls", "list"), alias(rmi, "rm", "remove"),
				alias(tag, "tag"), alias(history, "history"), imageInspect, alias(importCommand(), "import"),
				alias(save, "save"), alias(load, "load"), imagePruneCommand(), alias(build, "build"),
			},
		},
		{
			Name:        "system",
			Usage:       "manage box",
			Subcommands: []*cli.Command{systemResetCommand(), alias(infoCommand(), "info"), dfCommand(), systemPruneCommand(), systemCheckCommand(), alias(events, "events")},
		},
	}
}

// appHelpTemplate is `box --help` in the shape of `docker --help`: the
// common commands first, in Docker's order, then the management commands
// (nouns) and the rest, each alphabetically (see categorize).
const appHelpTemplate = `
Usage:  {{.HelpName}} [OPTIONS] COMMAND

{{.Usage}}
{{- range .VisibleCategories}}{{if eq .Name "Common Commands"}}{{template "boxCategory" .}}{{end}}{{end}}
{{- range .VisibleCategories}}{{if eq .Name "Management Commands"}}{{template "boxCategory" .}}{{end}}{{end}}
{{- range .VisibleCategories}}{{if eq .Name "Commands"}}{{template "boxCategory" .}}{{end}}{{end}}

Global Options:{{range .VisibleFlags}}
  {{.}}{{end}}

Run '{{.HelpName}} COMMAND --help' for more information on a command.
{{define "boxCategory"}}

{{.Name}}:{{range .VisibleCommands}}
  {{.Name}}{{"\t"}}{{.Usage}}{{end}}{{end}}`

// commonCommands are docker --help's "Common Commands", in its order.
var commonCommands = []string{"run", "exec", "ps", "build", "pull", "push", "images", "login", "logout", "search", "version", "info"}

// categorize files the top-level verbs under docker --help's headings:
// the common ones, the nouns that hold verbs (Management Commands) and the
// rest (Commands); and orders them as Docker lists them.
func categorize(cmds []*cli.Command) []*cli.Command {
	rank := func(c *cli.Command) int {
		if i := slices.Index(commonCommands, c.Name); i >= 0 {
			return i
		}
		return len(commonCommands)
	}
	for _, c := range cmds {
		switch {
		case rank(c) < len(commonCommands):
			c.Category = "Common Commands"
		case len(c.Subcommands) > 0:
			c.Category = "Management Commands"
		default:
			c.Category = "Commands"
		}
	}
	slices.SortStableFunc(cmds, func(a, b *cli.Command) int {
		if r := rank(a) - rank(b); r != 0 {
			return r
		}
		return strings.Compare(a.Name, b.Name)
	})
	return cmds
}

// setUsageErrors makes every command report flag mistakes as one line
// and exit 125, instead of urfave/cli's help dump.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = onUsageError
		}
		setUsageErrors(c.Subcommands)
	}
}

// alias copies a command under another name for the noun-verb spelling.
func alias(c *cli.Command, name string, more ...string) *cli.Command {
	cp := *c
	cp.Name = name
	cp.Aliases = more
	return &cp
}

// usageError is a mistake on the command line: exit 125, like Docker.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// requireArgs checks the number of positional arguments.
func requireArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	if n >= min && (max < 0 || n <= max) {
		return nil
	}
	name := c.Command.FullName()
	switch {
	case max == 0:
		return usageErrorf("\"box %s\" accepts no arguments.\nSee 'box %s --help'.", name, name)
	case min == 0:
		return usageErrorf("\"box %s\" accepts at most %d argument(s).\nSee 'box %s --help'.", name, max, name)
	case n > max && max >= 0:
		return usageErrorf("\"box %s\" requires at most %d argument(s).\nSee 'box %s --help'.", name, max, name)
	case min == max:
		return usageErrorf("\"box %s\" requires exactly %d argument(s).\nSee 'box %s --help'.", name, min, name)
	default:
		return usageErrorf("\"box %s\" requires at least %d argument(s).\nSee 'box %s --help'.", name, min, name)
	}
}

var errSilent = errors.New("")

// isSilent says whether an error was already reported: a container's own
// non-zero exit speaks through its exit code alone.
func isSilent(err error) bool {
	var exit *engine.ExitError
	return errors.Is(err, errSilent) || errors.As(err, &exit)
}
