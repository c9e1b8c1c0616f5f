package commands

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"box/engine"
)

// Shell completion is in two halves. The scripts `box completion SHELL`
// prints are small and the same for every version of box: on TAB they
// hand the words typed so far to the hidden `box __complete` and offer
// what it prints, one candidate a line. All the knowledge (verbs in both
// spellings, each verb's flags, which arguments name containers, images,
// networks or volumes) stays here, read from the CLI's own definitions,
// and the names come from the store as engine.Names reads it: without the
// user namespace (both verbs are in rootless's outside list), so a TAB
// costs milliseconds.

const completeVerb = "__complete"

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "generate the autocompletion script for the specified shell",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that makes SHELL complete box's commands, flags and the
names of your containers, images, networks and volumes.

bash (needs the bash-completion package):
  for this session:    source <(box completion bash)
  for every session:   box completion bash > ~/.local/share/bash-completion/completions/box

zsh:
  for this session:    source <(box completion zsh)     (after compinit)
  for every session:   box completion zsh > "${fpath[1]}/_box"   (a directory in $fpath)

fish:
  for this session:    box completion fish | source
  for every session:   box completion fish > ~/.config/fish/completions/box.fish`,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			script, ok := completionScripts[c.Args().First()]
			if !ok {
				return usageErrorf("unsupported shell %q: box completes bash, zsh and fish\nSee 'box completion --help'.", c.Args().First())
			}
			_, err := io.WriteString(c.App.Writer, script)
			return err
		},
	}
}

func completeCommand() *cli.Command {
	return &cli.Command{
		Name:   completeVerb,
		Hidden: true,
		Usage:  "print the completions of a command line (the words after box; the last is the one being completed)",
		// The words are the user's command line, flags and all.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			for _, w := range complete(c.App, c.Args().Slice()) {
				fmt.Fprintln(c.App.Writer, w)
			}
			return nil
		},
	}
}

// argNames says what a verb's positional arguments name; first says only
// its first one does (run IMAGE COMMAND...).
type argNames struct {
	kind  engine.NameKind
	first bool
}

var (
	containerArg      = argNames{kind: engine.ContainerNames}
	firstContainerArg = argNames{kind: engine.ContainerNames, first: true}
	imageArg          = argNames{kind: engine.ImageNames}
	firstImageArg     = argNames{kind: engine.ImageNames, first: true}
	networkArg        = argNames{kind: engine.NetworkNames}
	firstNetworkArg   = argNames{kind: engine.NetworkNames, first: true}
	volumeArg         = argNames{kind: engine.VolumeNames}
)

// completeArgs maps a management noun ("" for top-level verbs) and a
// verb's name to what its arguments name. "container X" is top-level X.
var completeArgs = map[string]map[string]argNames{
	"": {
		"rm": containerArg, "stop": containerArg, "kill": containerArg, "wait": containerArg,
		"logs": firstContainerArg, "rename": firstContainerArg, "start": containerArg,
		"restart": containerArg, "diff": firstContainerArg, "exec": firstContainerArg,
		"attach": firstContainerArg, "top": firstContainerArg, "pause": containerArg,
		"unpause": containerArg, "export": firstContainerArg, "port": firstContainerArg,
		"stats": containerArg, "commit": firstContainerArg, "inspect": containerArg,
		"update": containerArg,

		"rmi": imageArg, "run": firstImageArg, "create": firstImageArg, "tag": firstImageArg,
		"history": firstImageArg, "push": firstImageArg, "save": imageArg,
	},
	"image": {
		"rm": imageArg, "tag": firstImageArg, "history": firstImageArg, "inspect": imageArg,
		"push": firstImageArg, "save": imageArg,
	},
	"network": {
		"rm": networkArg, "inspect": networkArg, "connect": firstNetworkArg, "disconnect": firstNetworkArg,
	},
	"volume": {"rm": volumeArg, "inspect": volumeArg},
}

// completeFlagValues says what the values of some flags name.
var completeFlagValues = map[string]engine.NameKind{
	"network": engine.NetworkNames, "volume": engine.VolumeNames, "volumes-from": engine.ContainerNames,
}

// complete returns the candidates for the last of words (the words after
// "box", the last one being typed, "" for a new word), walking app's own
// command tree as the parser would.
func complete(app *cli.App, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, typed := words[len(words)-1], words[:len(words)-1]
	var (
		cmds       = app.Commands
		flags      = app.Flags
		path       []string
		leaf       *cli.Command
		positional int
		opts       engine.Options
		pending    cli.Flag // a flag whose value is the next word
	)
	for i := 0; i < len(typed); i++ {
		w := typed[i]
		if pending != nil {
			if leaf == nil {
				setGlobal(&opts, pending.Names()[0], w)
			}
			pending = nil
			continue
		}
		if leaf != nil && len(leaf.Subcommands) == 0 && trailingCommand[leaf.Name] && positional > 0 {
			return nil // the container's command line: not box's to complete
		}
		if w == "--" {
			positional += len(typed) - i - 1
			break
		}
		if strings.HasPrefix(w, "-") && w != "-" {
			f, value, hasValue := flagOf(flags, w)
			switch {
			case f == nil || isBool(f):
			case hasValue:
				if leaf == nil {
					setGlobal(&opts, f.Names()[0], value)
				}
			default:
				pending = f
			}
			continue
		}
		if leaf == nil || len(leaf.Subcommands) > 0 {
			c := findCommand(cmds, w)
			if c == nil {
				return nil
			}
			path, leaf, cmds, flags = append(path, c.Name), c, c.Subcommands, c.Flags
			continue
		}
		positional++
	}
	var cands []string
	switch {
	case pending != nil:
		if kind, ok := completeFlagValues[pending.Names()[0]]; ok {
			cands = engine.Names(opts, kind)
		}
	case strings.HasPrefix(cur, "-"):
		cands = flagCandidates(flags)
	case leaf == nil || len(leaf.Subcommands) > 0:
		for _, c := range cmds {
			if !c.Hidden {
				cands = append(cands, c.Names()...)
			}
		}
	case leaf.SkipFlagParsing && leaf.Name != "top":
	default:
		noun := ""
		if len(path) == 2 && path[0] != "container" {
			noun = path[0]
		}
		spec, ok := completeArgs[noun][leaf.Name]
		if ok && (!spec.first || positional == 0) {
			cands = engine.Names(opts, spec.kind)
		}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// flagOf finds the flag a word spells: "--name", "--name=value", "-x" or
// a group of short flags, of which the last one that takes a value
// counts (hasValue: the value is in the word itself).
func flagOf(defs []cli.Flag, w string) (f cli.Flag, value string, hasValue bool) {
	if strings.HasPrefix(w, "--") {
		name, value, hasValue := strings.Cut(w[2:], "=")
		return lookupFlag(defs, name, false), value, hasValue
	}
	for i := 1; i < len(w); i++ {
		f = lookupFlag(defs, w[i:i+1], true)
		if f != nil && !isBool(f) {
			return f, w[i+1:], i+1 < len(w)
		}
	}
	return f, "", false
}

func setGlobal(opts *engine.Options, name, value string) {
	switch name {
	case "root":
		opts.Root = value
	case "runroot":
		opts.RunRoot = value
	case "storage-driver":
		opts.Driver = value
	}
}

// flagCandidates spells every visible flag, long and short.
func flagCandidates(defs []cli.Flag) []string {
	out := []string{"--help"}
	for _, f := range defs {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

// completionScripts are what `box completion SHELL` prints. Each passes
// the words before the cursor to `box __complete`; the command that is
// run is the one the user typed (so a box outside $PATH completes too).
var completionScripts = map[string]string{
	"bash": `# bash completion for box                                 -*- shell-script -*-
# Generated by 'box completion bash'. Candidates come from 'box __complete'.

_box() {
    local line=${COMP_LINE:0:COMP_POINT} cur=${COMP_WORDS[COMP_CWORD]}
    local -a words
    # Split on blanks only: bash's own words break "alpine:latest" at ':'.
    read -r -a words <<< "$line"
    [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
    local IFS=$'\n' c full=${words[${#words[@]}-1]} strip=""
    # bash replaces only its own last word: drop what precedes it (up to a ':' or '=').
    [[ $full != "$cur" && $full == *"$cur" ]] && strip=${full%"$cur"}
    COMPREPLY=()
    for c in $("${words[0]}" __complete "${words[@]:1}" 2>/dev/null); do
        COMPREPLY+=("${c#"$strip"}")
    done
}
complete -o default -F _box box
`,
	"zsh": `#compdef box
# zsh completion for box. Generated by 'box completion zsh'.
# Candidates come from 'box __complete'.

_box() {
    local -a cands
    cands=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    cands=(${cands:#})
    if (( ${#cands} )); then
        compadd -a cands
    else
        _files
    fi
}

if [ "$funcstack[1]" = "_box" ]; then
    _box "$@"
else
    compdef _box box
fi
`,
	"fish": `# fish completion for box. Generated by 'box completion fish'.
# Candidates come from 'box __complete'.

function __box_complete
    set -l words (commandline -opc) (commandline -ct)
    $words[1] __complete $words[2..-1] 2>/dev/null
end

complete -c box -f -a '(__box_complete)'
`,
}
