package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"

	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// A container, as the store knows it, is a read-write layer on top of an
// image, a name and a directory where the engine keeps its own files
// (record, spec, logs). Its processes are none of the store's business.

// ErrContainerUnknown marks an id or name that no container in the store
// has. Removing a container that is already gone yields it too, so that
// callers can treat that as done.
var ErrContainerUnknown = errors.New("container not known")

// ErrNameInUse marks a container name that another container holds.
var ErrNameInUse = errors.New("that name is already in use")

// NameInUseError says which container holds a name; ID is "" when that
// could not be told (it went meanwhile).
type NameInUseError struct{ Name, ID string }

func (e *NameInUseError) Error() string { return fmt.Sprintf("name %q is already in use", e.Name) }
func (e *NameInUseError) Unwrap() error { return ErrNameInUse }

// Container is a container's entry in the store.
type Container struct {
	ID, Name, ImageID string
	Created           time.Time
	// Creator is what CreateContainer was given as its creator, stored in
	// the same write as the container's entry: the one fact about a
	// container that exists exactly as long as the container does.
	Creator string
}

// ContainerOptions say how a container's layer is made.
type ContainerOptions struct {
	// Volatile layers and entries are written without syncing to disk:
	// for containers that need not survive a crash (run --rm).
	Volatile bool
	// Creator names the process that makes the container, opaque to the
	// store: the engine tells by it whether a container that is not yet
	// whole is still being made or was abandoned by a killed creator.
	Creator string
}

// containerErr turns the backing store's "no such container" errors
// into ErrContainerUnknown, keeping others as they are.
func containerErr(err error) error {
	if errors.Is(err, cstorage.ErrContainerUnknown) || errors.Is(err, cstorage.ErrNotAContainer) {
		return ErrContainerUnknown
	}
	return err
}

// mountErr is containerErr for the backing store's mount calls: they take
// a container's or a layer's id and say "layer not known" for an id that
// is neither.
func mountErr(err error) error {
	if errors.Is(err, cstorage.ErrLayerUnknown) {
		return ErrContainerUnknown
	}
	return containerErr(err)
}

func wrapContainer(c *cstorage.Container) *Container {
	out := &Container{ID: c.ID, ImageID: c.ImageID, Created: c.Created, Creator: c.Metadata}
	if len(c.Names) > 0 {
		out.Name = c.Names[0]
	}
	return out
}

// CreateContainer makes container id named name: a read-write layer on
// top of image imageID, mapped with the store's default id mappings. A
// name another container holds gives a *NameInUseError.
func (s *Store) CreateContainer(id, name, imageID string, opts ContainerOptions) (*Container, error) {
	c, err := s.s.CreateContainer(id, []string{name}, imageID, "", opts.Creator, &cstorage.ContainerOptions{Volatile: opts.Volatile})
	if errors.Is(err, cstorage.ErrDuplicateName) {
		holder := ""
		if o, err := s.s.Container(name); err == nil {
			holder = o.ID
		}
		return nil, &NameInUseError{Name: name, ID: holder}
	}
	if err != nil {
		return nil, err
	}
	return wrapContainer(c), nil
}

// Container finds a container by full id or name; ErrContainerUnknown
// when none has it.
func (s *Store) Container(idOrName string) (*Container, error) {
	c, err := s.s.Container(idOrName)
	if err != nil {
		return nil, containerErr(err)
	}
	return wrapContainer(c), nil
}

// Containers lists every container in the store, in no particular order.
func (s *Store) Containers() ([]*Container, error) {
	raw, err := s.s.Containers()
	if err != nil {
		return nil, err
	}
	out := make([]*Container, len(raw))
	for i := range raw {
		out[i] = wrapContainer(&raw[i])
	}
	return out, nil
}

// DeleteContainer removes a container's layer, entry and directory. It
// gives ErrContainerUnknown when there is no such container; a mounted
// layer is unmounted first.
//
// On a full disk it still works: the backing store rewrites its layer list
// (to mark the layer incomplete) before it frees anything, which fails
// with ENOSPC when a container filled the disk. The container's own files
// are then removed first, giving the rewrite the room it needs, and the
// delete is tried again. Those files were about to go anyway; if the
// second try fails too the container stays, emptied, for another rm.
func (s *Store) DeleteContainer(id string) error {
	err := s.s.DeleteContainer(id)
	if errors.Is(err, syscall.ENOSPC) {
		if ferr := s.emptyContainerLayer(id); ferr == nil {
			err = s.s.DeleteContainer(id)
		}
	}
	if s.useReserve(err) {
		err = s.s.DeleteContainer(id)
	}
	if err != nil && s.clearStrayMountpoint(id) {
		err = s.s.DeleteContainer(id)
	}
	return containerErr(err)
}

// emptyContainerLayer removes what container id wrote to its layer.
func (s *Store) emptyContainerLayer(id string) error {
	layer, err := s.layerOf(id)
	if err != nil {
		return err
	}
	dir, err := s.layerDir(layer)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// clearStrayMountpoint empties an overlay layer's "merged" directory
// when it is not a mount point here yet holds files, and says whether it
// did. Files get there when a container ran on that directory after its
// mount was detached from under it (two mounts of one layer, before box
// allowed only one): the driver's unmount then cannot put its empty
// directory in place ("replacing mount point …/merged: directory not
// empty"), and no delete would ever succeed. What lies under an
// unmounted mount point is nobody's: a mount of it in another namespace
// is not touched, as it covers that directory rather than being it.
func (s *Store) clearStrayMountpoint(id string) bool {
	if s.s.GraphDriverName() != "overlay" {
		return false
	}
	layer, err := s.layerOf(id)
	if err != nil {
		return false
	}
	merged := filepath.Join(s.s.GraphRoot(), "overlay", layer, "merged")
	if mounted, err := mountinfo.Mounted(merged); err != nil || mounted {
		return false
	}
	entries, err := os.ReadDir(merged)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, en := range entries {
		if err := os.RemoveAll(filepath.Join(merged, en.Name())); err != nil {
			return false
		}
	}
	return true
}

// RenameContainer gives a container a new name in place of its old one.
// A name another container holds gives a *NameInUseError: the name is
// not taken from its holder.
func (s *Store) RenameContainer(id, name string) error {
	// The backing store renames whatever the id names, a layer or an
	// image as well, and takes a name from its holder.
	c, err := s.s.Container(id)
	if err != nil {
		return containerErr(err)
	}
	if o, err := s.s.Container(name); err == nil && o.ID != c.ID {
		return &NameInUseError{Name: name, ID: o.ID}
	}
	return containerErr(s.s.SetNames(c.ID, []string{name}))
}

// ContainerDir is the directory the engine may keep a container's own
// files in; it goes with the container.
func (s *Store) ContainerDir(id string) (string, error) {
	dir, err := s.s.ContainerDirectory(id)
	return dir, containerErr(err)
}

// MountContainer mounts a container's root filesystem (its layer over
// its image's) in this process's mount namespace and returns where. The
// store counts mounts: each needs an UnmountContainer, and a count left
// by a process that died is cleared by UnmountContainer too.
func (s *Store) MountContainer(id string) (string, error) {
	dir, err := s.s.Mount(id, "")
	return dir, mountErr(err)
}

// UnmountContainer unmounts a container's root filesystem here and sets
// the store's count of its mounts to zero, whoever made them. The engine
// calls it before mounting a container whose monitor may have died with
// a mount in its own namespace, and to release its own mount.
func (s *Store) UnmountContainer(id string) error {
	_, err := s.s.Unmount(id, true)
	return mountErr(err)
}

// ChangeKind says what happened to a path in a container's layer, with
// Docker's letters: A added, C changed, D deleted.
type ChangeKind string

const (
	ChangeAdd    ChangeKind = "A"
	ChangeModify ChangeKind = "C"
	ChangeDelete ChangeKind = "D"
)

// Change is one path ("/etc/hosts") a container's layer changed relative
// to its image.
type Change struct {
	Kind ChangeKind
	Path string
}

// layerOf is the id of a container's read-write layer.
func (s *Store) layerOf(id string) (string, error) {
	c, err := s.s.Container(id)
	if err != nil {
		return "", containerErr(err)
	}
	return c.LayerID, nil
}

// ContainerChanges lists what a container's layer changed relative to
// its image, in the store's order.
func (s *Store) ContainerChanges(id string) ([]Change, error) {
	layer, err := s.layerOf(id)
	if err != nil {
		return nil, err
	}
	raw, err := s.s.Changes("", layer)
	if err != nil {
		return nil, err
	}
	out := make([]Change, len(raw))
	for i, ch := range raw {
		kind := ChangeModify
		switch ch.Kind {
		case archive.ChangeAdd:
			kind = ChangeAdd
		case archive.ChangeDelete:
			kind = ChangeDelete
		}
		out[i] = Change{Kind: kind, Path: ch.Path}
	}
	return out, nil
}

// ContainerDiff streams a container's layer as an uncompressed tar of
// its changes (deletions as whiteouts). The caller closes it; the store
// holds its layers locked until then, so the stream must be read whole
// before anything is stored.
func (s *Store) ContainerDiff(id string) (io.ReadCloser, error) {
	layer, err := s.layerOf(id)
	if err != nil {
		return nil, err
	}
	uncompressed := archive.Uncompressed
	return s.s.Diff("", layer, &cstorage.DiffOptions{Compression: &uncompressed})
}

// ContainerSize is the size of what a container wrote to its layer.
func (s *Store) ContainerSize(id string) (int64, error) {
	layer, err := s.layerOf(id)
	if err != nil {
		return 0, err
	}
	return s.s.DiffSize("", layer)
}

// MountImage mounts an image's files read-only and returns where; each
// mount needs an UnmountImage.
func (s *Store) MountImage(id string) (string, error) {
	return s.s.MountImage(id, nil, "")
}

// UnmountImage unmounts an image MountImage mounted, whatever its count.
func (s *Store) UnmountImage(id string) error {
	_, err := s.s.UnmountImage(id, true)
	return err
}

// DriverStatus is the graph driver's own description of itself, as
// `info` shows it.
func (s *Store) DriverStatus() ([][2]string, error) { return s.s.Status() }

// Wipe removes every container, image and layer from the store; the
// driver's directories stay.
func (s *Store) Wipe() error { return s.s.Wipe() }
