package build

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"box/engine/spec"
	"box/storage"
)

// imageConfig is what the Dockerfile instructions that only describe an
// image change: its config and Docker's fields beside it. A build's
// stages and commit's and import's --change edit it through apply alone.
type imageConfig struct {
	config  v1.ImageConfig
	shell   []string
	health  *storage.HealthConfig
	author  string
	onbuild []string
	// cmdSet: this stage set CMD, which a later ENTRYPOINT then keeps.
	cmdSet bool
}

// apply carries out cmd when it only changes the config, and returns the
// words a history entry and cache key record of it; ok is false for the
// other instructions. expand expands a word in the step's environment.
func (c *imageConfig) apply(cmd instructions.Command, expand func(string) (string, error)) (parts []string, ok bool, err error) {
	switch cmd := cmd.(type) {
	case *instructions.EnvCommand:
		for _, kv := range cmd.Env {
			c.config.Env = spec.SetEnv(c.config.Env, kv.Key+"="+kv.Value)
			parts = append(parts, kv.Key+"="+kv.Value)
		}
	case *instructions.LabelCommand:
		labels := cloneMap(c.config.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		for _, kv := range cmd.Labels {
			labels[kv.Key] = kv.Value
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		c.config.Labels = labels
	case *instructions.ExposeCommand:
		ports := map[string]struct{}{}
		for k := range c.config.ExposedPorts {
			ports[k] = struct{}{}
		}
		for _, p := range cmd.Ports {
			p, err := expand(p)
			if err != nil {
				return nil, true, err
			}
			for _, p := range strings.Fields(p) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				ports[p] = struct{}{}
				parts = append(parts, p)
			}
		}
		c.config.ExposedPorts = ports
	case *instructions.VolumeCommand:
		vols := map[string]struct{}{}
		for k := range c.config.Volumes {
			vols[k] = struct{}{}
		}
		for _, v := range cmd.Volumes {
			if v = strings.TrimSpace(v); v == "" {
				return nil, true, fmt.Errorf("VOLUME specified can not be an empty string")
			}
			vols[v] = struct{}{}
		}
		c.config.Volumes = vols
		parts = cmd.Volumes
	case *instructions.StopSignalCommand:
		c.config.StopSignal = cmd.Signal
		parts = []string{cmd.Signal}
	case *instructions.UserCommand:
		c.config.User = cmd.User
		parts = []string{cmd.User}
	case *instructions.ShellCommand:
		c.shell = cmd.Shell
		parts = cmd.Shell
	case *instructions.CmdCommand:
		c.config.Cmd = c.commandLine(cmd.ShellDependantCmdLine)
		c.cmdSet = true
		parts = c.config.Cmd
	case *instructions.EntrypointCommand:
		c.config.Entrypoint = c.commandLine(cmd.ShellDependantCmdLine)
		if !c.cmdSet {
			// Docker: an ENTRYPOINT resets the base image's CMD.
			c.config.Cmd = nil
		}
		parts = c.config.Entrypoint
	case *instructions.HealthCheckCommand:
		h := cmd.Health
		c.health = &storage.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		data, _ := json.Marshal(c.health)
		parts = []string{string(data)}
	case *instructions.OnbuildCommand:
		c.onbuild = append(append([]string{}, c.onbuild...), cmd.Expression)
		parts = []string{cmd.Expression}
	case *instructions.MaintainerCommand:
		c.author = cmd.Maintainer
		parts = []string{cmd.Maintainer}
	default:
		return nil, false, nil
	}
	return parts, true, nil
}

// commandLine is a CMD, ENTRYPOINT or RUN as it is executed: the exec
// form as it is, the shell form run by the stage's SHELL (/bin/sh -c by
// default).
func (c *imageConfig) commandLine(cl instructions.ShellDependantCmdLine) []string {
	if !cl.PrependShell {
		return append([]string{}, cl.CmdLine...)
	}
	sh := c.shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, sh...), strings.Join(cl.CmdLine, " "))
}

// Changes are the Dockerfile instructions of `commit --change` and
// `import --change`, checked by ParseChanges.
type Changes struct{ lines []string }

// changeInstructions are those Docker's commit and import accept.
var changeInstructions = map[string]bool{
	"cmd": true, "entrypoint": true, "env": true, "expose": true, "label": true,
	"onbuild": true, "user": true, "volume": true, "workdir": true, "stopsignal": true,
}

// ParseChanges reads each change as a one-line Dockerfile, with the same
// parser and the same instruction code as box build, and checks that it
// applies.
func ParseChanges(lines []string) (Changes, error) {
	ch := Changes{lines: lines}
	if err := ch.Apply(&v1.ImageConfig{}); err != nil {
		return Changes{}, err
	}
	return ch, nil
}

// Apply makes the changes to cfg, as a build step would: words are
// expanded (quotes removed, $VARIABLES from the config's Env) first.
func (ch Changes) Apply(cfg *v1.ImageConfig) error {
	c := imageConfig{config: *cfg}
	lex := shell.NewLex('\\')
	expand := func(w string) (string, error) {
		s, _, err := lex.ProcessWord(w, shell.EnvsFromSlice(c.config.Env))
		return s, err
	}
	for _, line := range ch.lines {
		cmd, err := parseChange(line)
		if err == nil {
			err = applyChange(&c, cmd, expand)
		}
		if err != nil {
			return fmt.Errorf("invalid change %q: %w", line, err)
		}
	}
	*cfg = c.config
	return nil
}

func parseChange(line string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(line))
	if err != nil {
		return nil, err
	}
	if len(res.AST.Children) != 1 {
		return nil, fmt.Errorf("want one instruction")
	}
	node := res.AST.Children[0]
	if !changeInstructions[strings.ToLower(node.Value)] {
		return nil, fmt.Errorf("%s is not supported: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR", strings.ToUpper(node.Value))
	}
	cmd, err := instructions.ParseInstruction(node)
	if err != nil {
		return nil, err
	}
	return cmd.(instructions.Command), nil
}

func applyChange(c *imageConfig, cmd instructions.Command, expand func(string) (string, error)) error {
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := ex.Expand(expand); err != nil {
			return err
		}
	}
	if wd, ok := cmd.(*instructions.WorkdirCommand); ok {
		c.config.WorkingDir = path.Join("/", c.config.WorkingDir, wd.Path)
		return nil
	}
	_, _, err := c.apply(cmd, expand)
	return err
}
