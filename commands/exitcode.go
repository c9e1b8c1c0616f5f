package commands

import (
	"errors"

	"box/engine"
	"box/engine/build"
	"box/engine/compose"
	"box/engine/monitor"
	"box/rootless"
)

// Exit codes, as Docker documents them for `docker run`.
const (
	exitOK = 0
	// exitFailed is any other command's failure.
	exitFailed = 1
	// exitBoxFailed: box itself failed (bad flags, no image, no namespace).
	exitBoxFailed = 125
	// exitNotExecutable: the container's command cannot be invoked.
	exitNotExecutable = 126
	// exitNotFound: the container's command does not exist.
	exitNotFound = 127
	// exitComposeFileNotFound and exitComposeParse are Docker Compose's
	// codes for a compose file that is missing, or that does not load
	// as a project (its YAML, its keys, a variable, a cycle).
	exitComposeFileNotFound = 14
	exitComposeParse        = 15
)

// runFailure marks errors of run-like verbs, which Docker reports with 125
// where other verbs use 1.
type runFailure struct{ err error }

func (e *runFailure) Error() string { return e.err.Error() }
func (e *runFailure) Unwrap() error { return e.err }

// startFailure marks an error of `start -a`, which Docker's CLI reports
// with 1 whatever its cause: only run turns a command that cannot be
// invoked into 126 or 127.
type startFailure struct{ err error }

func (e *startFailure) Error() string { return e.err.Error() }
func (e *startFailure) Unwrap() error { return e.err }

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	var exit *engine.ExitError
	var cmdErr *engine.CommandError
	var usage *usageError
	var disabled *rootless.DisabledError
	var start *monitor.StartError
	var run *runFailure
	var buildContext *build.ContextError
	var startAttached *startFailure
	var composeLoad *compose.LoadError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &composeLoad):
		if composeLoad.NotFound {
			return exitComposeFileNotFound
		}
		return exitComposeParse
	case errors.As(err, &startAttached):
		return exitFailed
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &cmdErr):
		if cmdErr.NotFound {
			return exitNotFound
		}
		return exitNotExecutable
	case errors.As(err, &usage), errors.As(err, &disabled), errors.As(err, &start), errors.As(err, &run),
		errors.As(err, &buildContext):
		return exitBoxFailed
	}
	return exitFailed
}
