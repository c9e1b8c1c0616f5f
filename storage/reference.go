package storage

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
)

// ErrBadReference marks a reference box cannot parse.
var ErrBadReference = errors.New("invalid reference format")

// ReferenceError says which reference was malformed and why. Its message
// starts as Docker's does ("invalid reference format"), so scripts that
// look for Docker's words find them.
type ReferenceError struct {
	Ref    string
	Reason string
}

func (e *ReferenceError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("invalid reference format: %q", e.Ref)
	}
	return fmt.Sprintf("invalid reference format: %s", e.Reason)
}

func (e *ReferenceError) Unwrap() error { return ErrBadReference }

// ParseReference normalizes a Docker-style reference: short names belong
// to docker.io (library/ for one-part names) and a missing tag is
// "latest", unless a digest is given. The result is fully qualified.
func ParseReference(s string) (reference.Named, error) {
	if s == "" {
		return nil, &ReferenceError{Ref: s, Reason: "empty name"}
	}
	if strings.HasPrefix(s, "sha256:") || isImageID(s) {
		return nil, &ReferenceError{Ref: s, Reason: fmt.Sprintf("%q is an image id, not a name", s)}
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, &ReferenceError{Ref: s, Reason: explainReference(s, err)}
	}
	return reference.TagNameOnly(named), nil
}

// isImageID says whether s is a full image id: 64 lowercase hex digits.
// (A loop, not a regexp: every box process would compile one at start.)
func isImageID(s string) bool { return isHex(s, 64, 64) }

// isHex says whether s is lowercase hex digits, between min and max of them.
func isHex(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// The patterns explainReference checks a refused reference against,
// compiled when one is refused, not at every start.
var (
	tagPattern       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w][\w.-]{0,127}$`) })
	componentPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	})
)

// explainReference says what is wrong with s, which the reference
// parser rejected with err, in a few words a person can act on. Upper
// case gets Docker's own message.
func explainReference(s string, err error) string {
	rest, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if _, derr := digest.Parse(dgst); derr != nil {
			return fmt.Sprintf("%q: bad digest %q (want algorithm:hex, as sha256: and 64 hex digits)", s, dgst)
		}
	}
	name, tag := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		name, tag = rest[:i], rest[i+1:]
		if !tagPattern().MatchString(tag) {
			return fmt.Sprintf("%q: bad tag %q (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')", s, tag)
		}
	}
	if name == "" {
		return fmt.Sprintf("%q: no repository name", s)
	}
	domain, path := splitDomain(name)
	if strings.ToLower(path) != path {
		return fmt.Sprintf("repository name (%s) must be lowercase", path)
	}
	for _, c := range strings.Split(path, "/") {
		if !componentPattern().MatchString(c) {
			return fmt.Sprintf("%q: bad repository name component %q (lowercase letters and digits, separated by '.', '_', '__' or '-')", s, c)
		}
	}
	if domain != "" && strings.ContainsAny(domain, " /@") {
		return fmt.Sprintf("%q: bad registry host %q", s, domain)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, ErrBadReference.Error()) {
		return msg
	}
	return fmt.Sprintf("%q", s)
}

// splitDomain splits a name into its registry host (empty for Docker
// Hub) and its path, with Docker Hub's implicit "library/" added, as
// Docker names the repository in its messages.
func splitDomain(name string) (domain, path string) {
	first, rest, ok := strings.Cut(name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	if !ok {
		return "", "library/" + name
	}
	return "", name
}

// FamiliarString shortens a reference the way Docker prints it:
// docker.io/library/alpine:latest becomes alpine:latest.
func FamiliarString(r reference.Named) string {
	return reference.FamiliarString(r)
}
