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

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/rootless"
	"box/storage"
)

// Main runs box's CLI and returns the process exit code.
func Main(args []string) int {
	if rootless.NeedsNamespace(args) && !rootless.InNamespace() && os.Geteuid() != 0 {
		// rootless's constructor did not get this process into its user
		// namespace before main; say why.
		printError(os.Stderr, rootless.EntryError())
		return exitBoxFailed
	}
	if w := rootless.FallbackWarning(); w != "" {
		warnOnce(os.Stderr, w)
	}
	app := newApp(os.Stdout, os.Stderr)
	args, err := normalizeArgs(app, args)
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
	app := &cli.App{
		Name:                   "box",
		Usage:                  "run containers without a daemon, as yourself",
		Version:                storage.Version,
		HideVersion:            true,
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
		Commands: commandTree(),
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
	top := topCommand()
	port := portCommand()
	pause, unpause := pauseCommand(), unpauseCommand()
	cp, export := cpCommand(), exportCommand()
	push := pushCommand()
	save, load, commit := saveCommand(), loadCommand(), commitCommand()
	build := buildCommand()
	return []*cli.Command{
		push, loginCommand(), logoutCommand(), searchCommand(),
		run, pull, images, rmi, tag, history, ps, rm, stop, kill, wait, logs, rename,
		create, start, restart, diff, exec, attach, top, pause, unpause, cp, export, port,
		versionCommand(), infoCommand(), unshareCommand(), inspectCommand(), importCommand(),
		volumeCommand(),
		networkCommand(),
		save, load, commit, build, buildxCommand(build),
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
				alias(top, "top"), alias(pause, "pause"), alias(unpause, "unpause"),
				alias(cp, "cp"), alias(export, "export"), alias(commit, "commit"), alias(port, "port"),
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
			Subcommands: []*cli.Command{systemResetCommand(), alias(infoCommand(), "info"), dfCommand(), systemPruneCommand()},
		},
	}
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
