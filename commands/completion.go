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
			// Global flags given to __complete itself hold unless the words
			// typed say otherwise.
			base := engine.Options{Root: c.String("root"), RunRoot: c.String("runroot"), Driver: c.String("storage-driver")}
			for _, w := range complete(c.App, base, c.Args().Slice()) {
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
	runningArg        = argNames{kind: engine.RunningContainerNames}
	firstRunningArg   = argNames{kind: engine.RunningContainerNames, first: true}
	stoppedArg        = argNames{kind: engine.StoppedContainerNames}
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
		// As Docker's completion: the verbs that need a running container
		// offer those, start the others, the rest every container.
		"stop": runningArg, "kill": runningArg, "exec": firstRunningArg, "attach": firstRunningArg,
		"top": firstRunningArg, "pause": runningArg, "unpause": runningArg, "port": firstRunningArg,
		"stats": runningArg,
		"start": stoppedArg,
		"rm":    containerArg, "wait": containerArg, "logs": firstContainerArg, "rename": firstContainerArg,
		"restart": containerArg, "diff": firstContainerArg, "export": firstContainerArg,
		"commit": firstContainerArg, "inspect": containerArg, "update": containerArg,

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
func complete(app *cli.App, opts engine.Options, words []string) []string {
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
		if len(leaf.Subcommands) == 0 && trailingCommand[leaf.Name] {
			return nil // what follows is the container's command line, not box's
		}
	}
	var cands []string
	files := false
	switch {
	case pending != nil:
		kind, ok := completeFlagValues[pending.Names()[0]]
		if ok {
			cands = engine.Names(opts, kind)
		}
		// A volume's source may be a host path, and most other values
		// (--env-file, --label-file, --cidfile) are files.
		files = !ok || kind == engine.VolumeNames
	case strings.HasPrefix(cur, "-"):
		cands = flagCandidates(flags)
	case leaf == nil || len(leaf.Subcommands) > 0:
		for _, c := range cmds {
			if !c.Hidden {
				cands = append(cands, c.Names()...)
			}
		}
	case leaf.SkipFlagParsing && leaf.Name != "top":
		files = true
	default:
		noun := ""
		if len(path) == 2 && path[0] != "container" {
			noun = path[0]
		}
		spec, ok := completeArgs[noun][leaf.Name]
		if ok && (!spec.first || positional == 0) {
			cands = engine.Names(opts, spec.kind)
		} else {
			files = true // cp's and build's paths, load's and import's files
		}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if files {
		out = append(out, filesDirective)
	}
	return out
}

// filesDirective, as the last line of __complete's output, tells the
// script to offer the shell's file names too (when nothing else matches,
// for bash). No name box prints starts with ':'.
const filesDirective = ":files"

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
        if [[ $c == :files ]]; then
            compopt -o default 2>/dev/null
            continue
        fi
        COMPREPLY+=("${c#"$strip"}")
    done
}
complete -F _box box
`,
	"zsh": `#compdef box
# zsh completion for box. Generated by 'box completion zsh'.
# Candidates come from 'box __complete'.

_box() {
    local -a cands
    cands=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    cands=(${cands:#})
    local files=${cands[(I):files]}
    cands=(${cands:#:files})
    (( ${#cands} )) && compadd -a cands
    (( files )) && _files
    return 0
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
    for c in ($words[1] __complete $words[2..-1] 2>/dev/null)
        if test "$c" = :files
            __fish_complete_path (commandline -ct)
        else
            echo $c
        end
    end
end

complete -c box -f -a '(__box_complete)'
`,
}
