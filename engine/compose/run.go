package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
	"box/engine/flags"
	"box/engine/network"
	"box/storage"
)

// RunOptions are `compose run`'s choices for a one-off container of a
// service.
type RunOptions struct {
	Service string
	// Command replaces the service's command when non-nil; Entrypoint
	// its entrypoint when non-nil.
	Command    []string
	Entrypoint *string
	// Env are KEY=VALUE entries over the service's environment.
	Env []string
	// Name is the container's name (default PROJECT-SERVICE-run-ID).
	Name          string
	User, Workdir string
	// Remove removes the container when it exits; Detach leaves it
	// running and returns its id.
	Remove, Detach   bool
	Interactive, TTY bool
	// NoDeps starts none of the services it depends on; ServicePorts
	// publishes the service's ports (a one-off publishes none by
	// default, so it does not collide with the service's container).
	NoDeps, ServicePorts bool
	// UseAliases gives the one-off the service's name and aliases on
	// its networks; without it, as in Docker Compose, it answers to its
	// own name only.
	UseAliases bool
	// Publish, Mounts, Labels, CapAdd and CapDrop are -p, -v, -l,
	// --cap-add and --cap-drop, added to the service's.
	Publish         []network.Port
	Mounts          []flags.Mount
	Labels          map[string]string
	CapAdd, CapDrop []string
}

// Run starts the services opts.Service depends on (unless NoDeps), then
// runs a one-off container of it on the project's networks, labelled
// oneoff=True, attached to stdio unless Detach. It returns the
// container's id, and an *engine.ExitError when it ran in the
// foreground and exited non-zero.
func (c *Compose) Run(ctx context.Context, p *types.Project, opts RunOptions, stdio engine.IO) (string, error) {
	s, ok := p.Services[opts.Service]
	if !ok {
		return "", &NoSuchServiceError{Name: opts.Service}
	}
	// The one-off's image is pulled or built as up would.
	one, err := p.WithSelectedServices([]string{s.Name}, types.IgnoreDependencies)
	if err != nil {
		return "", err
	}
	if err := c.ensureImages(ctx, one, BuildMissing); err != nil {
		return "", err
	}
	s = one.Services[s.Name]
	var deps []string
	for d := range s.DependsOn {
		if _, ok := p.Services[d]; ok {
			deps = append(deps, d)
		}
	}
	slices.Sort(deps)
	if !opts.NoDeps && len(deps) > 0 {
		dp, err := p.WithSelectedServices(deps, types.IncludeDependencies)
		if err != nil {
			return "", err
		}
		if err := c.Up(ctx, dp, UpOptions{}); err != nil {
			return "", err
		}
		if err := c.awaitDependencies(ctx, p, s); err != nil {
			return "", err
		}
	} else {
		if err := c.ensureNetworks(p); err != nil {
			return "", err
		}
		if err := c.ensureVolumes(p); err != nil {
			return "", err
		}
	}
	o, err := runOptions(p, s, 1, "", storage.Version)
	if err != nil {
		return "", err
	}
	// A one-off joins all of the service's networks when it is made, not
	// after, since it may run at once in the foreground.
	for _, nc := range extraNetworks(p, s, "") {
		o.Networks = append(o.Networks, nc.Network)
		if opts.UseAliases {
			if o.NetworkAliasesOn == nil {
				o.NetworkAliasesOn = map[string][]string{}
			}
			o.NetworkAliasesOn[nc.Network] = nc.Aliases
		}
	}
	if !opts.UseAliases {
		o.NetworkAliases = nil
	}
	o.Name = opts.Name
	if o.Name == "" {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		o.Name = fmt.Sprintf("%s-%s-run-%s", p.Name, s.Name, hex.EncodeToString(b))
	}
	o.Labels[LabelOneoff] = "True"
	delete(o.Labels, LabelNumber)
	delete(o.Labels, LabelConfigHash)
	o.CreateOnly, o.Detach, o.Remove = false, opts.Detach, opts.Remove
	o.Interactive, o.TTY = opts.Interactive, opts.TTY
	// Docker Compose applies no restart policy to a one-off container.
	o.Restart.Name, o.Restart.MaximumRetryCount = "no", 0
	if !opts.ServicePorts {
		o.Publish = nil
	}
	o.Publish = append(o.Publish, opts.Publish...)
	o.Mounts = append(o.Mounts, opts.Mounts...)
	o.CapAdd = append(o.CapAdd, opts.CapAdd...)
	o.CapDrop = append(o.CapDrop, opts.CapDrop...)
	for k, v := range opts.Labels {
		o.Labels[k] = v
	}
	if opts.User != "" {
		o.User = opts.User
	}
	if opts.Workdir != "" {
		o.Workdir = opts.Workdir
	}
	switch {
	case opts.Entrypoint != nil:
		o.Entrypoint, o.Cmd = opts.Entrypoint, opts.Command
	case opts.Command != nil && s.Entrypoint != nil && len(s.Entrypoint) > 0:
		o.Cmd = append(slices.Clone(s.Entrypoint[1:]), opts.Command...)
	case opts.Command != nil:
		o.Cmd = opts.Command
	}
	o.Env = append(o.Env, opts.Env...)
	return c.Engine.Run(ctx, o, stdio)
}
