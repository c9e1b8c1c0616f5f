package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"reflect"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/signature"
	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
)

// How a pull decompresses each layer once.
//
// Left to itself, the image library decompresses a layer twice: while the
// blob arrives it writes it to a file and decompresses it to learn its
// DiffID, and when the layers below it are stored it hands that file to
// the store, which decompresses it again to unpack it. The two passes are
// serial, so a pull took about twice a `tar -xzf` of its layers.
//
// So before the library copies the image, streamLayers stores the layers
// the store lacks itself: every missing layer is fetched at once (at most
// maxStreams at a time) into a spool file, and each is unpacked in order
// from its spool as the bytes arrive, decompressed once, its entries
// checked (checkedLayerReader), its DiffID checked against the image's
// config before the store keeps it. The layer gets the ID the library
// would give it (layerChainID), so the library then finds every layer
// stored and only records the image.
//
// Anything this path does not handle (schema 1 manifests, configs without
// a DiffID per layer, a policy that refuses the image) it leaves to the
// library, which says what is wrong as before.

// maxStreams bounds the layers downloaded at once, as
// copy.Options.MaxParallelDownloads does for the library.
const maxStreams = 4

// layerChainID is the store ID the image library gives a layer with
// diffID on parent (storage_dest.go's layerID for a layer identified by
// its DiffID): the DiffID's hex for a base layer, else the hex of
// sha256(parent + "+" + hex).
func layerChainID(parent string, diffID digest.Digest) string {
	if parent == "" {
		return diffID.Encoded()
	}
	sum := sha256.Sum256([]byte(parent + "+" + diffID.Encoded()))
	return hex.EncodeToString(sum[:])
}

// streamLayer is one layer a pull stores itself.
type streamLayer struct {
	blob   itypes.BlobInfo
	diffID digest.Digest
	id     string
	parent string
	stored bool // the store has it already
	spool  *spool
}

// streamLayers stores the layers of the image src names that the store
// lacks, as the comment above says, sending the library's kind of
// progress events to events. It returns the layer blobs it told events
// about, which the library will report as already stored. It returns
// without error, having stored nothing, when the image is one it leaves
// to the library; its errors are those a pull reports
// (*CorruptBlobError, *LayerEntryError, the registry's), and the layers
// it stored before one of them stay for the caller to drop.
func (s *Store) streamLayers(ctx context.Context, sys *itypes.SystemContext, policy *signature.PolicyContext, ref *checkedRef, dir string, events chan<- itypes.ProgressProperties) (map[digest.Digest]bool, error) {
	raw, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, nil // the library finds and reports the same
	}
	src, ok := raw.(*checkedSource)
	if !ok {
		_ = raw.Close()
		return nil, nil
	}
	defer src.Close()
	top := image.UnparsedInstance(src, nil)
	if ok, err := policy.IsRunningImageAllowed(ctx, top); !ok || err != nil {
		return nil, nil
	}
	all := s.imageLayers(ctx, sys, src, top)
	var layers []streamLayer
	for _, l := range all {
		if !l.stored {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 {
		return nil, nil
	}
	// Told in the image's order, as Docker does; the library would tell
	// of these after the layers stored here.
	told := map[digest.Digest]bool{}
	for _, l := range all {
		if l.stored {
			told[l.blob.Digest] = true
			events <- itypes.ProgressProperties{Event: itypes.ProgressEventSkipped, Artifact: l.blob}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for _, l := range layers {
			if l.spool != nil {
				l.spool.close()
			}
		}
	}()
	// What the library's copy would have recorded of each blob, so that
	// a push of the image finds the registry's blobs to reuse and keeps
	// its digests.
	cache := blobinfocache.DefaultCache(sys)
	slots := make(chan struct{}, maxStreams)
	for i := range layers {
		sp, err := newSpool(dir)
		if err != nil {
			return nil, err
		}
		layers[i].spool = sp
		blob := layers[i].blob
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				sp.finish(fetchBlob(ctx, src, blob, sp, cache, events))
			case <-ctx.Done():
				sp.finish(ctx.Err())
			}
		}()
	}
	for _, l := range layers {
		if err := s.storeStreamedLayer(l, src.repo); err != nil {
			return nil, err
		}
		recordBlob(cache, l)
		told[l.blob.Digest] = true
		events <- itypes.ProgressProperties{Event: itypes.ProgressEventDone, Artifact: l.blob, Offset: uint64(max(l.blob.Size, 0))}
	}
	return told, nil
}

// imageLayers lists the layers of the image top names (for the platform
// sys asks), bottom first, saying which the store has; nil when the image
// is one the library is left to handle.
func (s *Store) imageLayers(ctx context.Context, sys *itypes.SystemContext, src *checkedSource, top *image.UnparsedImage) []streamLayer {
	raw, mimeType, err := top.Manifest(ctx)
	if err != nil {
		return nil
	}
	unparsed := top
	if manifest.MIMETypeIsMultiImage(mimeType) {
		list, err := manifest.ListFromBlob(raw, mimeType)
		if err != nil {
			return nil
		}
		inst, err := list.ChooseInstance(sys)
		if err != nil {
			return nil
		}
		unparsed = image.UnparsedInstance(src, &inst)
		if _, mimeType, err = unparsed.Manifest(ctx); err != nil {
			return nil
		}
	}
	if mimeType != manifest.DockerV2Schema2MediaType && mimeType != imgspecv1.MediaTypeImageManifest {
		return nil
	}
	img, err := image.FromUnparsedImage(ctx, sys, unparsed)
	if err != nil {
		return nil
	}
	blobs := img.LayerInfos()
	config, err := img.OCIConfig(ctx)
	if err != nil || len(config.RootFS.DiffIDs) != len(blobs) {
		return nil
	}
	var layers []streamLayer
	parent := ""
	for i, b := range blobs {
		diffID := config.RootFS.DiffIDs[i]
		if diffID.Validate() != nil || diffID.Algorithm() != digest.SHA256 || b.Digest.Validate() != nil || !b.Digest.Algorithm().Available() || !isLayerBlob(b) {
			return nil
		}
		id := layerChainID(parent, diffID)
		_, err := s.s.Layer(id)
		layers = append(layers, streamLayer{blob: b, diffID: diffID, id: id, parent: parent, stored: err == nil})
		parent = id
	}
	return layers
}

// fetchBlob copies blob from src into sp, sending progress events; the
// registry client records in cache where the blob was found.
func fetchBlob(ctx context.Context, src *checkedSource, blob itypes.BlobInfo, sp *spool, cache itypes.BlobInfoCache, events chan<- itypes.ProgressProperties) error {
	rc, _, err := src.GetBlob(ctx, blob, cache)
	if err != nil {
		return err
	}
	defer rc.Close()
	events <- itypes.ProgressProperties{Event: itypes.ProgressEventNewArtifact, Artifact: blob}
	buf := make([]byte, 256<<10)
	last := time.Now()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := rc.Read(buf)
		if k > 0 {
			if _, werr := sp.Write(buf[:k]); werr != nil {
				return werr
			}
			n += int64(k)
			if time.Since(last) >= 100*time.Millisecond {
				last = time.Now()
				events <- itypes.ProgressProperties{Event: itypes.ProgressEventRead, Artifact: blob, Offset: uint64(n)}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// storeStreamedLayer unpacks l into the store from its spool, as the
// bytes arrive.
func (s *Store) storeStreamedLayer(l streamLayer, repo string) error {
	cr, err := newCheckedLayerReader(l.spool.reader(), shortDigest(l.blob.Digest))
	if err != nil {
		return err
	}
	defer cr.Close()
	diff := &diffIDReader{r: cr, hash: sha256.New(), want: l.diffID, layer: l.blob.Digest, repo: repo}
	size := l.blob.Size
	opts := &cstorage.LayerOptions{OriginalDigest: l.blob.Digest, UncompressedDigest: l.diffID}
	if size >= 0 {
		opts.OriginalSize = &size
	}
	_, _, err = s.s.PutLayer(l.id, l.parent, nil, "", false, opts, diff)
	if err != nil {
		// The store reads the blob before its digest can be checked: a
		// blob that is not what the manifest says fails here as a tar
		// that makes no sense, but the download says why.
		if derr := l.spool.wait(); derr != nil {
			return derr
		}
	}
	if refused := cr.Refused(); refused != nil {
		return refused
	}
	if errors.Is(err, cstorage.ErrDuplicateID) {
		// A concurrent pull stored it meanwhile: the store records a
		// layer only once it is unpacked, so it is whole.
		return nil
	}
	if err != nil {
		var corrupt *CorruptBlobError
		if errors.As(err, &corrupt) {
			return corrupt
		}
		return fmt.Errorf("store layer %s: %w", shortDigest(l.blob.Digest), err)
	}
	if !diff.checked {
		// The store stopped reading before the end: what it did not read
		// still counts towards the DiffID.
		_, err = io.Copy(io.Discard, diff)
	}
	if err == nil {
		// Only a blob read to its end was checked against its digest.
		err = l.spool.wait()
	}
	if err != nil {
		_ = s.s.DeleteLayer(l.id)
		return err
	}
	return nil
}

// recordBlob tells cache what the library's copy records of a layer blob
// it stored: its uncompressed digest and its compression.
func recordBlob(cache itypes.BlobInfoCache, l streamLayer) {
	cache.RecordDigestUncompressedPair(l.blob.Digest, l.diffID)
	base := "uncompressed"
	algo, decompress, _, err := compression.DetectCompressionFormat(io.NewSectionReader(l.spool.r, 0, 64))
	if err == nil && decompress != nil {
		base = algo.BaseVariantName()
	}
	recordCompressor(cache, l.blob.Digest, base)
}

// recordCompressor records in cache that blob d is compressed with base
// ("gzip", "zstd" or "uncompressed"), as the library's copy does: without
// it, a push would not reuse the blob and would compress the layer anew,
// changing the image's digest. The method takes a type internal to the
// library, so it is called by reflection; it reports whether the cache
// had it in the shape expected (TestRecordCompressor keeps that true).
func recordCompressor(cache itypes.BlobInfoCache, d digest.Digest, base string) bool {
	m := reflect.ValueOf(cache).MethodByName("RecordDigestCompressorData")
	if !m.IsValid() || m.Type().NumIn() != 2 || m.Type().In(0) != reflect.TypeOf(d) || m.Type().In(1).Kind() != reflect.Struct {
		return false
	}
	data := reflect.New(m.Type().In(1)).Elem()
	for name, v := range map[string]string{"BaseVariantCompressor": base, "SpecificVariantCompressor": "unknown"} {
		f := data.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.String || !f.CanSet() {
			return false
		}
		f.SetString(v)
	}
	m.Call([]reflect.Value{reflect.ValueOf(d), data})
	return true
}

// diffIDReader fails the read that reaches the end of a layer whose
// uncompressed content does not match the DiffID the image's config
// gives, so that the store keeps nothing of it.
type diffIDReader struct {
	r       io.Reader
	hash    hash.Hash
	want    digest.Digest
	layer   digest.Digest
	repo    string
	checked bool
}

func (d *diffIDReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.hash.Write(p[:n])
	if errors.Is(err, io.EOF) && !d.checked {
		d.checked = true
		if got := digest.NewDigest(digest.SHA256, d.hash); got != d.want {
			return n, &CorruptBlobError{Repo: d.repo, Digest: d.layer, Actual: got, DiffID: d.want}
		}
	}
	return n, err
}

// spool is a layer blob on its way from the registry: written to a file
// by one goroutine while another reads it from the start, waiting for
// bytes not yet written.
type spool struct {
	w, r *os.File
	mu   sync.Mutex
	more *sync.Cond
	n    int64 // bytes written
	done bool
	err  error // why the writing ended, if not at the blob's end
}

// newSpool makes an empty spool in dir.
func newSpool(dir string) (*spool, error) {
	w, err := os.CreateTemp(dir, "layer-")
	if err != nil {
		return nil, err
	}
	r, err := os.Open(w.Name())
	if err != nil {
		w.Close()
		os.Remove(w.Name())
		return nil, err
	}
	sp := &spool{w: w, r: r}
	sp.more = sync.NewCond(&sp.mu)
	return sp, nil
}

func (sp *spool) Write(p []byte) (int, error) {
	n, err := sp.w.Write(p)
	sp.mu.Lock()
	sp.n += int64(n)
	sp.mu.Unlock()
	sp.more.Broadcast()
	return n, err
}

// finish records that writing ended, with err unless the blob is whole.
func (sp *spool) finish(err error) {
	sp.mu.Lock()
	sp.done, sp.err = true, err
	sp.mu.Unlock()
	sp.more.Broadcast()
}

// wait returns, once writing has ended, why it ended early, if it did.
func (sp *spool) wait() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for !sp.done {
		sp.more.Wait()
	}
	return sp.err
}

// close removes the spool; its writer must have finished.
func (sp *spool) close() {
	_ = sp.w.Close()
	_ = sp.r.Close()
	_ = os.Remove(sp.w.Name())
}

// reader reads the spool from its start.
func (sp *spool) reader() io.Reader { return &spoolReader{sp: sp} }

type spoolReader struct {
	sp  *spool
	off int64
}

func (r *spoolReader) Read(p []byte) (int, error) {
	sp := r.sp
	sp.mu.Lock()
	for r.off >= sp.n && !sp.done {
		sp.more.Wait()
	}
	n, err := sp.n, sp.err
	sp.mu.Unlock()
	if r.off >= n {
		if err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), n-r.off)]
	k, err := sp.r.ReadAt(p, r.off)
	r.off += int64(k)
	if errors.Is(err, io.EOF) && k > 0 {
		err = nil
	}
	return k, err
}
