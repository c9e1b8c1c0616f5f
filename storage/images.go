package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	cstorage "go.podman.io/storage"
)

// Image is one stored image with what listing and inspection need.
type Image struct {
	ID string // config digest, hex
	// Names are fully qualified "repo:tag" references.
	Names []string
	// Digests are the manifest digests the image was pulled by.
	Digests  []digest.Digest
	Created  time.Time
	TopLayer string
	// Config is the image's OCI configuration (env, cmd, history, rootfs).
	Config v1.Image

	store *Store
}

// Size is the image's unpacked size on disk, as Docker's SIZE column.
func (img *Image) Size() (int64, error) {
	return img.store.s.ImageSize(img.ID)
}

// Images lists every stored image.
func (s *Store) Images() ([]*Image, error) {
	raw, err := s.s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]*Image, 0, len(raw))
	for i := range raw {
		img, err := s.wrap(&raw[i])
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// LookupImage finds an image by Docker-style name (alpine, alpine:3.20,
// repo@sha256:...), by full id ("sha256:..." or bare hex) or by a unique
// id prefix. It returns a *NotFoundError when nothing matches.
func (s *Store) LookupImage(nameOrID string) (*Image, error) {
	raw, err := s.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	return s.wrap(raw)
}

func (s *Store) lookup(nameOrID string) (*cstorage.Image, error) {
	notFound := &NotFoundError{Ref: nameOrID}
	id := strings.TrimPrefix(nameOrID, "sha256:")
	if isHexPrefix(id) {
		if img, err := s.s.Image(id); err == nil {
			return img, nil
		}
		if id != nameOrID {
			return nil, notFound
		}
	}
	ref, err := ParseReference(nameOrID)
	if err != nil {
		return nil, err
	}
	if canonical, ok := ref.(reference.Canonical); ok {
		imgs, err := s.s.ImagesByDigest(canonical.Digest())
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", nameOrID, err)
		}
		for _, img := range imgs {
			for _, n := range img.Names {
				if named, err := reference.ParseNormalizedNamed(n); err == nil && named.Name() == ref.Name() {
					return img, nil
				}
			}
		}
		return nil, notFound
	}
	img, err := s.s.Image(ref.String())
	if errors.Is(err, cstorage.ErrImageUnknown) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", nameOrID, err)
	}
	return img, nil
}

func isHexPrefix(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Store) wrap(raw *cstorage.Image) (*Image, error) {
	img := &Image{
		ID:       raw.ID,
		Names:    raw.Names,
		Digests:  raw.Digests,
		Created:  raw.Created,
		TopLayer: raw.TopLayer,
		store:    s,
	}
	data, err := s.s.ImageBigData(raw.ID, "sha256:"+raw.ID)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", shortID(raw.ID), err)
	}
	if err := json.Unmarshal(data, &img.Config); err != nil {
		return nil, fmt.Errorf("parse config of image %s: %w", shortID(raw.ID), err)
	}
	if img.Config.Created != nil {
		img.Created = *img.Config.Created
	}
	return img, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ShortID is Docker's 12-character image or container id.
func ShortID(id string) string { return shortID(id) }

// Tag adds target (a Docker-style name) to the image named by source.
func (s *Store) Tag(source, target string) error {
	img, err := s.lookup(source)
	if err != nil {
		return err
	}
	ref, err := ParseReference(target)
	if err != nil {
		return err
	}
	if _, ok := ref.(reference.Canonical); ok {
		return &ReferenceError{Ref: target, Reason: "a tag cannot contain a digest"}
	}
	if err := s.s.AddNames(img.ID, []string{ref.String()}); err != nil {
		return fmt.Errorf("tag %s as %s: %w", source, target, err)
	}
	return nil
}

// ErrImageConflict marks a removal Docker refuses without force.
var ErrImageConflict = errors.New("conflict")

// ConflictError explains why an image cannot be removed without -f.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return "conflict: " + e.Msg }
func (e *ConflictError) Unwrap() error { return ErrImageConflict }

// RemoveReport says what removing one name did, in Docker's terms.
type RemoveReport struct {
	Untagged []string // familiar names removed
	Deleted  []string // "sha256:<id>" of deleted images
}

// RemoveImage untags or deletes the image named by nameOrID as Docker's
// rmi does: a name that is one of several tags is only untagged; an id
// or a last name deletes the image. An id with several names needs force.
// inUse lists ids of containers created from the image; they block the
// removal (force untags instead of deleting).
func (s *Store) RemoveImage(nameOrID string, force bool, inUse func(imageID string) []string) (*RemoveReport, error) {
	img, err := s.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	rep := &RemoveReport{}
	byName := false
	var ref reference.Named
	if id := strings.TrimPrefix(nameOrID, "sha256:"); !isHexPrefix(id) || !strings.HasPrefix(img.ID, id) {
		if ref, err = ParseReference(nameOrID); err == nil {
			byName = true
		}
	}
	var users []string
	if inUse != nil {
		users = inUse(img.ID)
	}
	if byName {
		if _, digested := ref.(reference.Canonical); !digested && len(img.Names) > 1 {
			if err := s.s.RemoveNames(img.ID, []string{ref.String()}); err != nil {
				return nil, fmt.Errorf("untag %s: %w", nameOrID, err)
			}
			rep.Untagged = append(rep.Untagged, FamiliarString(ref))
			return rep, nil
		}
	} else if len(img.Names) > 1 && !force {
		return nil, &ConflictError{Msg: fmt.Sprintf("unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(img.ID))}
	}
	if len(users) > 0 {
		if !force {
			if byName {
				return nil, &ConflictError{Msg: fmt.Sprintf("unable to remove repository reference %q (must force) - container %s is using its referenced image %s", nameOrID, shortID(users[0]), shortID(img.ID))}
			}
			return nil, &ConflictError{Msg: fmt.Sprintf("unable to delete %s (cannot be forced) - image is being used by running container %s", shortID(img.ID), shortID(users[0]))}
		}
		// Docker's -f on an image in use untags it and keeps the data.
		for _, n := range img.Names {
			rep.Untagged = append(rep.Untagged, familiarName(n))
		}
		if err := s.s.SetNames(img.ID, nil); err != nil {
			return nil, fmt.Errorf("untag %s: %w", nameOrID, err)
		}
		return rep, nil
	}
	for _, n := range img.Names {
		rep.Untagged = append(rep.Untagged, familiarName(n))
	}
	for _, d := range img.Digests {
		if len(img.Names) > 0 {
			if named, err := reference.ParseNormalizedNamed(img.Names[0]); err == nil {
				if c, err := reference.WithDigest(reference.TrimNamed(named), d); err == nil {
					rep.Untagged = append(rep.Untagged, FamiliarString(c))
				}
			}
		}
	}
	if _, err := s.s.DeleteImage(img.ID, true); err != nil {
		return nil, fmt.Errorf("delete image %s: %w", shortID(img.ID), err)
	}
	rep.Deleted = append(rep.Deleted, "sha256:"+img.ID)
	return rep, nil
}

func familiarName(n string) string {
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil {
		return n
	}
	return FamiliarString(named)
}

// HistoryEntry is one row of `image history`, newest first.
type HistoryEntry struct {
	ID        string // image id for the top row, "<missing>" below, as Docker
	Created   time.Time
	CreatedBy string
	Size      int64
	Comment   string
}

// History returns the image's build history with each layer's size.
func (s *Store) History(nameOrID string) ([]HistoryEntry, error) {
	img, err := s.LookupImage(nameOrID)
	if err != nil {
		return nil, err
	}
	sizes := s.layerSizes(img)
	var out []HistoryEntry
	layer := 0
	for _, h := range img.Config.History {
		e := HistoryEntry{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer {
			if layer < len(sizes) {
				e.Size = sizes[layer]
			}
			layer++
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = img.ID
	}
	return out, nil
}

// layerSizes returns the unpacked size of each of the image's layers,
// bottom first.
func (s *Store) layerSizes(img *Image) []int64 {
	var chain []int64
	for id := img.TopLayer; id != ""; {
		l, err := s.s.Layer(id)
		if err != nil {
			break
		}
		chain = append(chain, l.UncompressedSize)
		id = l.Parent
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}
