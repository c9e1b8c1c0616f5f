package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"

	"box/storage"
)

// CommitOptions describe `box commit`.
type CommitOptions struct {
	// Ref names the new image; nil leaves it untagged.
	Ref reference.Named
	// Changes, when set, edits the new config (the --change instructions,
	// parsed by build.ParseChanges).
	Changes func(*v1.ImageConfig) error
	// Message and Author go into the image's history and config.
	Message, Author string
	// Pause freezes a running container while its changes are read.
	Pause bool
}

// Commit makes a new image of a container: its image's layers with the
// container's changes as one more layer on top, and its image's config
// with the container's command, user and labels, and opts.Changes. It
// returns the new image's id.
//
// A running container's files are read from the store, not through its
// monitor: its writable layer's upper directory is on disk and the store
// makes its diff from there, while the overlay that the container sees
// is mounted only in the monitor's namespace. Pausing, which keeps the
// container from writing while its changes are read, needs a cgroup
// freezer; rootless containers have none here (see PauseUnsupportedError),
// so rootless box commits without pausing, as Podman does when it cannot
// pause. A file the container writes during the commit may then be taken
// half written.
func (e *Engine) Commit(ctx context.Context, nameOrID string, opts CommitOptions) (string, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return "", err
	}
	sc, err := e.Store.Container(c.ID)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", nameOrID, err)
	}
	if opts.Pause && c.State == Running && !c.Paused && !e.Identity.Rootless() {
		if err := e.Pause(c.ID); err != nil && !errors.Is(err, ErrPauseUnsupported) {
			return "", fmt.Errorf("commit %s: %w", nameOrID, err)
		} else if err == nil {
			defer func() { _ = e.Unpause(c.ID) }()
		}
	}
	cfg := v1.ImageConfig{}
	createdBy := ""
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", nameOrID, err)
	}
	if rec, err := loadRecord(dir); err == nil {
		cfg.Entrypoint, cfg.Cmd, cfg.User = rec.Entrypoint, rec.Cmd, rec.User
		cfg.Labels = rec.Labels
		if cfg.Entrypoint == nil && cfg.Cmd == nil {
			cfg.Cmd = append([]string{rec.Path}, rec.Args...)
		}
		createdBy = strings.Join(rec.Cmd, " ")
	}

	diff, err := e.layerChanges(c.ID, dir)
	if err != nil {
		return "", fmt.Errorf("commit %s: read its changes: %w", nameOrID, err)
	}
	defer os.Remove(diff.Name())
	defer diff.Close()
	id, err := e.Store.Commit(ctx, sc.ImageID, diff, storage.CommitOptions{
		Ref:       opts.Ref,
		Config:    cfg,
		Changes:   opts.Changes,
		Message:   opts.Message,
		Author:    opts.Author,
		CreatedBy: createdBy,
	})
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", nameOrID, err)
	}
	return id, nil
}

// layerChanges writes the changes in a container's layer to a temporary
// file, as containerChanges does, less the mount points box made in it.
func (e *Engine) layerChanges(id, dir string) (*os.File, error) {
	// The store may mount the layer to read it: not beside a start's mount.
	release, err := e.holdLayers(id)
	if err != nil {
		return nil, err
	}
	defer release()
	// Mount points box made in the container's layer (/etc/hosts, a
	// volume's directory) are not the container's doing: Docker leaves
	// them out of the image, as it leaves them out of diff.
	made := map[string]bool{}
	if sp, err := loadSpec(dir); err == nil {
		added := map[string]bool{}
		if changes, err := e.Store.ContainerChanges(id); err == nil {
			for _, ch := range changes {
				if ch.Kind == storage.ChangeAdd {
					added[ch.Path] = true
				}
			}
		}
		for _, m := range sp.Mounts {
			if added[m.Destination] {
				made[m.Destination] = true
			}
		}
	}
	return e.containerChanges(id, made)
}

// containerChanges writes the changes in container id's layer, less the
// paths in skip, to a temporary file and returns it at its start. The
// store holds its layers locked while it streams a diff, and storing the
// new layer needs that lock: the diff must be read whole first.
func (e *Engine) containerChanges(id string, skip map[string]bool) (*os.File, error) {
	// Locked while open: a killed commit's file goes with the next box.
	f, err := e.Store.TempFile("commit-*.tar")
	if err != nil {
		return nil, err
	}
	rc, err := e.Store.ContainerDiff(id)
	if err == nil {
		err = withoutPaths(f, rc, skip)
		err = errors.Join(err, rc.Close())
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// withoutPaths copies a tar from r to w without the members named in
// skip ("/etc/hosts").
func withoutPaths(w io.Writer, r io.Reader, skip map[string]bool) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		if skip[path.Clean("/"+h.Name)] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
