package storage

import (
	"errors"
	"fmt"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	itypes "go.podman.io/image/v5/types"
)

// What a pull checks of a registry's layers, besides their digests (see
// checkedSource): the manifest names only layer media types box can
// unpack, every blob is as long as the manifest says, and every layer's
// entries pass layerChecker. The image library checks none of these for
// OCI manifests (it refuses unknown media types only in Docker's).

// LayerMediaTypeError is a manifest layer box does not know how to unpack.
type LayerMediaTypeError struct {
	Digest    digest.Digest
	MediaType string
}

func (e *LayerMediaTypeError) Error() string {
	return fmt.Sprintf("layer %s has media type %q, which is no image layer's: refused", shortDigest(e.Digest), e.MediaType)
}

func (e *LayerMediaTypeError) Unwrap() error { return ErrRefusedLayer }

// BlobSizeError is a blob (or an index's manifest) whose length is not
// the one its manifest (or index) gives.
type BlobSizeError struct {
	Repo      string
	Digest    digest.Digest
	Want, Got int64
	// Manifest is set for a manifest whose size its index gives wrong.
	Manifest bool
}

func (e *BlobSizeError) Error() string {
	if e.Manifest {
		return fmt.Sprintf("manifest %s of %s is corrupt: the index says %d bytes, the registry sent %d", e.Digest, e.Repo, e.Want, e.Got)
	}
	return fmt.Sprintf("blob %s of %s is corrupt: the manifest says %d bytes, the registry sent %d", e.Digest, e.Repo, e.Want, e.Got)
}

func (e *BlobSizeError) Unwrap() error { return ErrCorruptBlob }

// layerMediaTypes are the layer media types box unpacks.
var layerMediaTypes = map[string]bool{
	v1.MediaTypeImageLayer:                            true,
	v1.MediaTypeImageLayerGzip:                        true,
	v1.MediaTypeImageLayerZstd:                        true,
	v1.MediaTypeImageLayerNonDistributable:            true, //nolint:staticcheck // still found in old images
	v1.MediaTypeImageLayerNonDistributableGzip:        true, //nolint:staticcheck
	v1.MediaTypeImageLayerNonDistributableZstd:        true, //nolint:staticcheck
	manifest.DockerV2Schema2LayerMediaType:            true,
	manifest.DockerV2SchemaLayerMediaTypeUncompressed: true,
	manifest.DockerV2SchemaLayerMediaTypeZstd:         true,
	manifest.DockerV2Schema2ForeignLayerMediaType:     true,
	manifest.DockerV2Schema2ForeignLayerMediaTypeGzip: true,
}

// isLayerBlob reports whether a blob the library asks for is a layer:
// schema 1 manifests give layers no media type at all.
func isLayerBlob(info itypes.BlobInfo) bool {
	return info.MediaType == "" || layerMediaTypes[info.MediaType]
}

// checkManifestLayers refuses a single-image manifest that names a layer
// of a media type box does not unpack.
func checkManifestLayers(raw []byte, mimeType string) error {
	if manifest.MIMETypeIsMultiImage(mimeType) || mimeType == manifest.DockerV2Schema1MediaType || mimeType == manifest.DockerV2Schema1SignedMediaType {
		return nil
	}
	m, err := manifest.FromBlob(raw, mimeType)
	if err != nil {
		return nil // the library says what is wrong with it
	}
	for _, l := range m.LayerInfos() {
		if !layerMediaTypes[l.MediaType] {
			return &LayerMediaTypeError{Digest: l.Digest, MediaType: l.MediaType}
		}
	}
	return nil
}

// checkedBlob passes a blob on unchanged while it counts its bytes and,
// made by newCheckedBlob for a layer, has a second reader check the
// entries it holds. The read that reaches the blob's end fails with a
// *BlobSizeError or a *LayerEntryError when either check failed; a
// refused entry fails the read in which it is found.
//
// A pull counts its blobs with newCountedBlob: it checks a layer's
// entries where the store unpacks it (pullStore), which spares a pass
// over the decompressed layer.
type checkedBlob struct {
	io.ReadCloser
	info itypes.BlobInfo
	repo string
	n    int64
	// pw feeds the entry check; nil for a blob that is no layer.
	pw   *io.PipeWriter
	done chan error
}

func newCountedBlob(rc io.ReadCloser, info itypes.BlobInfo, repo string) *checkedBlob {
	return &checkedBlob{ReadCloser: rc, info: info, repo: repo}
}

func newCheckedBlob(rc io.ReadCloser, info itypes.BlobInfo, repo string) *checkedBlob {
	b := &checkedBlob{ReadCloser: rc, info: info, repo: repo}
	if !isLayerBlob(info) {
		return b
	}
	pr, pw := io.Pipe()
	b.pw, b.done = pw, make(chan error, 1)
	go func() {
		err := checkLayerTar(pr, shortDigest(info.Digest))
		var refused *LayerEntryError
		if !errors.As(err, &refused) {
			// Not a tar, or cut short: the store says so better. Take
			// the rest so that the blob keeps flowing.
			_, _ = io.Copy(io.Discard, pr)
			err = nil
		}
		pr.CloseWithError(err)
		b.done <- err
	}()
	return b
}

func (b *checkedBlob) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.pw != nil && n > 0 {
		if _, werr := b.pw.Write(p[:n]); werr != nil {
			return n, werr
		}
	}
	if !errors.Is(err, io.EOF) {
		return n, err
	}
	if b.pw != nil {
		b.pw.Close()
		if cerr := <-b.done; cerr != nil {
			b.pw = nil
			return n, cerr
		}
		b.pw = nil
	}
	if b.info.Size >= 0 && b.n != b.info.Size {
		return n, &BlobSizeError{Repo: b.repo, Digest: b.info.Digest, Want: b.info.Size, Got: b.n}
	}
	return n, err
}

func (b *checkedBlob) Close() error {
	if b.pw != nil {
		b.pw.CloseWithError(errors.New("blob closed"))
		<-b.done
		b.pw = nil
	}
	return b.ReadCloser.Close()
}

// dropRefusedPull removes the layers a pull stored (created since start,
// from one of blobs) before a later layer of the same image was refused:
// the library stores each layer as soon as it has it, and no image will
// ever use these. A layer that some image or another layer stands on is
// kept; so is one that a concurrent pull of an image sharing the layer is
// about to build on, unless it is deleted in the moment between (that
// pull then fails and can be run again).
func (s *Store) dropRefusedPull(start time.Time, blobs map[digest.Digest]bool) {
	for {
		layers, err := s.s.Layers()
		if err != nil {
			return
		}
		imgs, err := s.s.Images()
		if err != nil {
			return
		}
		used := map[string]bool{}
		for _, l := range layers {
			used[l.Parent] = true
		}
		for _, img := range imgs {
			used[img.TopLayer] = true
			for _, id := range img.MappedTopLayers {
				used[id] = true
			}
		}
		dropped := false
		for _, l := range layers {
			if used[l.ID] || l.Created.Before(start) || !blobs[l.CompressedDigest] && !blobs[l.UncompressedDigest] {
				continue
			}
			if s.s.DeleteLayer(l.ID) == nil {
				dropped = true
			}
		}
		if !dropped {
			return
		}
	}
}
