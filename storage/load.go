package storage

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	istorage "go.podman.io/image/v5/storage"
	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
)

// LoadedImage is one image Load stored.
type LoadedImage struct {
	ID string // hex
	// Names are the tags it was loaded with, familiar ("alpine:latest");
	// none for an image the archive holds without a tag.
	Names []string
	// Moved are the tags that named another image before the load, by
	// that image's id (Docker's "renaming the old one").
	Moved map[string]string
}

// Load stores every image of an archive read from r: a docker-archive
// (`docker save`, classic or Docker 25's OCI-based layout) or an
// oci-archive, uncompressed or gzip, zstd, xz or bzip2 compressed. The
// whole archive is verified before anything is stored (see archive.go),
// so a truncated or corrupt archive, or one with a layer that reaches
// outside itself, leaves the store as it was and returns an
// *ArchiveError. Should the store still fail midway, layers the load
// added and no image uses are removed again.
func (s *Store) Load(ctx context.Context, r io.Reader) ([]LoadedImage, error) {
	loaded, err := s.load(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	for _, l := range loaded {
		s.imageEvent("load", l.ID, strings.Join(l.Names, ","))
	}
	return loaded, nil
}

func (s *Store) load(ctx context.Context, r io.Reader) ([]LoadedImage, error) {
	tmp, err := newPullTemp(filepath.Join(s.s.GraphRoot(), "load-tmp"), "load-")
	if err != nil {
		return nil, err
	}
	defer tmp.remove()
	a, err := scanArchive(r, tmp.dir)
	if err != nil {
		return nil, err
	}
	defer a.Close()

	before, err := s.layerIDs()
	if err != nil {
		return nil, err
	}
	var loaded []LoadedImage
	switch {
	case a.has("manifest.json"):
		items, err := a.checkDockerArchive()
		if err != nil {
			return nil, err
		}
		loaded, err = s.loadDockerArchive(ctx, a, items, tmp.dir)
		if err != nil {
			s.dropNewLayers(before)
			return nil, err
		}
	case a.has("index.json"):
		index, err := a.checkOCIArchive()
		if err != nil {
			return nil, err
		}
		loaded, err = s.loadOCIArchive(ctx, a, index, tmp.dir)
		if err != nil {
			s.dropNewLayers(before)
			return nil, err
		}
	default:
		return nil, badArchive("not an image archive: it has neither manifest.json (docker-archive) nor index.json (oci-archive)")
	}
	return loaded, nil
}

func (s *Store) loadDockerArchive(ctx context.Context, a *scannedArchive, items []dockerManifestItem, tmpDir string) ([]LoadedImage, error) {
	sys := *s.sys
	sys.BigFilesTemporaryDir = tmpDir
	rd, err := dockerarchive.NewReader(&sys, a.path)
	if err != nil {
		return nil, &ArchiveError{Reason: "read docker-archive", Err: err}
	}
	defer rd.Close()
	refs, err := rd.List()
	if err != nil {
		return nil, &ArchiveError{Reason: "read docker-archive", Err: err}
	}
	if len(refs) != len(items) {
		return nil, badArchive("the archive's manifest.json changed while loading")
	}
	var out []LoadedImage
	for i, it := range items {
		var names []reference.Named
		for _, t := range it.RepoTags {
			ref, err := ParseReference(t)
			if err != nil {
				return nil, &ArchiveError{Reason: fmt.Sprintf("the archive tags an image %q", t), Err: err}
			}
			names = append(names, ref)
		}
		li, err := s.loadOne(ctx, refs[i][0], names, &sys)
		if err != nil {
			return nil, err
		}
		out = append(out, li)
	}
	return out, nil
}

func (s *Store) loadOCIArchive(ctx context.Context, a *scannedArchive, index *v1.Index, tmpDir string) ([]LoadedImage, error) {
	dir := filepath.Join(tmpDir, "layout")
	if err := a.extract(dir); err != nil {
		return nil, err
	}
	sys := *s.sys
	sys.BigFilesTemporaryDir = tmpDir
	var out []LoadedImage
	for i, d := range index.Manifests {
		var names []reference.Named
		if ref := ociImageName(d.Annotations); ref != nil {
			names = append(names, ref)
		}
		src, err := layout.NewIndexReference(dir, i)
		if err != nil {
			return nil, &ArchiveError{Reason: "read oci-archive", Err: err}
		}
		li, err := s.loadOne(ctx, src, names, &sys)
		if err != nil {
			return nil, err
		}
		out = append(out, li)
	}
	return out, nil
}

// ociImageName is the name an OCI index entry gives its image: containerd's
// and Docker's io.containerd.image.name, else the ref name when it is a
// whole reference (Podman writes it so; the spec allows a bare tag, which
// names nothing).
func ociImageName(ann map[string]string) reference.Named {
	for _, n := range []string{ann["io.containerd.image.name"], ann[v1.AnnotationRefName]} {
		if n == "" || !strings.ContainsAny(n, "/:") {
			continue
		}
		if ref, err := ParseReference(n); err == nil {
			if _, ok := ref.(reference.NamedTagged); ok {
				return ref
			}
		}
	}
	return nil
}

// loadOne copies one image of an archive into the store and names it.
func (s *Store) loadOne(ctx context.Context, src itypes.ImageReference, names []reference.Named, sys *itypes.SystemContext) (LoadedImage, error) {
	li := LoadedImage{Moved: map[string]string{}}
	// The storage destination needs a name; an untagged image gets a
	// throwaway one that is dropped once the image exists.
	dstName := reference.Named(nil)
	if len(names) > 0 {
		dstName = names[0]
	} else {
		suffix := make([]byte, 8)
		_, _ = rand.Read(suffix)
		n, err := reference.ParseNormalizedNamed("localhost/box-load-" + hex.EncodeToString(suffix) + ":latest")
		if err != nil {
			return li, err
		}
		dstName = n
	}
	// The digests every image had, by id: the copy may add its manifest to
	// an image the store already holds.
	priorDigests := map[string][]digest.Digest{}
	if imgs, err := s.s.Images(); err == nil {
		for _, img := range imgs {
			priorDigests[img.ID] = img.Digests
		}
	}
	prior := map[string]string{}
	for _, n := range names {
		if id := s.imageIDFor(n); id != "" {
			prior[n.String()] = id
		}
	}
	dst, err := istorage.Transport.NewStoreReference(s.s, dstName, "")
	if err != nil {
		return li, err
	}
	policy, err := policyContext(sys)
	if err != nil {
		return li, err
	}
	defer func() { _ = policy.Destroy() }()
	var stored itypes.ImageReference
	if _, err := copy.Image(ctx, policy, dst, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys, ReportResolvedReference: &stored}); err != nil {
		return li, err
	}
	img, err := storedImage(stored)
	if err != nil {
		return li, err
	}
	li.ID = img.ID
	if cur, err := s.s.Image(img.ID); err == nil {
		// The manifest the copy made from the archive is nobody's in a
		// registry: no RepoDigests from it, even beside a pulled name.
		var made []digest.Digest
		for _, d := range cur.Digests {
			if !slices.Contains(priorDigests[img.ID], d) {
				made = append(made, d)
			}
		}
		s.addLocalDigests(img.ID, made)
	}
	if len(names) == 0 {
		if err := s.s.RemoveNames(img.ID, []string{dstName.String()}); err != nil {
			return li, err
		}
		return li, nil
	}
	var full []string
	for _, n := range names {
		full = append(full, n.String())
		li.Names = append(li.Names, FamiliarString(n))
		if id, ok := prior[n.String()]; ok && id != img.ID {
			li.Moved[FamiliarString(n)] = id
		}
	}
	if err := s.s.AddNames(img.ID, full[1:]); err != nil {
		return li, err
	}
	return li, nil
}

// localDigestsKey lists (JSON array) the manifest digests of an image
// that box made itself (load, commit) rather than pulled: RepoDigests
// leaves them out.
const localDigestsKey = "box-local-digests"

func (s *Store) localDigests(id string) []digest.Digest {
	data, err := s.s.ImageBigData(id, localDigestsKey)
	if err != nil {
		return nil
	}
	var ds []digest.Digest
	_ = json.Unmarshal(data, &ds)
	return ds
}

func (s *Store) addLocalDigests(id string, ds []digest.Digest) {
	if len(ds) == 0 {
		return
	}
	all := s.localDigests(id)
	for _, d := range ds {
		if !slices.Contains(all, d) {
			all = append(all, d)
		}
	}
	if data, err := json.Marshal(all); err == nil {
		_ = s.s.SetImageBigData(id, localDigestsKey, data, nil)
	}
}

// extract writes an oci-archive's files into dir. Member names were
// checked by the scan; os.Root keeps every write beneath dir whatever
// the archive's links say.
func (a *scannedArchive) extract(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := a.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr := tar.NewReader(io.NewSectionReader(a.file, 0, 1<<62))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return archiveReadError(err)
		}
		name, err := memberName(h.Name)
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || name == "." {
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}

// layerIDs lists the store's layers.
func (s *Store) layerIDs() (map[string]bool, error) {
	layers, err := s.s.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	ids := make(map[string]bool, len(layers))
	for _, l := range layers {
		ids[l.ID] = true
	}
	return ids, nil
}

// dropNewLayers removes layers that are not in before and that no image
// or container uses: what a failed load left. A layer another process
// added meanwhile for an image it has not registered yet would go too;
// that pull then fails and can be repeated.
func (s *Store) dropNewLayers(before map[string]bool) {
	for pass := 0; pass < 64; pass++ {
		layers, err := s.s.Layers()
		if err != nil {
			return
		}
		used := map[string]bool{}
		if imgs, err := s.s.Images(); err == nil {
			for _, img := range imgs {
				used[img.TopLayer] = true
			}
		}
		if ctrs, err := s.s.Containers(); err == nil {
			for _, c := range ctrs {
				used[c.LayerID] = true
			}
		}
		for _, l := range layers {
			used[l.Parent] = true
		}
		removed := false
		for _, l := range layers {
			if before[l.ID] || used[l.ID] {
				continue
			}
			if err := s.s.DeleteLayer(l.ID); err == nil || errors.Is(err, cstorage.ErrLayerUnknown) {
				removed = true
			}
		}
		if !removed {
			return
		}
	}
}
