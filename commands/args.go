package commands

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// trailingCommand lists verbs whose arguments after the first positional
// belong to a program (box run IMAGE CMD --flag): there, flags stop at the
// first positional as Docker's do.
var trailingCommand = map[string]bool{"run": true, "create": true, "unshare": true, "exec": true, "top": true}

// intersperse moves a verb's flags ahead of its positional arguments so
// that `box rmi alpine -f` works as in Docker; urfave/cli stops parsing
// flags at the first positional. Global flags and the verb path stay put.
func intersperse(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if globalsWithValue[args[i]] {
			i++
		}
		i++
	}
	cmds := app.Commands
	var leaf *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		leaf, cmds = c, c.Subcommands
		i++
	}
	if leaf == nil || len(leaf.Subcommands) > 0 {
		return args
	}
	args = canonicalLists(leaf, args, i)
	if trailingCommand[leaf.Name] {
		return args
	}
	var flags, positional []string
	rest := args[i:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			positional = append(positional, rest[j:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if takesValue(leaf, a) && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append(append([]string{}, args[:i]...), flags...)
	return append(out, positional...)
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

// takesValue reports whether the flag a ("-f", "--format", "-qf") needs
// the next argument as its value.
func takesValue(c *cli.Command, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	if !strings.HasPrefix(a, "--") && len(name) > 1 {
		// A group of short flags: only the last may take a value.
		name = name[len(name)-1:]
	}
	for _, f := range c.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// canonicalLists spells every list flag by its long name (-e X becomes
// --env X): urfave/cli refuses "two forms of the same flag" where Docker
// takes `-e A --env B`. It stops at the first positional argument.
func canonicalLists(c *cli.Command, args []string, from int) []string {
	out := append([]string{}, args...)
	for j := from; j < len(out); j++ {
		a := out[j]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		for _, f := range c.Flags {
			list, ok := f.(*cli.StringSliceFlag)
			if !ok || !slices.Contains(f.Names(), name) {
				continue
			}
			out[j] = "--" + list.Name
			if hasValue {
				out[j] += "=" + value
			}
		}
		if takesValue(c, a) {
			j++
		}
	}
	return out
}
