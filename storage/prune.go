package storage

import (
	"errors"
	"fmt"
	"sort"
	"time"

	cstorage "go.podman.io/storage"

	"box/storage/filter"
)

// PruneFilters are the --filter keys of every prune, as Docker's.
var PruneFilters = filter.Spec{Keys: []string{"until", "label"}, Negatable: []string{"label"}}

// PruneFilter selects what a prune may remove, as Docker's --filter does:
// until=TIME and label=KEY[=VALUE] / label!=KEY[=VALUE].
type PruneFilter struct {
	// Until keeps what was created at or after it; zero keeps nothing.
	Until  time.Time
	labels filter.Args
}

// NewPruneFilter reads args (parsed against PruneFilters); now anchors
// until's durations.
func NewPruneFilter(args filter.Args, now time.Time) (PruneFilter, error) {
	until, _, err := args.Time("until", now)
	if err != nil {
		return PruneFilter{}, err
	}
	return PruneFilter{Until: until, labels: args}, nil
}

// Matches says whether something created at created with labels may go.
func (f PruneFilter) Matches(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	return f.labels.MatchLabels(labels)
}

func (f PruneFilter) matches(img *Image) bool {
	return f.Matches(img.Created, img.Config.Config.Labels)
}

// PruneReport says what a prune removed, in Docker's words.
type PruneReport struct {
	Untagged []string // familiar names
	Deleted  []string // "sha256:<id>" of deleted images
	// Reclaimed is the space the removed layers and image data held.
	Reclaimed int64
}

// PruneImages removes the images no container uses that are dangling or,
// with all, every one; filter narrows the choice. A failure to remove one
// image does not stop the others; the errors are joined.
func (s *Store) PruneImages(all bool, filter PruneFilter) (*PruneReport, error) {
	rep := &PruneReport{}
	used := map[string]bool{}
	ctrs, err := s.s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range ctrs {
		used[c.ImageID] = true
	}
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	sizes, err := s.allLayerSizes()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, img := range imgs {
		if used[img.ID] || !all && !img.Dangling() || !filter.matches(img) {
			continue
		}
		untagged := append(img.RepoTags(), img.RepoDigests()...)
		layers, err := s.s.DeleteImage(img.ID, true)
		if err != nil {
			if !errors.Is(err, cstorage.ErrImageUnknown) {
				errs = append(errs, fmt.Errorf("delete image %s: %w", shortID(img.ID), err))
			}
			continue
		}
		rep.Untagged = append(rep.Untagged, untagged...)
		rep.Deleted = append(rep.Deleted, "sha256:"+img.ID)
		s.removeEvents(img.ID, untagged, []string{img.ID})
		rep.Reclaimed += img.metadataSize
		for _, l := range layers {
			rep.Reclaimed += sizes[l]
		}
	}
	if all && filter.Until.IsZero() && filter.labels.Empty() && !s.liveWriters() {
		// Layers no image or container uses: a killed or failed pull's
		// (one that runs might be about to use them: none does). They
		// have no date or labels, so a filtered prune keeps them.
		orphans, err := s.orphanLayers()
		if err != nil {
			errs = append(errs, err)
		}
		for _, id := range orphans {
			if err := s.s.DeleteLayer(id); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) {
				errs = append(errs, fmt.Errorf("delete layer %s: %w", shortID(id), err))
				continue
			}
			rep.Reclaimed += sizes[id]
		}
	}
	return rep, errors.Join(errs...)
}

// orphanLayers lists the layers that no image and no container uses, each
// before its parent (the order they can be deleted in).
func (s *Store) orphanLayers() ([]string, error) {
	byID, err := s.layersByID()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	mark := func(id string) {
		for id != "" && !used[id] {
			used[id] = true
			l, ok := byID[id]
			if !ok {
				return
			}
			id = l.Parent
		}
	}
	imgs, err := s.s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	for _, img := range imgs {
		mark(img.TopLayer)
		for _, id := range img.MappedTopLayers {
			mark(id)
		}
	}
	ctrs, err := s.s.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range ctrs {
		mark(c.LayerID)
	}
	depth := map[string]int{}
	var orphans []string
	for id := range byID {
		if used[id] {
			continue
		}
		orphans = append(orphans, id)
		for p := id; p != ""; {
			l, ok := byID[p]
			if !ok {
				break
			}
			depth[id]++
			p = l.Parent
		}
	}
	sort.Slice(orphans, func(i, j int) bool { return depth[orphans[i]] > depth[orphans[j]] })
	return orphans, nil
}

// layersByID indexes the store's layers by id.
func (s *Store) layersByID() (map[string]*cstorage.Layer, error) {
	layers, err := s.s.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	byID := make(map[string]*cstorage.Layer, len(layers))
	for i := range layers {
		byID[layers[i].ID] = &layers[i]
	}
	return byID, nil
}

// allLayerSizes returns every layer's unpacked size by id.
func (s *Store) allLayerSizes() (map[string]int64, error) {
	layers, err := s.s.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	out := make(map[string]int64, len(layers))
	for i := range layers {
		out[layers[i].ID] = s.layerSize(&layers[i])
	}
	return out, nil
}

// layerSize is a layer's unpacked size, as the store's ImageSize counts it.
func (s *Store) layerSize(l *cstorage.Layer) int64 {
	if l.UncompressedDigest != "" && l.UncompressedSize >= 0 {
		return l.UncompressedSize
	}
	n, err := s.s.DiffSize(l.Parent, l.ID)
	if err != nil {
		return 0
	}
	return n
}

// ImageUsage is one image's share of the disk, as `system df -v` shows it.
type ImageUsage struct {
	*Image
	// Size is the image's layers and data; SharedSize the part of its
	// layers other images use too; UniqueSize the rest.
	Size, SharedSize, UniqueSize int64
	// Containers counts the containers made from it.
	Containers int
}

// DiskUsage is the images' share of the disk. A layer several images
// share counts once.
type DiskUsage struct {
	Images []ImageUsage
	// Size is every layer once plus every image's data; Reclaimable what
	// removing the images no container uses would free.
	Size, Reclaimable int64
	// Active counts the images at least one container uses.
	Active int
}

// DiskUsage measures the images; containersOf counts, by image id, the
// containers made from each.
func (s *Store) DiskUsage(containersOf map[string]int) (*DiskUsage, error) {
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	byID, err := s.layersByID()
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	chains := make([][]string, len(imgs))
	users := map[string]int{} // layer id -> images using it
	for i, img := range imgs {
		for id := img.TopLayer; id != ""; {
			l, ok := byID[id]
			if !ok {
				break
			}
			if _, seen := sizes[id]; !seen {
				sizes[id] = s.layerSize(l)
			}
			chains[i] = append(chains[i], id)
			users[id]++
			id = l.Parent
		}
	}
	du := &DiskUsage{}
	activeLayers := map[string]bool{}
	for i, img := range imgs {
		u := ImageUsage{Image: img, Containers: containersOf[img.ID]}
		for _, id := range chains[i] {
			u.Size += sizes[id]
			if users[id] > 1 {
				u.SharedSize += sizes[id]
			}
		}
		u.Size += img.metadataSize
		u.UniqueSize = u.Size - u.SharedSize
		du.Images = append(du.Images, u)
		du.Size += img.metadataSize
		if u.Containers > 0 {
			du.Active++
			for _, id := range chains[i] {
				activeLayers[id] = true
			}
		} else {
			du.Reclaimable += img.metadataSize
		}
	}
	for id, n := range sizes {
		du.Size += n
		if !activeLayers[id] {
			du.Reclaimable += n
		}
	}
	// Every byte under the store: layers no image or container uses (a
	// failed pull's) and what killed writers left in the store's
	// temporaries are images' data nobody can use, all reclaimable.
	orphans, err := s.orphanLayers()
	if err != nil {
		return nil, err
	}
	for _, id := range orphans {
		n := s.layerSize(byID[id])
		du.Size += n
		du.Reclaimable += n
	}
	left := s.leftoverSize()
	du.Size += left
	du.Reclaimable += left
	return du, nil
}
