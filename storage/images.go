package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	// Names are fully qualified references: "repo:tag", or "repo@digest"
	// for an image pulled by digest.
	Names []string
	// Digests are the manifest digests the image was pulled by.
	Digests []digest.Digest
	// Created is when the image was built, from its config; zero when
	// the config does not say (Docker then shows N/A).
	Created  time.Time
	TopLayer string
	// Intermediate marks a build step's image: images lists it only
	// with -a while it has no name.
	Intermediate bool
	// Config is the image's OCI configuration (env, cmd, history, rootfs).
	Config v1.Image
	// Docker holds what Docker's image format adds to the OCI config.
	Docker DockerConfig

	store *Store
	// metadataSize is the size of the manifests, config and other data
	// stored beside the layers.
	metadataSize int64
}

// DockerConfig is the part of a Docker (schema2) image configuration that
// the OCI one has no field for. It is empty for OCI images.
type DockerConfig struct {
	// Comment is set by `docker commit -m` and `docker import -m`.
	Comment       string
	DockerVersion string
	Healthcheck   *HealthConfig
	OnBuild       []string
	Shell         []string
}

// HealthConfig is a HEALTHCHECK as Docker stores it: durations in
// nanoseconds, Test as ["CMD", ...], ["CMD-SHELL", cmd] or ["NONE"].
type HealthConfig struct {
	Test          []string      `json:",omitempty"`
	Interval      time.Duration `json:",omitempty"`
	Timeout       time.Duration `json:",omitempty"`
	StartPeriod   time.Duration `json:",omitempty"`
	StartInterval time.Duration `json:",omitempty"`
	Retries       int           `json:",omitempty"`
}

// dockerConfigJSON is where DockerConfig's fields sit in a config blob.
type dockerConfigJSON struct {
	Comment       string `json:"comment"`
	DockerVersion string `json:"docker_version"`
	Config        struct {
		Healthcheck *HealthConfig
		OnBuild     []string
		Shell       []string
	} `json:"config"`
}

// Size is the image's unpacked size on disk, as Docker's SIZE column.
func (img *Image) Size() (int64, error) {
	return img.store.s.ImageSize(img.ID)
}

// RepoTags are the image's tagged names as Docker prints them
// ("alpine:latest", "quay.io/x/y:1"), sorted.
func (img *Image) RepoTags() []string {
	var out []string
	for _, n := range img.Names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		if _, digested := named.(reference.Digested); digested {
			continue
		}
		out = append(out, FamiliarString(reference.TagNameOnly(named)))
	}
	sort.Strings(out)
	return out
}

// RepoDigests are "repo@sha256:..." for every repository the image was
// pulled from and every manifest digest it was pulled by, as Docker
// prints them ("alpine@sha256:..."), sorted and without duplicates. A
// repository the image only got by Tag has no digest there, as in Docker.
func (img *Image) RepoDigests() []string {
	local := map[string]bool{}
	localDigest := map[digest.Digest]bool{}
	if img.store != nil {
		for _, n := range img.store.taggedNames(img.ID) {
			local[n] = true
		}
		for _, d := range img.store.localDigests(img.ID) {
			localDigest[d] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(c reference.Canonical) {
		s := FamiliarString(c)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, n := range img.Names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		if c, ok := named.(reference.Canonical); ok {
			add(c)
		}
		if local[n] {
			continue
		}
		for _, d := range img.Digests {
			if localDigest[d] {
				continue
			}
			if c, err := reference.WithDigest(reference.TrimNamed(named), d); err == nil {
				add(c)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Dangling reports whether the image has no name at all (Docker's
// <none>:<none>).
func (img *Image) Dangling() bool { return len(img.Names) == 0 }

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

// ImageCount is how many images the store holds, intermediate build
// images included.
func (s *Store) ImageCount() (int, error) {
	raw, err := s.s.Images()
	if err != nil {
		return 0, fmt.Errorf("list images: %w", err)
	}
	return len(raw), nil
}

// LookupImage finds an image by Docker-style name (alpine, alpine:3.20,
// repo@sha256:...), by full id ("sha256:..." or bare hex) or by a unique
// id prefix. A name wins over an id prefix that looks the same, as in
// Docker. It returns a *NotFoundError when nothing matches and a
// *ReferenceError when nameOrID is neither an id nor a valid name.
func (s *Store) LookupImage(nameOrID string) (*Image, error) {
	raw, err := s.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	return s.wrap(raw)
}

// lookup is LookupImage without reading the image's config.
func (s *Store) lookup(nameOrID string) (*cstorage.Image, error) {
	img, _, err := s.resolve(nameOrID)
	return img, err
}

// resolve finds nameOrID as LookupImage does; ref is the normalized name
// it matched, or nil when it matched an id.
func (s *Store) resolve(nameOrID string) (img *cstorage.Image, ref reference.Named, err error) {
	notFound := &NotFoundError{Ref: nameOrID}
	id := strings.TrimPrefix(nameOrID, "sha256:")
	explicitID := id != nameOrID || len(id) == 64
	if explicitID {
		if !isHexPrefix(id) {
			return nil, nil, &ReferenceError{Ref: nameOrID, Reason: "not a valid image id"}
		}
		return s.byID(id, notFound)
	}
	ref, err = ParseReference(nameOrID)
	if err != nil {
		if isHexPrefix(id) {
			return s.byID(id, notFound)
		}
		return nil, nil, err
	}
	img, err = s.byName(ref)
	if errors.Is(err, ErrImageNotFound) && isHexPrefix(id) {
		return s.byID(id, notFound)
	}
	if err != nil {
		if errors.Is(err, ErrImageNotFound) {
			return nil, nil, notFound
		}
		return nil, nil, fmt.Errorf("look up %s: %w", nameOrID, err)
	}
	return img, ref, nil
}

// byID finds an image by full id or unique id prefix.
func (s *Store) byID(id string, notFound error) (*cstorage.Image, reference.Named, error) {
	img, err := s.s.Image(id)
	if err != nil || !strings.HasPrefix(img.ID, id) {
		// c/storage also resolves exact names here; an id must be an id.
		return nil, nil, notFound
	}
	return img, nil, nil
}

// byName finds the image carrying ref, a normalized name.
func (s *Store) byName(ref reference.Named) (*cstorage.Image, error) {
	if canonical, ok := ref.(reference.Canonical); ok {
		imgs, err := s.s.ImagesByDigest(canonical.Digest())
		if err != nil {
			return nil, err
		}
		for _, img := range imgs {
			for _, n := range img.Names {
				if named, err := reference.ParseNormalizedNamed(n); err == nil && named.Name() == ref.Name() {
					return img, nil
				}
			}
		}
		return nil, ErrImageNotFound
	}
	img, err := s.s.Image(ref.String())
	if errors.Is(err, cstorage.ErrImageUnknown) {
		return nil, ErrImageNotFound
	}
	return img, err
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
		TopLayer: raw.TopLayer,
		store:    s,

		Intermediate: isIntermediate(raw),
	}
	for _, n := range raw.BigDataSizes {
		img.metadataSize += n
	}
	data, err := s.s.ImageBigData(raw.ID, "sha256:"+raw.ID)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", shortID(raw.ID), err)
	}
	if err := json.Unmarshal(data, &img.Config); err != nil {
		return nil, fmt.Errorf("parse config of image %s: %w", shortID(raw.ID), err)
	}
	var docker dockerConfigJSON
	if err := json.Unmarshal(data, &docker); err == nil {
		img.Docker = DockerConfig{
			Comment:       docker.Comment,
			DockerVersion: docker.DockerVersion,
			Healthcheck:   docker.Config.Healthcheck,
			OnBuild:       docker.Config.OnBuild,
			Shell:         docker.Config.Shell,
		}
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

// ErrDigestTag marks a tag target that carries a digest.
var ErrDigestTag = errors.New("refusing to create a tag with a digest reference")

// Image data items box keeps beside c/storage's own.
const (
	// lastTagKey holds the time of the last Tag (RFC 3339).
	lastTagKey = "box-last-tag-time"
	// taggedKey lists the names Tag added (JSON array of full names):
	// they were not pulled, so no registry digest belongs to them.
	taggedKey = "box-tagged-names"
)

// Tag adds target (a Docker-style name) to the image named by source.
// A target another image carries moves to this one, as in Docker. It
// returns a *NotFoundError for a missing source, a *ReferenceError for a
// malformed name and ErrDigestTag for a target with a digest.
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
		return ErrDigestTag
	}
	if err := s.s.AddNames(img.ID, []string{ref.String()}); err != nil {
		return fmt.Errorf("tag %s as %s: %w", source, target, err)
	}
	// What follows only refines inspect and --digests; the tag stands
	// without it.
	if now, err := time.Now().UTC().MarshalText(); err == nil {
		_ = s.s.SetImageBigData(img.ID, lastTagKey, now, nil)
	}
	s.imageEvent("tag", img.ID, FamiliarString(ref))
	tagged := s.taggedNames(img.ID)
	if !slices.Contains(tagged, ref.String()) {
		if data, err := json.Marshal(append(tagged, ref.String())); err == nil {
			_ = s.s.SetImageBigData(img.ID, taggedKey, data, nil)
		}
	}
	return nil
}

// taggedNames lists the names Tag gave image id.
func (s *Store) taggedNames(id string) []string {
	data, err := s.s.ImageBigData(id, taggedKey)
	if err != nil {
		return nil
	}
	var names []string
	_ = json.Unmarshal(data, &names)
	return names
}

// LastTagTime is when the image was last tagged by Tag; zero when never.
func (s *Store) LastTagTime(id string) time.Time {
	data, err := s.s.ImageBigData(id, lastTagKey)
	if err != nil {
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalText(data); err != nil {
		return time.Time{}
	}
	return t
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
	id       string   // of the image removed or untagged, for its events
}

// RemoveImage untags or deletes the image named by nameOrID as Docker's
// rmi does: a name is untagged, and the image deleted once no tag is
// left; an id deletes the image with all its names, which needs force
// when it has several tags. inUse lists ids of containers created from
// the image; they block the removal (force untags instead of deleting).
// When inUse is nil, a container the store knows still blocks the
// deletion, reported as a *ConflictError.
//
// On a full disk it frees the store's reserve (reserve.go) and tries again.
func (s *Store) RemoveImage(nameOrID string, force bool, inUse func(imageID string) []string) (*RemoveReport, error) {
	rep, err := s.removeImage(nameOrID, force, inUse)
	if s.useReserve(err) {
		rep, err = s.removeImage(nameOrID, force, inUse)
	}
	if rep != nil {
		s.removeEvents(rep.id, rep.Untagged, rep.Deleted)
	}
	return rep, err
}

func (s *Store) removeImage(nameOrID string, force bool, inUse func(imageID string) []string) (*RemoveReport, error) {
	img, ref, err := s.resolve(nameOrID)
	if err != nil {
		return nil, err
	}
	rep := &RemoveReport{id: img.ID}
	var users []string
	if inUse != nil {
		users = inUse(img.ID)
	}
	if ref != nil && !slices.Contains(img.Names, ref.String()) {
		// A digest the image was pulled by but is not named with: the
		// store cannot drop it alone, so it stands for the image.
		ref = nil
	}
	if ref != nil {
		// By name: drop that name; the image goes once no other
		// repository reference keeps it.
		if !isSingleReference(img.Names) {
			if len(users) > 0 && !force && onlyReferenceLeft(img.Names, ref) {
				return nil, s.inUseConflict(img.ID, nameOrID, users)
			}
			if err := s.s.RemoveNames(img.ID, []string{ref.String()}); err != nil {
				return nil, fmt.Errorf("untag %s: %w", nameOrID, err)
			}
			rep.Untagged = append(rep.Untagged, FamiliarString(ref))
			return rep, nil
		}
	} else if !isSingleReference(img.Names) && len(img.Names) > 0 && !force {
		return nil, &ConflictError{Msg: fmt.Sprintf("unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(img.ID))}
	}
	name := ""
	if ref != nil {
		name = nameOrID
	}
	if len(users) > 0 {
		if !force {
			return nil, s.inUseConflict(img.ID, name, users)
		}
		return s.untagAll(img, rep)
	}
	wrapped, err := s.wrap(img)
	if err != nil {
		return nil, err
	}
	untagged := append(wrapped.RepoTags(), wrapped.RepoDigests()...)
	chain := s.layerChain(img.TopLayer)
	if _, err := s.s.DeleteImage(img.ID, true); err != nil {
		if !errors.Is(err, cstorage.ErrImageUsedByContainer) {
			return nil, fmt.Errorf("delete image %s: %w", shortID(img.ID), err)
		}
		// A container made from the image holds its layers.
		if !force {
			return nil, s.inUseConflict(img.ID, name, s.containersOf(img.ID))
		}
		return s.untagAll(img, rep)
	}
	rep.Untagged = append(rep.Untagged, untagged...)
	rep.Deleted = append(rep.Deleted, "sha256:"+img.ID)
	rep.Deleted = append(rep.Deleted, s.removeBuildParents(chain)...)
	return rep, nil
}

// inUseConflict is Docker's refusal to remove an image a container uses;
// name is the reference given, empty for an id.
func (s *Store) inUseConflict(id, name string, users []string) error {
	user := "(unknown)"
	if len(users) > 0 {
		user = shortID(users[0])
	}
	if name != "" {
		return &ConflictError{Msg: fmt.Sprintf("unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, user, shortID(id))}
	}
	return &ConflictError{Msg: fmt.Sprintf("unable to delete %s (must be forced) - image is being used by container %s", shortID(id), user)}
}

// untagAll removes every name of an image that must stay for a container:
// Docker's -f on an image in use leaves it as <none>.
func (s *Store) untagAll(img *cstorage.Image, rep *RemoveReport) (*RemoveReport, error) {
	wrapped, err := s.wrap(img)
	if err != nil {
		return nil, err
	}
	if err := s.s.SetNames(img.ID, nil); err != nil {
		return nil, fmt.Errorf("untag %s: %w", shortID(img.ID), err)
	}
	rep.Untagged = append(rep.Untagged, wrapped.RepoTags()...)
	rep.Untagged = append(rep.Untagged, wrapped.RepoDigests()...)
	return rep, nil
}

// containersOf lists the store's containers made from image id.
func (s *Store) containersOf(id string) []string {
	ctrs, err := s.s.Containers()
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range ctrs {
		if c.ImageID == id {
			out = append(out, c.ID)
		}
	}
	return out
}

// isSingleReference reports whether names hold at most one tag and every
// digest name belongs to that tag's repository: then removing the image
// by id, or its one tag, takes every name with it (Docker's rule).
func isSingleReference(names []string) bool {
	if len(names) <= 1 {
		return len(names) == 1
	}
	var tagged reference.Named
	repos := map[string]bool{}
	for _, n := range names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			return false
		}
		if _, ok := named.(reference.Canonical); ok {
			repos[named.Name()] = true
			continue
		}
		if tagged != nil {
			return false
		}
		tagged = named
	}
	if tagged == nil {
		return len(repos) == 1
	}
	return len(repos) == 1 && repos[tagged.Name()]
}

// onlyReferenceLeft reports whether removing ref leaves the image with no
// tag (digest names alone do not keep an image in Docker's eyes).
func onlyReferenceLeft(names []string, ref reference.Named) bool {
	for _, n := range names {
		if n == ref.String() {
			continue
		}
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		if _, ok := named.(reference.Canonical); !ok {
			return false
		}
	}
	return true
}

// HistoryEntry is one row of `image history`, newest first.
type HistoryEntry struct {
	// ID is "sha256:<image id>" for the top row and "<missing>" below,
	// as Docker shows layers that are not images of their own.
	ID        string
	Created   time.Time // zero when the image does not say
	CreatedBy string
	Size      int64
	Comment   string
}

// History returns the image's build history with each layer's size. An
// image without history gets one row per layer.
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
	if len(img.Config.History) == 0 {
		for _, size := range sizes {
			out = append(out, HistoryEntry{ID: "<missing>", Created: img.Created, Size: size})
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = "sha256:" + img.ID
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
		size := l.UncompressedSize
		if size < 0 || l.UncompressedDigest == "" {
			if n, err := s.s.DiffSize(l.Parent, l.ID); err == nil {
				size = n
			}
		}
		chain = append(chain, size)
		id = l.Parent
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// RemoveResult is what RemoveImages did with one of its names.
type RemoveResult struct {
	Name   string
	Report *RemoveReport
	Err    error
}

// RemoveImages is RemoveImage for each name in turn, without a caller's
// inUse, with the same reports and errors in the same order; a run of
// names that only untag one image is dropped in one store write.
// containers/storage rewrites an image's whole name history for every name
// a write adds or removes, so one write per name made `rmi` of an image's
// 2,000 tags quadratic in writes and cubic in work.
func (s *Store) RemoveImages(names []string, force bool) []RemoveResult {
	out := make([]RemoveResult, 0, len(names))
	for i := 0; i < len(names); {
		if n := s.untagRun(names[i:], &out); n > 0 {
			i += n
			continue
		}
		rep, err := s.RemoveImage(names[i], force, nil)
		out = append(out, RemoveResult{Name: names[i], Report: rep, Err: err})
		i++
	}
	return out
}

// untagRun untags, in one store write, the longest run at the head of
// names that are names of one image which RemoveImage would only untag
// (the image keeps another repository reference after each), appending
// their results to out. It returns how many names it took: 0 when fewer
// than two qualify, and then the caller goes name by name.
func (s *Store) untagRun(names []string, out *[]RemoveResult) int {
	if len(names) < 2 {
		return 0
	}
	img, ref, err := s.resolve(names[0])
	if err != nil || ref == nil {
		return 0
	}
	left := newReferenceSet(img.Names)
	var run []string
	for _, n := range names {
		r, err := ParseReference(n)
		if err != nil || !left.has(r.String()) || left.single() {
			break
		}
		left.remove(r.String())
		run = append(run, r.String())
	}
	if len(run) < 2 {
		return 0
	}
	if err := s.s.RemoveNames(img.ID, run); err != nil {
		return 0
	}
	for i, full := range run {
		untagged := full
		if named, err := reference.ParseNormalizedNamed(full); err == nil {
			untagged = FamiliarString(named)
		}
		*out = append(*out, RemoveResult{Name: names[i], Report: &RemoveReport{Untagged: []string{untagged}}})
		s.imageEvent("untag", img.ID, untagged)
	}
	return len(run)
}

// referenceSet is an image's names, kept so that isSingleReference's
// question is answered in constant time as names are taken away.
type referenceSet struct {
	names    map[string]reference.Named // nil value: not a valid reference
	bad      int                        // names that do not parse
	tags     map[string]int             // repository -> tagged names in it
	ntags    int
	digested map[string]int // repository -> digest names in it
}

func newReferenceSet(names []string) *referenceSet {
	rs := &referenceSet{names: map[string]reference.Named{}, tags: map[string]int{}, digested: map[string]int{}}
	for _, n := range names {
		if _, dup := rs.names[n]; dup {
			continue
		}
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			rs.names[n] = nil
			rs.bad++
			continue
		}
		rs.names[n] = named
		rs.count(named, 1)
	}
	return rs
}

func (rs *referenceSet) count(named reference.Named, d int) {
	m := rs.tags
	if _, ok := named.(reference.Canonical); ok {
		m = rs.digested
	} else {
		rs.ntags += d
	}
	m[named.Name()] += d
	if m[named.Name()] == 0 {
		delete(m, named.Name())
	}
}

func (rs *referenceSet) has(name string) bool {
	_, ok := rs.names[name]
	return ok
}

func (rs *referenceSet) remove(name string) {
	named, ok := rs.names[name]
	if !ok {
		return
	}
	delete(rs.names, name)
	if named == nil {
		rs.bad--
		return
	}
	rs.count(named, -1)
}

// single is isSingleReference of the names left.
func (rs *referenceSet) single() bool {
	switch {
	case len(rs.names) <= 1:
		return len(rs.names) == 1
	case rs.bad > 0 || rs.ntags > 1:
		return false
	case rs.ntags == 0:
		return len(rs.digested) == 1
	}
	for repo := range rs.tags {
		return len(rs.digested) == 1 && rs.digested[repo] > 0
	}
	return false
}
