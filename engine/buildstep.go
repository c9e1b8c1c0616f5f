package engine

import (
	"context"
	"fmt"
	"os"

	"box/engine/flags"
)

// StepOptions describe the command of one RUN step of a build.
type StepOptions struct {
	// Image is the id of the image the step starts from.
	Image string
	// Cmd is run as given, with no entrypoint.
	Cmd           []string
	Env           []string
	Workdir, User string
	// Network is RUN's network: the zero value is box's default, a
	// private one through pasta where pasta is usable.
	Network flags.Network
	// AddHosts are --add-host's entries for /etc/hosts.
	AddHosts []flags.Host
	// Mounts are mounts the build makes, such as a RUN heredoc's script
	// bound read-only into the container.
	Mounts []flags.Mount
	// Created, when set, is told the container's id before it starts.
	Created func(id string)
}

// RunStep runs a build step's command in a new container of opts.Image
// in the foreground, with its output to io, through the same path as
// Run. It returns the container's id once the command ended, with an
// *ExitError when it exited non-zero; the caller reads its changes with
// StepChanges and removes it with RemoveContainer. On any other error
// nothing is left behind.
func (e *Engine) RunStep(ctx context.Context, opts StepOptions, io IO) (string, error) {
	noEntrypoint := ""
	return e.Run(ctx, RunOptions{
		Image:      opts.Image,
		Pull:       PullNever,
		Cmd:        opts.Cmd,
		Entrypoint: &noEntrypoint,
		Env:        opts.Env,
		Workdir:    opts.Workdir,
		User:       opts.User,
		Network:    opts.Network,
		Names:      flags.NameOptions{Hosts: opts.AddHosts},
		Mounts:     opts.Mounts,
		Created:    opts.Created,
		buildStep:  true,
	}, io)
}

// StepChanges writes what a container changed in its layer, less the
// mount points box made, to a temporary file and returns it at its
// start; the caller closes and removes it.
func (e *Engine) StepChanges(id string) (*os.File, error) {
	dir, err := e.Store.ContainerDir(id)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return e.layerChanges(id, dir)
}
