package storage

import (
	"strings"

	"go.podman.io/image/v5/docker/reference"
)

// Image events: the store tells whoever listens (the engine's event log,
// box/engine/events) what happened to an image, one call per change, so
// that box events sees pulls, pushes, tags and deletions whichever verb
// made them. The store itself keeps no log.

// imageEvent tells the listener, if any, of action on image id (hex)
// under name (familiar, or empty).
func (s *Store) imageEvent(action, id, name string) {
	if s.OnImageEvent != nil {
		s.OnImageEvent(action, "sha256:"+id, name)
	}
}

// ImageEvent is imageEvent for the store's clients that make images
// through it in several steps (build).
func (s *Store) ImageEvent(action, id, name string) { s.imageEvent(action, id, name) }

// removeEvents tells of what a removal of image id untagged (familiar
// names) and deleted ("sha256:" ids).
func (s *Store) removeEvents(id string, untagged, deleted []string) {
	for _, n := range untagged {
		s.imageEvent("untag", id, n)
	}
	for _, d := range deleted {
		s.imageEvent("delete", strings.TrimPrefix(d, "sha256:"), "")
	}
}

// familiarTag is ref's familiar name; empty for none.
func familiarTag(ref reference.NamedTagged) string {
	if ref == nil {
		return ""
	}
	return FamiliarString(ref)
}
