package storage

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/storage"
	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// How a layer leaves the store.
//
// The store keeps a layer unpacked in a directory, plus the layer's tar
// headers as they came in (tar-split). Its own Diff rebuilds the tar by
// opening each header's name joined onto the directory, so a name that
// goes through a symbolic link the layer holds ("esc -> /dev", then
// "esc/zero") opens a file of the host: save and push would read
// /dev/zero forever, or the user's own files. box rebuilds the tar from
// the same headers itself and opens every file with openat2 resolving in
// the layer's directory (RESOLVE_IN_ROOT: "..", and symbolic links
// however absolute, stay inside it), as the unpacker resolved it when
// the file was written; what it finds must be a regular file of the
// recorded size and checksum. Entries pull, load and import refuse never
// get here; this keeps images stored before those checks, and any other
// way in, from reaching out.

// layerResolve is how every file of a layer is resolved.
const layerResolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// openInLayer opens the regular file name inside root (a directory fd),
// never outside it; a name that is not a regular file there is refused
// without being opened for reading (a FIFO would block, a device answer).
func openInLayer(root *os.File, name string) (*os.File, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: layerResolve}
	pfd, err := unix.Openat2(int(root.Fd()), name, &how)
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errNotRegular
	}
	// Open it for reading by the same name (the layer does not change),
	// and make sure it is the file just checked.
	how = unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY, Resolve: layerResolve}
	fd, err := unix.Openat2(int(root.Fd()), name, &how)
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	var st2 unix.Stat_t
	if err := unix.Fstat(fd, &st2); err != nil || st2.Ino != st.Ino || st2.Dev != st.Dev {
		f.Close()
		return nil, errNotRegular
	}
	return f, nil
}

var errNotRegular = errors.New("not a regular file in the layer")

// writeLayerTar writes the tar that headers (a tar-split record) describe,
// with each file's content read from the layer directory root. layer
// names the layer in errors.
func writeLayerTar(w io.Writer, headers io.Reader, root *os.File, layer string) error {
	up := storage.NewJSONUnpacker(headers)
	sum := crc64.New(storage.CRCTable)
	buf := make([]byte, 32<<10)
	for {
		e, err := up.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("layer %s: read its headers: %w", layer, err)
		}
		switch e.Type {
		case storage.SegmentType:
			if _, err := w.Write(e.Payload); err != nil {
				return err
			}
		case storage.FileType:
			if e.Size == 0 {
				continue
			}
			if err := copyLayerFile(w, root, e, sum, buf, layer); err != nil {
				return err
			}
		}
	}
}

func copyLayerFile(w io.Writer, root *os.File, e *storage.Entry, sum hash.Hash64, buf []byte, layer string) error {
	name := e.GetName()
	refuse := func(reason string) error {
		return &LayerEntryError{Layer: layer, Entry: name, Reason: reason}
	}
	f, err := openInLayer(root, name)
	if errors.Is(err, errNotRegular) {
		return refuse("is not a regular file in the layer")
	}
	if err != nil {
		return fmt.Errorf("layer %s: %w", layer, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("layer %s: %w", layer, err)
	}
	if st.Size() != e.Size {
		return refuse(fmt.Sprintf("is %d bytes in the layer where its header says %d", st.Size(), e.Size))
	}
	sum.Reset()
	if _, err := io.CopyBuffer(io.MultiWriter(w, sum), io.LimitReader(f, e.Size), buf); err != nil {
		return fmt.Errorf("layer %s: %s: %w", layer, name, err)
	}
	if !bytes.Equal(sum.Sum(nil), e.Payload) {
		return refuse("does not have the content it was stored with")
	}
	return nil
}

// layerDir is where the graph driver keeps a layer unpacked.
func (s *Store) layerDir(id string) (string, error) {
	switch name := s.s.GraphDriverName(); name {
	case "overlay":
		d, err := s.s.GraphDriver()
		if err != nil {
			return "", err
		}
		md, err := d.Metadata(id)
		if err != nil {
			return "", err
		}
		if md["UpperDir"] == "" {
			return "", fmt.Errorf("layer %s has no directory", shortID(id))
		}
		return md["UpperDir"], nil
	case "vfs":
		return filepath.Join(s.s.GraphRoot(), "vfs", "dir", filepath.Base(id)), nil
	default:
		return "", fmt.Errorf("reading layers back from graph driver %s is not supported", name)
	}
}

// layerTar returns the uncompressed tar of stored layer id as pull, load
// or import stored it, read without opening any path outside the layer
// (see above). The caller closes it; a read fails with a
// *LayerEntryError for an entry that is not what the record says.
func (s *Store) layerTar(id string) (io.ReadCloser, error) {
	layer := shortID(id)
	tsfile, err := os.Open(filepath.Join(s.s.GraphRoot(), s.s.GraphDriverName()+"-layers", id+".tar-split.gz"))
	if errors.Is(err, os.ErrNotExist) {
		// No record of the headers: the store walks the directory, and
		// that walk stays inside it.
		return s.s.Diff("", id, &cstorage.DiffOptions{Compression: new(archive.Uncompressed)})
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", layer, err)
	}
	dir, err := s.layerDir(id)
	if err != nil {
		tsfile.Close()
		return nil, err
	}
	root, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		tsfile.Close()
		return nil, fmt.Errorf("layer %s: %w", layer, err)
	}
	zr, err := gzip.NewReader(tsfile)
	if err != nil {
		tsfile.Close()
		root.Close()
		return nil, fmt.Errorf("layer %s: read its headers: %w", layer, err)
	}
	pr, pw := io.Pipe()
	go func() {
		err := writeLayerTar(pw, zr, root, layer)
		zr.Close()
		tsfile.Close()
		root.Close()
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// rootedLayersRef is a store reference whose image source reads layers
// with layerTar instead of the store's Diff: what save and push copy.
type rootedLayersRef struct {
	itypes.ImageReference
	s  *Store
	id string // the image
}

func (s *Store) rootedLayers(ref itypes.ImageReference, imageID string) itypes.ImageReference {
	return &rootedLayersRef{ImageReference: ref, s: s, id: imageID}
}

func (r *rootedLayersRef) NewImageSource(ctx context.Context, sys *itypes.SystemContext) (itypes.ImageSource, error) {
	img, err := r.s.s.Image(r.id)
	if err != nil {
		return nil, err
	}
	layers := map[digest.Digest]*cstorage.Layer{}
	for id := img.TopLayer; id != ""; {
		l, err := r.s.s.Layer(id)
		if err != nil {
			return nil, err
		}
		if l.UncompressedDigest != "" {
			layers[l.UncompressedDigest] = l
		}
		id = l.Parent
	}
	src, err := r.ImageReference.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	return &rootedLayersSource{ImageSource: src, s: r.s, layers: layers}, nil
}

type rootedLayersSource struct {
	itypes.ImageSource
	s      *Store
	layers map[digest.Digest]*cstorage.Layer // by uncompressed digest
}

func (src *rootedLayersSource) GetBlob(ctx context.Context, info itypes.BlobInfo, cache itypes.BlobInfoCache) (io.ReadCloser, int64, error) {
	l, ok := src.layers[info.Digest]
	if !ok {
		return src.ImageSource.GetBlob(ctx, info, cache)
	}
	rc, err := src.s.layerTar(l.ID)
	if err != nil {
		return nil, 0, err
	}
	size := l.UncompressedSize
	if size <= 0 {
		size = -1
	}
	return rc, size, nil
}
