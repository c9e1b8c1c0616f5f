package storage

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/pkg/compression"
)

// How `box load` keeps a bad archive out of the store.
//
// containers/image copies an image layer by layer and commits each layer
// to the store as soon as it has it, so an archive that turns out to be
// cut short or corrupt in its third layer would leave the first two
// behind. Load therefore reads the whole archive once before anything
// reaches the store: every member must be complete, every blob named by
// its digest must have that digest, every layer must match the diff id
// its image's config gives it, and no layer may hold a path that climbs
// out of it. Only an archive that passes is copied into the store. The
// pass costs one sequential read (layers are skipped by seeking when the
// archive is an uncompressed file); the store's own checks stay as a
// second line.

// ErrBadArchive marks an image archive box refuses to load.
var ErrBadArchive = errors.New("bad image archive")

// ArchiveError says what is wrong with an archive.
type ArchiveError struct {
	Reason string
	Err    error
}

func (e *ArchiveError) Error() string {
	if e.Reason == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *ArchiveError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBadArchive}
	}
	return []error{ErrBadArchive, e.Err}
}

func badArchive(format string, a ...any) error {
	return &ArchiveError{Reason: fmt.Sprintf(format, a...)}
}

// archiveMember is what the scan learned about one member of an archive.
type archiveMember struct {
	// offset and size locate its data in the uncompressed tar.
	offset, size int64
	digest       digest.Digest // of a regular file's content
	// link is a symlink's or hard link's target as a path in the archive.
	link       string
	symlink    bool
	compressed bool // the content starts with a compression magic number
}

// scannedArchive is an uncompressed image archive on disk, read once.
type scannedArchive struct {
	file    *os.File
	path    string
	members map[string]*archiveMember
}

func (a *scannedArchive) Close() error { return a.file.Close() }

// scanArchive reads an image archive (tar, possibly gzip, zstd, xz or
// bzip2 compressed) from r. When r is already an uncompressed tar file,
// that file is used as it is; otherwise the uncompressed tar is written to
// a new file in tmpDir. Every member is read to its end and hashed.
func scanArchive(r io.Reader, tmpDir string) (*scannedArchive, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	_, decompress, stream, err := compression.DetectCompressionFormat(br)
	if err != nil {
		return nil, &ArchiveError{Reason: "read archive", Err: err}
	}
	file, isFile := r.(*os.File)
	if isFile {
		if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
			isFile = false
		}
	}
	a := &scannedArchive{members: map[string]*archiveMember{}}
	var src io.Reader
	if decompress == nil && isFile {
		// Read it in place, from the start: the detection above read ahead.
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", file.Fd()))
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		a.file, a.path = f, fmt.Sprintf("/proc/self/fd/%d", f.Fd())
		src = file
	} else {
		if decompress != nil {
			dr, err := decompress(stream)
			if err != nil {
				return nil, &ArchiveError{Reason: "decompress archive", Err: err}
			}
			defer dr.Close()
			stream = dr
		}
		f, err := os.CreateTemp(tmpDir, "archive-*.tar")
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		a.file, a.path = f, f.Name()
		src = io.TeeReader(stream, f)
	}
	ok := false
	defer func() {
		if !ok {
			a.file.Close()
		}
	}()
	if err := a.scan(src); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// countingReader counts what was read through it: the offset in the tar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (a *scannedArchive) scan(src io.Reader) error {
	cr := &countingReader{r: src}
	tr := tar.NewReader(cr)
	count := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && count == 0 {
			return &ArchiveError{Reason: "not an image archive: it is not a tar archive", Err: err}
		}
		if err != nil {
			return archiveReadError(err)
		}
		count++
		name, err := memberName(h.Name)
		if err != nil {
			return err
		}
		m := &archiveMember{offset: cr.n, size: h.Size}
		switch h.Typeflag {
		case tar.TypeReg:
			d := digest.Canonical.Digester()
			head := &prefixWriter{max: 6}
			if _, err := io.Copy(io.MultiWriter(d.Hash(), head), tr); err != nil {
				return archiveReadError(err)
			}
			m.digest = d.Digest()
			m.compressed = isCompressed(head.b)
		case tar.TypeSymlink:
			m.symlink = true
			m.link = path.Join(path.Dir(name), h.Linkname)
			if path.IsAbs(h.Linkname) {
				m.link = path.Clean(h.Linkname)
			}
			m.link = strings.TrimPrefix(m.link, "/")
		case tar.TypeLink:
			m.link, err = memberName(h.Linkname)
			if err != nil {
				return err
			}
		}
		a.members[name] = m
	}
	if count == 0 {
		return badArchive("the archive is empty or not a tar archive")
	}
	// What follows the end-of-archive blocks belongs to the temporary
	// copy too.
	_, err := io.Copy(io.Discard, cr)
	if err != nil {
		return archiveReadError(err)
	}
	return nil
}

func archiveReadError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &ArchiveError{Reason: "the archive is truncated: it ends in the middle of a member"}
	}
	return &ArchiveError{Reason: "the archive is corrupt", Err: err}
}

// memberName is a member's path, cleaned, refused when it would point
// outside the archive.
func memberName(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", badArchive("archive member %q points outside the archive", name)
	}
	return clean, nil
}

type prefixWriter struct {
	b   []byte
	max int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if need := w.max - len(w.b); need > 0 {
		w.b = append(w.b, p[:min(need, len(p))]...)
	}
	return len(p), nil
}

func isCompressed(head []byte) bool {
	for _, magic := range [][]byte{{0x1f, 0x8b}, {0x28, 0xb5, 0x2f, 0xfd}, {0xfd, '7', 'z', 'X', 'Z', 0}, {'B', 'Z', 'h'}} {
		if len(head) >= len(magic) && string(head[:len(magic)]) == string(magic) {
			return true
		}
	}
	return false
}

// member finds a regular file of the archive by name, following links.
func (a *scannedArchive) member(name string) (*archiveMember, error) {
	clean, err := memberName(name)
	if err != nil {
		return nil, err
	}
	for hops := 0; hops < 16; hops++ {
		m, ok := a.members[clean]
		if !ok {
			return nil, badArchive("the archive is incomplete: it has no %s", name)
		}
		if m.link == "" {
			return m, nil
		}
		clean = m.link
	}
	return nil, badArchive("archive member %s: too many links", name)
}

// open returns a member's content.
func (a *scannedArchive) open(m *archiveMember) *io.SectionReader {
	return io.NewSectionReader(a.file, m.offset, m.size)
}

func (a *scannedArchive) readJSON(name string, v any) (*archiveMember, error) {
	m, err := a.member(name)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(a.open(m))
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, &ArchiveError{Reason: "archive member " + name + " is not valid JSON", Err: err}
	}
	return m, nil
}

// has reports whether the archive holds name.
func (a *scannedArchive) has(name string) bool {
	_, ok := a.members[name]
	return ok
}

// dockerManifestItem is one image of a docker-archive's manifest.json.
type dockerManifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// checkDockerArchive verifies a docker-archive (classic, or Docker 25's
// with its OCI layout beside manifest.json) and returns its images.
func (a *scannedArchive) checkDockerArchive() ([]dockerManifestItem, error) {
	var items []dockerManifestItem
	if _, err := a.readJSON("manifest.json", &items); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, badArchive("the archive's manifest.json lists no image")
	}
	for _, it := range items {
		cm, err := a.member(it.Config)
		if err != nil {
			return nil, err
		}
		if want, ok := digestInName(it.Config); ok && want != cm.digest {
			return nil, badArchive("the archive is corrupt: config %s has digest %s", it.Config, cm.digest)
		}
		var cfg v1.Image
		if _, err := a.readJSON(it.Config, &cfg); err != nil {
			return nil, err
		}
		if len(cfg.RootFS.DiffIDs) != len(it.Layers) {
			return nil, badArchive("the archive is corrupt: image config %s lists %d layers, manifest.json %d", it.Config, len(cfg.RootFS.DiffIDs), len(it.Layers))
		}
		for i, l := range it.Layers {
			lm, err := a.member(l)
			if err != nil {
				return nil, err
			}
			if want, ok := digestInName(l); ok && want != lm.digest {
				return nil, badArchive("the archive is corrupt: layer %s has digest %s", l, lm.digest)
			}
			if !lm.compressed && lm.digest != cfg.RootFS.DiffIDs[i] {
				return nil, badArchive("the archive is corrupt: layer %s has digest %s where its image config says %s", l, lm.digest, cfg.RootFS.DiffIDs[i])
			}
			if err := a.checkLayer(l, lm); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// checkOCIArchive verifies an oci-archive: every blob has the digest it
// is named by, and every blob the index reaches is there.
func (a *scannedArchive) checkOCIArchive() (*v1.Index, error) {
	for name, m := range a.members {
		want, ok := digestInName(name)
		if !ok || !strings.HasPrefix(name, "blobs/") || m.link != "" {
			continue
		}
		if want != m.digest {
			return nil, badArchive("the archive is corrupt: blob %s has digest %s", name, m.digest)
		}
	}
	var index v1.Index
	if _, err := a.readJSON("index.json", &index); err != nil {
		return nil, err
	}
	if len(index.Manifests) == 0 {
		return nil, badArchive("the archive's index.json lists no image")
	}
	if err := a.checkDescriptors(index.Manifests, 0); err != nil {
		return nil, err
	}
	return &index, nil
}

func (a *scannedArchive) checkDescriptors(descs []v1.Descriptor, depth int) error {
	if depth > 4 {
		return badArchive("the archive's index nests too deep")
	}
	for _, d := range descs {
		if len(d.URLs) > 0 {
			continue // a foreign layer, fetched from its URL if at all
		}
		if err := d.Digest.Validate(); err != nil {
			return &ArchiveError{Reason: "the archive names a malformed digest", Err: err}
		}
		name := "blobs/" + d.Digest.Algorithm().String() + "/" + d.Digest.Encoded()
		m, err := a.member(name)
		if err != nil {
			return err
		}
		switch d.MediaType {
		case v1.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var idx v1.Index
			if _, err := a.readJSON(name, &idx); err != nil {
				return err
			}
			if err := a.checkDescriptors(idx.Manifests, depth+1); err != nil {
				return err
			}
		case v1.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
			var man v1.Manifest
			if _, err := a.readJSON(name, &man); err != nil {
				return err
			}
			if err := a.checkDescriptors([]v1.Descriptor{man.Config}, depth+1); err != nil {
				return err
			}
			if err := a.checkDescriptors(man.Layers, depth+1); err != nil {
				return err
			}
			for _, l := range man.Layers {
				if len(l.URLs) == 0 {
					lm, _ := a.member("blobs/" + l.Digest.Algorithm().String() + "/" + l.Digest.Encoded())
					if err := a.checkLayer(l.Digest.String(), lm); err != nil {
						return err
					}
				}
			}
		}
		_ = m
	}
	return nil
}

// checkLayer reads a layer's headers and refuses the entries layerChecker
// refuses, with a *LayerEntryError: the store would take some of them and
// refuse others only after the layers before were stored.
func (a *scannedArchive) checkLayer(name string, m *archiveMember) error {
	var r io.Reader = a.open(m)
	if m.compressed {
		dr, _, err := compression.AutoDecompress(r)
		if err != nil {
			return &ArchiveError{Reason: "layer " + name + " cannot be decompressed", Err: err}
		}
		defer dr.Close()
		r = dr
	}
	err := checkLayerTar(r, name)
	var refused *LayerEntryError
	switch {
	case errors.As(err, &refused):
		return &ArchiveError{Err: refused}
	case err != nil:
		return &ArchiveError{Reason: "layer " + name + " is not a valid tar", Err: err}
	}
	return nil
}

// digestInName reads the digest a member is named by: blobs/sha256/HEX
// (OCI layouts, Docker 25), HEX.json (classic configs) or HEX/layer.tar.
func digestInName(name string) (digest.Digest, bool) {
	var hex string
	switch {
	case strings.HasPrefix(name, "blobs/sha256/"):
		hex = strings.TrimPrefix(name, "blobs/sha256/")
	case strings.HasSuffix(name, ".json") && !strings.Contains(name, "/"):
		hex = strings.TrimSuffix(name, ".json")
	default:
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.SHA256, hex)
	if d.Validate() != nil {
		return "", false
	}
	return d, true
}
