package storage

import (
	"errors"
	"fmt"
	cstorage "go.podman.io/storage"

	"box/storage/filter"
	"path"
	"sort"
	"time"

	"go.podman.io/image/v5/docker/reference"
)

// ImageFilters are the --filter keys ListImages takes.
var ImageFilters = filter.Spec{Keys: []string{"reference", "dangling", "label", "before", "since"}}

// ListOptions select what ListImages returns.
type ListOptions struct {
	// Filters are Docker's image filters (ImageFilters):
	// reference=PATTERN (path.Match on the familiar name and on
	// name:tag; several are or-ed), dangling=true|false,
	// label=KEY or label=KEY=VALUE (all must match), before=IMAGE,
	// since=IMAGE.
	Filters filter.Args
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

// imageFilters is ListOptions.Filters with their images looked up.
type imageFilters struct {
	args          filter.Args
	references    []string
	dangling      *bool
	before, since *time.Time
}

// ListImages lists images as `docker images` does: newest first, each
// with the names that passed the filters. It returns a *filter.Error for
// a filter value it cannot take, and a *NotFoundError when
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

func (s *Store) parseFilters(args filter.Args) (*imageFilters, error) {
	f := &imageFilters{args: args, references: args.Values("reference")}
	for _, ref := range f.references {
		if _, err := path.Match(ref, ""); err != nil {
			return nil, &filter.Error{Key: "reference", Value: ref}
		}
	}
	dangling, set, err := args.Bool("dangling")
	if err != nil {
		return nil, err
	}
	if set {
		f.dangling = &dangling
	}
	for key, at := range map[string]**time.Time{"before": &f.before, "since": &f.since} {
		vs := args.Values(key)
		if len(vs) == 0 {
			continue
		}
		img, err := s.LookupImage(vs[len(vs)-1])
		if errors.Is(err, ErrBadReference) {
			err = &NotFoundError{Ref: vs[len(vs)-1]}
		}
		if err != nil {
			return nil, err
		}
		t := img.Created
		*at = &t
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
	if !f.args.MatchLabels(img.Config.Config.Labels) {
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
