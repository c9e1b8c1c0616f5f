package build

import (
	"context"
	"os"

	"box/engine/flags"
	"box/storage"
)

// Step is one RUN step's command, as a StepRunner is to run it.
type Step struct {
	// Image is the id of the image the step starts from.
	Image string
	// Cmd is run as given, with no entrypoint.
	Cmd           []string
	Env           []string
	Workdir, User string
	// Mounts are the mounts the build makes for the step, such as a RUN
	// heredoc's script bound read-only into the container.
	Mounts []flags.Mount
	// Network is the build's --network; AddHosts its --add-host entries.
	Network  flags.Network
	AddHosts []flags.Host
	// Stdout and Stderr get the command's output.
	Stdout, Stderr *os.File
	// Created, when set, is told the container's id before it starts.
	Created func(id string)
}

// StepRunner runs a build's RUN steps, each in a container of its own:
// box's engine, which commands/build.go adapts, so that the build never
// reaches up into the engine.
type StepRunner interface {
	// RunStep runs step's command in a new container in the foreground.
	// When the command exits 0, it returns what it changed in the
	// container's layer (less the mount points made for it) as a tar file
	// at its start, which the caller closes and removes; when it exits
	// non-zero, its code and no file. The container is gone when RunStep
	// returns, whatever happened.
	RunStep(ctx context.Context, step Step) (changes *os.File, code int, err error)
}

// host is what a build runs on: the store its images live in, and the
// runner of its RUN steps.
type host struct {
	Store *storage.Store
	StepRunner
}
