package engine

import (
	"context"
	"errors"

	"box/storage"
	"box/storage/filter"
)

// ContainerUsage is one container's share of the disk.
type ContainerUsage struct {
	*Container
	// Size is what its writable layer holds.
	Size int64
	// Volumes counts the volumes it mounts.
	Volumes int
}

// VolumeUsage is one volume's share of the disk.
type VolumeUsage struct {
	Name  string
	Links int // containers that use it
	Size  int64
}

// DiskUsage is what `system df` shows: images (a layer several images
// share counted once), containers' writable layers, volumes, and the
// build cache, which box does not keep yet and shows as empty.
type DiskUsage struct {
	Images     *storage.DiskUsage
	Containers []ContainerUsage
	// ContainersSize is every writable layer; ContainersReclaimable the
	// ones of containers that do not run; ActiveContainers counts those
	// that do.
	ContainersSize, ContainersReclaimable int64
	ActiveContainers                      int
	// Volumes, with VolumesSize their total, VolumesReclaimable what the
	// ones no container uses hold, ActiveVolumes the ones in use.
	Volumes                         []VolumeUsage
	VolumesSize, VolumesReclaimable int64
	ActiveVolumes                   int
}

// DiskUsage measures what box stores.
func (e *Engine) DiskUsage() (*DiskUsage, error) {
	ctrs, err := e.Containers()
	if err != nil {
		return nil, err
	}
	du := &DiskUsage{}
	perImage := map[string]int{}
	for _, c := range ctrs {
		perImage[c.ImageID]++
		u := ContainerUsage{Container: c, Size: e.ContainerSize(c.ID)}
		du.Containers = append(du.Containers, u)
		du.ContainersSize += u.Size
		if c.State == Running || c.State == Restarting {
			du.ActiveContainers++
		} else {
			du.ContainersReclaimable += u.Size
		}
	}
	if du.Images, err = e.Store.DiskUsage(perImage); err != nil {
		return nil, err
	}
	if err := e.volumeUsage(du); err != nil {
		return nil, err
	}
	return du, nil
}

func (e *Engine) volumeUsage(du *DiskUsage) error {
	vs, err := e.volumeStore()
	if err != nil {
		return err
	}
	list, err := vs.List()
	if err != nil {
		return err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return err
	}
	perContainer := map[string]int{}
	for _, ids := range users {
		for _, id := range ids {
			perContainer[id]++
		}
	}
	for i := range du.Containers {
		du.Containers[i].Volumes = perContainer[du.Containers[i].ID]
	}
	for _, v := range list {
		u := VolumeUsage{Name: v.Name, Links: len(users[v.Name]), Size: vs.Size(v)}
		du.Volumes = append(du.Volumes, u)
		du.VolumesSize += u.Size
		if u.Links > 0 {
			du.ActiveVolumes++
		} else {
			du.VolumesReclaimable += u.Size
		}
	}
	return nil
}

// SystemPruneReport says what SystemPrune removed.
type SystemPruneReport struct {
	Containers []string // ids
	Volumes    []string // names
	Images     *storage.PruneReport
	// Reclaimed is the space freed, containers' and images' together.
	Reclaimed int64
}

// SystemPrune removes the containers that do not run, with volumes the
// anonymous volumes no container uses, then the images no container uses
// that are dangling or, with all, every one, as Docker's `system prune`;
// filter applies to containers and images, volumeFilters
// (VolumePruneFilters) to volumes. It goes on after a failure and returns the errors joined.
func (e *Engine) SystemPrune(ctx context.Context, all, volumes bool, pf storage.PruneFilter, volumeFilters filter.Args) (*SystemPruneReport, error) {
	rep := &SystemPruneReport{}
	ctrs, err := e.Containers()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, c := range ctrs {
		if c.State == Running || c.State == Restarting || !pf.Matches(c.Created, c.Labels) {
			continue
		}
		size := e.ContainerSize(c.ID)
		if err := e.RemoveContainer(ctx, c.ID, false); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Containers = append(rep.Containers, c.ID)
		rep.Reclaimed += size
	}
	if volumes {
		names, size, err := e.PruneVolumes(false, volumeFilters)
		if err != nil {
			errs = append(errs, err)
		}
		rep.Volumes, rep.Reclaimed = names, rep.Reclaimed+size
	}
	rep.Images, err = e.Store.PruneImages(all, pf)
	if err != nil {
		errs = append(errs, err)
	}
	if rep.Images == nil {
		rep.Images = &storage.PruneReport{}
	}
	rep.Reclaimed += rep.Images.Reclaimed
	return rep, errors.Join(errs...)
}
