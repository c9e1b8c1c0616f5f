package commands

import (
	"errors"
	"fmt"
	"io"

	"go.podman.io/image/v5/docker/reference"

	"box/engine"
	"box/engine/volume"
	"box/storage"
)

// shownError words an error as Docker prints it while keeping the
// original for exitCode.
type shownError struct {
	msg string
	err error
}

func (e *shownError) Error() string { return e.msg }
func (e *shownError) Unwrap() error { return e.err }

// isNoSuchObject reports whether err says a name matched nothing of the
// kind looked for (a name that cannot be an image reference included, as
// it may still name a container).
func isNoSuchObject(err error) bool {
	var refErr *storage.ReferenceError
	return errors.Is(err, storage.ErrImageNotFound) || errors.Is(err, engine.ErrNoSuchContainer) ||
		errors.Is(err, volume.ErrNoSuchVolume) || errors.Is(err, engine.ErrNoSuchNetwork) || errors.As(err, &refErr)
}

// imageError words an error about a local image as Docker does:
// "No such image: NAME" for a name that matches nothing.
func imageError(name string, err error) error {
	var notFound *storage.NotFoundError
	var refErr *storage.ReferenceError
	if errors.As(err, &notFound) && notFound.Registry == "" || errors.As(err, &refErr) {
		return &shownError{msg: "No such image: " + name, err: err}
	}
	return err
}

// referenceError words a malformed name as Docker's tag does.
func referenceError(err error) error {
	var refErr *storage.ReferenceError
	if !errors.As(err, &refErr) {
		return err
	}
	reason := reference.ErrReferenceInvalidFormat.Error()
	if refErr.Reason != "" && refErr.Reason != reason {
		reason += ": " + refErr.Reason
	}
	return &shownError{msg: fmt.Sprintf("parsing reference: %q is not a valid repository/tag: %s", refErr.Ref, reason), err: err}
}

// printErrors prints one "Error: ..." line per failure, as Docker does for
// verbs that take many names and go on after a failing one.
func printErrors(w io.Writer, errs []error) {
	for _, err := range errs {
		printError(w, err)
	}
}
