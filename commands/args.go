package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// trailingCommand lists verbs whose arguments after the first positional
// belong to a program (box run IMAGE CMD --flag): there, flags stop at the
// first positional as Docker's do.
var trailingCommand = map[string]bool{"run": true, "create": true, "unshare": true, "exec": true, "top": true}

// normalizeArgs reads the command line as Docker's flag parser (pflag)
// does and rewrites it for urfave/cli, from each command's own flag
// definitions:
//   - every flag becomes its primary long name, "--name=value" or
//     "--name", so `-t0`, `-t=0`, `-t 0`, `-itd`, `-itp 80:80` and
//     `-e A --env B` all mean what they mean to Docker;
//   - a verb's flags move ahead of its positional arguments, so that
//     `box rmi alpine -f` works (except for the trailingCommand verbs);
//   - `-h`, where it is no flag of the command, asks for help;
//   - unknown flags and missing values are refused in pflag's words.
//
// The verb path (box container ls) stays in place; a command that parses
// its own arguments (SkipFlagParsing) is left alone.
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	out := []string{args[0]}
	global, rest, err := normalizeFlags(app.Flags, args[1:], true)
	if err != nil {
		return nil, flagError(err, "box")
	}
	if global == nil && rest == nil {
		return []string{args[0], "--help"}, nil
	}
	out = append(out, global...)
	// The verb path: box container ls.
	cmds := app.Commands
	var leaf *cli.Command
	for len(rest) > 0 {
		c := findCommand(cmds, rest[0])
		if c == nil {
			break
		}
		out = append(out, rest[0])
		leaf, cmds, rest = c, c.Subcommands, rest[1:]
	}
	if leaf == nil || len(leaf.Subcommands) > 0 || leaf.SkipFlagParsing {
		return append(out, rest...), nil
	}
	flags, positional, err := normalizeFlags(leaf.Flags, rest, trailingCommand[leaf.Name])
	if err != nil {
		return nil, flagError(err, "box "+strings.Join(out[1+len(global):], " "))
	}
	if flags == nil && positional == nil {
		return append(out, "--help"), nil
	}
	out = append(out, flags...)
	return append(out, positional...), nil
}

// flagError is a flag mistake as Docker words it, with the command whose
// help to read.
func flagError(err error, command string) error {
	return usageErrorf("%v\nSee '%s --help'.", err, command)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// normalizeFlags splits args into flags, each spelt "--name=value" or
// "--name" by its flag's primary name, and positional arguments, led by
// "--" when the user ended the flags with it. With stopAtPositional, flags
// end at the first positional argument. Both results are nil when the
// arguments ask for help (-h that is no flag here).
func normalizeFlags(defs []cli.Flag, args []string, stopAtPositional bool) (flags, positional []string, err error) {
	flags, positional = []string{}, []string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(append(positional, "--"), args[i+1:]...), nil
		case a == "-" || !strings.HasPrefix(a, "-"):
			if stopAtPositional {
				return flags, append(positional, args[i:]...), nil
			}
			positional = append(positional, a)
			continue
		}
		var used int
		var out []string
		var help bool
		if strings.HasPrefix(a, "--") {
			out, used, err = longFlag(defs, a, args[i+1:])
		} else {
			out, used, help, err = shortFlags(defs, a, args[i+1:])
		}
		if err != nil {
			return nil, nil, err
		}
		if help {
			return nil, nil, nil
		}
		flags = append(flags, out...)
		i += used
	}
	return flags, positional, nil
}

// longFlag reads "--name", "--name=value" or "--name value"; used is how
// many of the following arguments it took.
func longFlag(defs []cli.Flag, a string, next []string) (out []string, used int, err error) {
	name, value, hasValue := strings.Cut(a[2:], "=")
	if name == "" || name[0] == '-' {
		return nil, 0, fmt.Errorf("bad flag syntax: %s", a)
	}
	f := lookupFlag(defs, name, false)
	if f == nil {
		return nil, 0, fmt.Errorf("unknown flag: --%s", name)
	}
	switch {
	case hasValue:
		return withValue(f, value, 0)
	case isBool(f):
		return []string{"--" + f.Names()[0]}, 0, nil
	case len(next) > 0:
		return withValue(f, next[0], 1)
	}
	return nil, 0, fmt.Errorf("flag needs an argument: %s", a)
}

// withValue spells flag f with value, checked as pflag checks numbers
// and booleans.
func withValue(f cli.Flag, value string, used int) ([]string, int, error) {
	var err error
	switch f.(type) {
	case *cli.BoolFlag:
		_, err = strconv.ParseBool(value)
	case *cli.IntFlag:
		_, err = strconv.ParseInt(value, 0, 64)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("invalid argument %q for %q flag: %v", value, flagNames(f), err)
	}
	return []string{"--" + f.Names()[0] + "=" + value}, used, nil
}

// flagNames is how pflag names a flag in its errors: "-n, --last".
func flagNames(f cli.Flag) string {
	var short, long string
	for _, n := range f.Names() {
		if len(n) == 1 && short == "" {
			short = "-" + n
		} else if len(n) > 1 && long == "" {
			long = "--" + n
		}
	}
	if short == "" {
		return long
	}
	return short + ", " + long
}

// shortFlags reads a group of one-letter flags as pflag does: booleans
// may be grouped ("-dit"); the first letter that takes a value takes the
// rest of the group ("-p80:80", "-t=0") or else the next argument.
func shortFlags(defs []cli.Flag, a string, next []string) (out []string, used int, help bool, err error) {
	for s := a[1:]; s != ""; s = s[1:] {
		c := s[0]
		f := lookupFlag(defs, string(c), true)
		if f == nil {
			if c == 'h' {
				return nil, 0, true, nil
			}
			return nil, 0, false, fmt.Errorf("unknown shorthand flag: %q in %s", c, a)
		}
		var v []string
		switch {
		case len(s) > 2 && s[1] == '=':
			v, used, err = withValue(f, s[2:], 0)
		case isBool(f):
			out = append(out, "--"+f.Names()[0])
			continue
		case len(s) > 1:
			v, used, err = withValue(f, s[1:], 0)
		case len(next) > 0:
			v, used, err = withValue(f, next[0], 1)
		default:
			return nil, 0, false, fmt.Errorf("flag needs an argument: %q in %s", c, a)
		}
		return append(out, v...), used, false, err
	}
	return out, 0, false, nil
}

// lookupFlag finds a flag by one of its names: a one-letter name is its
// shorthand (-d), a longer one its long name (--detach). --help is every
// command's.
func lookupFlag(defs []cli.Flag, name string, short bool) cli.Flag {
	if short != (len(name) == 1) {
		return nil
	}
	for _, f := range defs {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	if name == "help" {
		return cli.HelpFlag
	}
	return nil
}

func isBool(f cli.Flag) bool {
	_, ok := f.(*cli.BoolFlag)
	return ok
}
