package storage

import (
	"errors"
	"fmt"
	cstorage "go.podman.io/storage"
	"path"
	"sort"
	"strings"
	"time"

	"go.podman.io/image/v5/docker/reference"
)

// ErrBadFilter marks a --filter that names no known filter or has a
// value it cannot take.
var ErrBadFilter = errors.New("invalid filter")

// FilterError says which filter was refused, in Docker's words.
type FilterError struct {
	Key, Value string
}

func (e *FilterError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("invalid filter '%s'", e.Key)
	}
	return fmt.Sprintf("invalid filter '%s=%s'", e.Key, e.Value)
}

func (e *FilterError) Unwrap() error { return ErrBadFilter }

// ListOptions select what ListImages returns.
type ListOptions struct {
	// Filters are Docker's image filters, "key=value" each:
	// reference=PATTERN (path.Match on the familiar name and on
	// name:tag; several are or-ed), dangling=true|false,
	// label=KEY or label=KEY=VALUE (all must match), before=IMAGE,
	// since=IMAGE.
	Filters []string
	// All includes intermediate images: the unnamed images of build steps.
	All bool
}

// Summary is one image as `images` lists it: its tags and repo digests
// narrowed to those a reference filter matched.
type Summary struct {
	Image       *Image
	RepoTags    []string // familiar "repo:tag", sorted
	RepoDigests []string // familiar "repo@sha256:...", sorted
	Size        int64
}

// imageFilters is ListOptions.Filters parsed.
type imageFilters struct {
	references    []string
	dangling      *bool
	labels        []string
	before, since *time.Time
}

// ListImages lists images as `docker images` does: newest first, each
// with the names that passed the filters. It returns a *FilterError for
// a filter it does not know or cannot parse, and a *NotFoundError when
// before= or since= names no image.
func (s *Store) ListImages(opts ListOptions) ([]Summary, error) {
	f, err := s.parseFilters(opts.Filters)
	if err != nil {
		return nil, err
	}
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	byID, err := s.layersByID()
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, img := range imgs {
		if img.Intermediate && img.Dangling() && !opts.All {
			continue
		}
		sum, ok := f.apply(img)
		if !ok {
			continue
		}
		if sum.Size, err = listedSize(img, byID); err != nil {
			return nil, fmt.Errorf("size of image %s: %w", shortID(img.ID), err)
		}
		out = append(out, sum)
	}
	sortNewestFirst(out)
	return out, nil
}

// sortNewestFirst orders images as Docker lists them: by creation time,
// newest first; ties by first name then id, so the order is stable.
func sortNewestFirst(list []Summary) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.Image.Created.Equal(b.Image.Created) {
			return a.Image.Created.After(b.Image.Created)
		}
		an, bn := firstOf(a.RepoTags), firstOf(b.RepoTags)
		if an != bn {
			return an < bn
		}
		return a.Image.ID < b.Image.ID
	})
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return "\xff" // untagged images after tagged ones of the same age
	}
	return s[0]
}

func (s *Store) parseFilters(args []string) (*imageFilters, error) {
	f := &imageFilters{}
	for _, a := range args {
		key, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, &FilterError{Key: a}
		}
		key = strings.ToLower(strings.TrimSpace(key))
		switch key {
		case "reference":
			if _, err := path.Match(value, ""); err != nil {
				return nil, &FilterError{Key: key, Value: value}
			}
			f.references = append(f.references, value)
		case "dangling":
			var b bool
			switch strings.ToLower(value) {
			case "true", "1":
				b = true
			case "false", "0":
			default:
				return nil, &FilterError{Key: key, Value: value}
			}
			f.dangling = &b
		case "label":
			f.labels = append(f.labels, value)
		case "before", "since":
			img, err := s.LookupImage(value)
			if errors.Is(err, ErrBadReference) {
				err = &NotFoundError{Ref: value}
			}
			if err != nil {
				return nil, err
			}
			t := img.Created
			if key == "before" {
				f.before = &t
			} else {
				f.since = &t
			}
		default:
			return nil, &FilterError{Key: key}
		}
	}
	return f, nil
}

// apply decides whether img is listed and with which names, following
// the daemon's rules: a reference filter keeps only the names it matches
// and hides unnamed images; dangling=true keeps images without tags.
func (f *imageFilters) apply(img *Image) (Summary, bool) {
	sum := Summary{Image: img}
	if f.before != nil && !img.Created.Before(*f.before) {
		return sum, false
	}
	if f.since != nil && !img.Created.After(*f.since) {
		return sum, false
	}
	if !matchLabels(img.Config.Config.Labels, f.labels) {
		return sum, false
	}
	for _, t := range img.RepoTags() {
		if f.matchReference(t) {
			sum.RepoTags = append(sum.RepoTags, t)
		}
	}
	for _, d := range img.RepoDigests() {
		if f.matchReference(d) {
			sum.RepoDigests = append(sum.RepoDigests, d)
		}
	}
	if len(sum.RepoTags) == 0 && len(sum.RepoDigests) == 0 {
		if len(f.references) > 0 || f.dangling != nil && !*f.dangling {
			return sum, false
		}
		return sum, true
	}
	if f.dangling != nil && *f.dangling && len(sum.RepoTags) > 0 {
		return sum, false
	}
	return sum, true
}

func (f *imageFilters) matchReference(familiar string) bool {
	if len(f.references) == 0 {
		return true
	}
	for _, pattern := range f.references {
		if MatchReference(pattern, familiar) {
			return true
		}
	}
	return false
}

// MatchReference reports whether a reference filter pattern matches a
// familiar reference ("alpine:latest", "alpine@sha256:..."), as Docker's
// reference.FamiliarMatch: path.Match on the whole reference, then on
// its name alone.
func MatchReference(pattern, familiar string) bool {
	if ok, _ := path.Match(pattern, familiar); ok {
		return true
	}
	named, err := reference.ParseNormalizedNamed(familiar)
	if err != nil {
		return false
	}
	ok, _ := path.Match(pattern, reference.FamiliarName(named))
	return ok
}

// matchLabels reports whether labels satisfy every filter, each "KEY"
// (present) or "KEY=VALUE" (equal).
func matchLabels(labels map[string]string, filters []string) bool {
	for _, f := range filters {
		key, want, hasValue := strings.Cut(f, "=")
		got, ok := labels[key]
		if !ok || hasValue && got != want {
			return false
		}
	}
	return true
}

// listedSize is the image's size as the store's ImageSize counts it, from
// one listing of the layers instead of a locked lookup per image (which
// made `images` with ten images 4 ms slower); a layer whose size the store
// never recorded sends it back to ImageSize.
func listedSize(img *Image, layers map[string]*cstorage.Layer) (int64, error) {
	size := img.metadataSize
	for id := img.TopLayer; id != ""; {
		l, ok := layers[id]
		if !ok || l.UncompressedDigest == "" || l.UncompressedSize < 0 {
			return img.Size()
		}
		size += l.UncompressedSize
		id = l.Parent
	}
	return size, nil
}
