package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"box/engine/build"
)

// Build builds an image as `box build` does: engine/build does the work
// and the engine runs its RUN steps (buildSteps). It is the one way in
// for every caller, the build command and compose alike.
func (e *Engine) Build(ctx context.Context, opts build.Options) (*build.Report, error) {
	return build.Build(ctx, e.Store, buildSteps{e}, opts)
}

// buildSteps runs a build's RUN steps on the engine: it is the
// build.StepRunner that the engine hands engine/build, which never
// imports the engine.
type buildSteps struct{ e *Engine }

func (s buildSteps) RunStep(ctx context.Context, st build.Step) (*os.File, int, error) {
	id, err := s.e.RunStep(ctx, StepOptions{
		Image: st.Image, Cmd: st.Cmd, Env: st.Env, Workdir: st.Workdir, User: st.User,
		Network: st.Network, AddHosts: st.AddHosts, Mounts: st.Mounts, Created: st.Created,
	}, IO{Stdout: st.Stdout, Stderr: st.Stderr})
	if id != "" {
		// Gone after the step, also when it failed or was interrupted.
		defer func() { _ = s.e.RemoveContainer(context.Background(), id, true) }()
	}
	var exit *ExitError
	switch {
	case errors.As(err, &exit):
		return nil, exit.Code, nil
	case err != nil:
		return nil, 0, err
	case ctx.Err() != nil:
		return nil, 0, ctx.Err()
	}
	diff, err := s.e.StepChanges(id)
	if err != nil {
		return nil, 0, fmt.Errorf("read the step's changes: %w", err)
	}
	return diff, 0, nil
}
