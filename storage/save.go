package storage

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	istorage "go.podman.io/image/v5/storage"
	itypes "go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

// Archive formats Save writes.
const (
	// DockerArchive is what `docker save` writes and `docker load` and
	// `podman load` read: manifest.json, one config and one uncompressed
	// tar per layer.
	DockerArchive = "docker-archive"
	// OCIArchive is an OCI image layout in a tar, layers uncompressed as
	// Docker 25 writes them.
	OCIArchive = "oci-archive"
)

// ErrBadFormat marks an archive format box does not write.
var ErrBadFormat = errors.New("unsupported archive format")

// SaveOptions say what Save writes and where.
type SaveOptions struct {
	// Names are images as the user gave them: a tagged name saves that
	// tag, a repository without tag every tag of it (as Docker does), an
	// id the image without tags.
	Names []string
	// Format is DockerArchive (the default) or OCIArchive.
	Format string
	// Output is the file to write. The archive is written beside it and
	// renamed over it once complete, so that a failed save leaves no half
	// archive; a device or a pipe (/dev/null, a FIFO) is written as it is.
	Output string
	// Writer, when set, gets the archive instead of Output (stdout).
	Writer io.Writer
}

// saveEntry is one image to save under one name (nil: no name).
type saveEntry struct {
	id  string
	ref reference.NamedTagged
}

// Save writes the images named in opts into one archive. It returns a
// *NotFoundError (or *ReferenceError) for a name that matches no image,
// before anything is written.
func (s *Store) Save(ctx context.Context, opts SaveOptions) error {
	format := opts.Format
	if format == "" {
		format = DockerArchive
	}
	if format != DockerArchive && format != OCIArchive {
		return fmt.Errorf("%w %q: want %s or %s", ErrBadFormat, format, DockerArchive, OCIArchive)
	}
	entries, err := s.saveEntries(opts.Names)
	if err != nil {
		return err
	}
	tmp, err := newPullTemp(filepath.Join(s.s.GraphRoot(), "load-tmp"), "save-")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer tmp.remove()
	sys := *s.sys
	sys.BigFilesTemporaryDir = tmp.dir
	sys.OCIAcceptUncompressedLayers = true

	out, w, tmpOut := opts.Output, opts.Writer, ""
	if st, err := os.Stat(out); w == nil && (err != nil || st.Mode().IsRegular()) {
		f, err := createBeside(out)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		f.Close()
		tmpOut, out = f.Name(), f.Name()
		defer os.Remove(tmpOut)
	}
	if format == DockerArchive {
		if w != nil {
			err = s.streamDockerArchive(ctx, &sys, w, filepath.Join(tmp.dir, "out.fifo"), entries)
		} else {
			err = s.saveDockerArchive(ctx, &sys, out, entries, nil)
		}
	} else {
		err = s.saveOCIArchive(ctx, &sys, out, w, filepath.Join(tmp.dir, "layout"), entries)
	}
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if tmpOut != "" {
		if err := os.Rename(tmpOut, opts.Output); err != nil {
			return fmt.Errorf("save: %w", err)
		}
	}
	for _, en := range entries {
		s.imageEvent("save", en.id, familiarTag(en.ref))
	}
	return nil
}

// createBeside creates a new file in the directory of path, to be renamed
// over it, with the mode os.Create would give path (0666 less the umask;
// os.CreateTemp's is 0600).
func createBeside(path string) (*os.File, error) {
	for {
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// streamDockerArchive writes a docker-archive to w. containers/image
// writes one only to a path it opens itself, and reopening stdout through
// /proc fails in the user namespace for a pipe whose owner is not mapped
// there; a FIFO passes the archive on instead, without a copy on disk.
func (s *Store) streamDockerArchive(ctx context.Context, sys *itypes.SystemContext, w io.Writer, fifo string, entries []saveEntry) error {
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return err
	}
	copied := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			copied <- err
			return
		}
		defer f.Close()
		_, err = io.Copy(&unlessFailed{w: w, failed: &failed}, f)
		if err != nil {
			// Keep the writer from blocking on a full FIFO.
			_, _ = io.Copy(io.Discard, f)
		}
		copied <- err
	}()
	err := s.saveDockerArchive(ctx, sys, fifo, entries, func() { failed.Store(true) })
	// Should the archive never have opened the FIFO, let the reader go.
	if f, oerr := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); oerr == nil {
		f.Close()
	}
	return errors.Join(err, <-copied)
}

// unlessFailed passes writes on to w until the save fails, and then
// drops them.
type unlessFailed struct {
	w      io.Writer
	failed *atomic.Bool
}

func (u *unlessFailed) Write(p []byte) (int, error) {
	if u.failed.Load() {
		return len(p), nil
	}
	return u.w.Write(p)
}

// saveEntries resolves the names given to Save.
func (s *Store) saveEntries(names []string) ([]saveEntry, error) {
	var out []saveEntry
	seen := map[saveEntry]bool{}
	add := func(e saveEntry) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, n := range names {
		if repo, ok := bareRepository(n); ok {
			tagged, err := s.repositoryTags(repo)
			if err != nil {
				return nil, err
			}
			if len(tagged) > 0 {
				for _, e := range tagged {
					add(e)
				}
				continue
			}
		}
		img, ref, err := s.resolve(n)
		if err != nil {
			return nil, err
		}
		if nt, ok := ref.(reference.NamedTagged); ok && !isDigested(ref) {
			add(saveEntry{id: img.ID, ref: nt})
		} else {
			add(saveEntry{id: img.ID})
		}
	}
	// An image saved under a name needs no nameless entry besides.
	named := map[string]bool{}
	for _, e := range out {
		if e.ref != nil {
			named[e.id] = true
		}
	}
	kept := out[:0]
	for _, e := range out {
		if e.ref != nil || !named[e.id] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

func isDigested(ref reference.Named) bool {
	_, ok := ref.(reference.Digested)
	return ok
}

// bareRepository reports whether n is a repository name without tag or
// digest ("alpine", "quay.io/x/y"), returning it normalized.
func bareRepository(n string) (reference.Named, bool) {
	if strings.HasPrefix(n, "sha256:") || isImageID(n) {
		return nil, false
	}
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil || !reference.IsNameOnly(named) {
		return nil, false
	}
	return named, true
}

// repositoryTags lists every tagged image of repo, sorted by tag.
func (s *Store) repositoryTags(repo reference.Named) ([]saveEntry, error) {
	imgs, err := s.s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []saveEntry
	for _, img := range imgs {
		for _, n := range img.Names {
			named, err := reference.ParseNormalizedNamed(n)
			if err != nil || named.Name() != repo.Name() {
				continue
			}
			if nt, ok := named.(reference.NamedTagged); ok && !isDigested(named) {
				out = append(out, saveEntry{id: img.ID, ref: nt})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref.Tag() < out[j].ref.Tag() })
	return out, nil
}

// saveDockerArchive writes entries as a docker-archive at out. An image
// under several names is written once with all of them, as Docker does
// (containers/image's archive writer takes a second copy of an image it
// holds for a config it never got). On failure aborted, when set, is
// called before the archive is closed: what Close then adds (the
// manifest of the images that made it) must not reach a stream, or it
// would read as a whole archive of fewer images.
func (s *Store) saveDockerArchive(ctx context.Context, sys *itypes.SystemContext, out string, entries []saveEntry, aborted func()) error {
	w, err := dockerarchive.NewWriter(sys, out)
	if err != nil {
		return err
	}
	var order []string
	tags := map[string][]reference.NamedTagged{}
	for _, e := range entries {
		if _, ok := tags[e.id]; !ok {
			order = append(order, e.id)
			tags[e.id] = nil
		}
		if e.ref != nil {
			tags[e.id] = append(tags[e.id], e.ref)
		}
	}
	for _, id := range order {
		var first reference.NamedTagged
		imgSys := *sys
		if t := tags[id]; len(t) > 0 {
			first, imgSys.DockerArchiveAdditionalTags = t[0], t[1:]
		}
		dst, err := w.NewReference(first)
		if err == nil {
			err = s.copyOut(ctx, &imgSys, dst, id)
		}
		if err != nil {
			if aborted != nil {
				aborted()
			}
			w.Close()
			return err
		}
	}
	return w.Close()
}

func (s *Store) saveOCIArchive(ctx context.Context, sys *itypes.SystemContext, out string, w io.Writer, dir string, entries []saveEntry) error {
	for _, e := range entries {
		name := ""
		if e.ref != nil {
			name = e.ref.String()
		}
		dst, err := layout.NewReference(dir, name)
		if err != nil {
			return err
		}
		if err := s.copyOut(ctx, sys, dst, e.id); err != nil {
			return err
		}
	}
	if err := annotateImageNames(dir); err != nil {
		return err
	}
	if w != nil {
		return tarDir(w, dir)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := tarDir(f, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyOut copies image id from the store to dst.
func (s *Store) copyOut(ctx context.Context, sys *itypes.SystemContext, dst itypes.ImageReference, id string) error {
	src, err := istorage.Transport.NewStoreReference(s.s, nil, id)
	if err != nil {
		return err
	}
	policy, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	_, err = copy.Image(ctx, policy, dst, s.rootedLayers(src, id), &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	return err
}

// annotateImageNames adds containerd's image name annotation beside each
// ref name, which Docker's load reads (Podman's reads the ref name).
func annotateImageNames(dir string) error {
	path := filepath.Join(dir, v1.ImageIndexFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var index v1.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return err
	}
	for i, m := range index.Manifests {
		if n := m.Annotations[v1.AnnotationRefName]; n != "" {
			index.Manifests[i].Annotations["io.containerd.image.name"] = n
		}
	}
	data, err = json.Marshal(index)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// tarDir writes the regular files under dir as a tar, in a fixed order,
// owned by root, with a fixed time: the same images make the same archive.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch})
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: st.Size(), ModTime: epoch}); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
