package storage

import (
	"errors"
	"fmt"
	"strings"

	"go.podman.io/image/v5/docker/reference"
)

// ErrBadReference marks a reference box cannot parse.
var ErrBadReference = errors.New("invalid reference format")

// ReferenceError says which reference was malformed and why.
type ReferenceError struct {
	Ref    string
	Reason string
}

func (e *ReferenceError) Error() string {
	return fmt.Sprintf("invalid reference format: %q: %s", e.Ref, e.Reason)
}

func (e *ReferenceError) Unwrap() error { return ErrBadReference }

// ParseReference normalizes a Docker-style reference: short names belong
// to docker.io (library/ for one-part names) and a missing tag is
// "latest", unless a digest is given. The result is fully qualified.
func ParseReference(s string) (reference.Named, error) {
	if s == "" {
		return nil, &ReferenceError{Ref: s, Reason: "empty name"}
	}
	if strings.HasPrefix(s, "sha256:") {
		return nil, &ReferenceError{Ref: s, Reason: "an image id is not a name"}
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		reason := err.Error()
		if strings.ToLower(s) != s {
			reason = "repository name must be lowercase"
		}
		return nil, &ReferenceError{Ref: s, Reason: reason}
	}
	return reference.TagNameOnly(named), nil
}

// FamiliarString shortens a reference the way Docker prints it:
// docker.io/library/alpine:latest becomes alpine:latest.
func FamiliarString(r reference.Named) string {
	return reference.FamiliarString(r)
}
