package storage

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/pkg/blobinfocache/memory"
	itypes "go.podman.io/image/v5/types"
)

// TestSpoolReadsWhileWriting: the reader gets every byte, in order, as
// the writer writes them, waits for more rather than ending early, and
// gets the writer's error after the bytes written before it.
func TestSpoolReadsWhileWriting(t *testing.T) {
	chunks := [][]byte{[]byte("first "), bytes.Repeat([]byte("x"), 100<<10), []byte(" last")}
	want := bytes.Join(chunks, nil)
	for _, fail := range []error{nil, errors.New("connection reset")} {
		sp, err := newSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for _, c := range chunks {
				time.Sleep(20 * time.Millisecond)
				if _, err := sp.Write(c); err != nil {
					sp.finish(err)
					return
				}
			}
			sp.finish(fail)
		}()
		got, err := io.ReadAll(sp.reader())
		if !bytes.Equal(got, want) {
			t.Errorf("read %d bytes, want the %d written", len(got), len(want))
		}
		if !errors.Is(err, fail) {
			t.Errorf("reading ended with %v, want %v", err, fail)
		}
		if werr := sp.wait(); !errors.Is(werr, fail) {
			t.Errorf("wait: %v, want %v", werr, fail)
		}
		sp.close()
	}
}

// TestStoreStreamedLayer: a layer reaches the store decompressed, with
// the blob's digest and size and its DiffID; one that decompresses to
// something else than its DiffID, or holds a refused entry, fails and is
// not kept; one whose download failed reports the download's error,
// not the nonsense the store made of it.
func TestStoreStreamedLayer(t *testing.T) {
	good := tarOf(t, entry("d", "etc/", ""), entry("f", "etc/hosts", ""))
	bad := tarOf(t, entry("f", "../escape", ""))
	spooled := func(b []byte, fail error) *spool {
		t.Helper()
		sp, err := newSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sp.close)
		if _, err := sp.Write(b); err != nil {
			t.Fatal(err)
		}
		sp.finish(fail)
		return sp
	}
	layerOf := func(tarball []byte, diffID digest.Digest, fail error) streamLayer {
		blob := gzipped(t, tarball)
		return streamLayer{
			blob:   itypes.BlobInfo{Digest: digest.FromBytes(blob), Size: int64(len(blob))},
			diffID: diffID,
			id:     layerChainID("", diffID),
			spool:  spooled(blob, fail),
		}
	}

	t.Run("good", func(t *testing.T) {
		us := &unpackingStore{}
		l := layerOf(good, digest.FromBytes(good), nil)
		if err := (&Store{s: us}).storeStreamedLayer(l, "repo"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(us.got, good) {
			t.Errorf("the store got %d bytes, want the %d-byte tar decompressed", len(us.got), len(good))
		}
		if us.opts.OriginalDigest != l.blob.Digest || us.opts.OriginalSize == nil || *us.opts.OriginalSize != l.blob.Size || us.opts.UncompressedDigest != l.diffID {
			t.Errorf("the store was told %+v, want the blob's digest and size and the DiffID", us.opts)
		}
	})
	t.Run("wrong DiffID", func(t *testing.T) {
		l := layerOf(good, digest.FromString("other"), nil)
		err := (&Store{s: &unpackingStore{}}).storeStreamedLayer(l, "repo")
		var corrupt *CorruptBlobError
		if !errors.As(err, &corrupt) || corrupt.DiffID != l.diffID || corrupt.Actual != digest.FromBytes(good) {
			t.Errorf("got %v, want a *CorruptBlobError naming the DiffID and what the layer decompressed to", err)
		}
	})
	t.Run("refused entry", func(t *testing.T) {
		err := (&Store{s: &unpackingStore{}}).storeStreamedLayer(layerOf(bad, digest.FromBytes(bad), nil), "repo")
		var refused *LayerEntryError
		if !errors.As(err, &refused) {
			t.Errorf("got %v, want a *LayerEntryError", err)
		}
	})
	t.Run("corrupt download", func(t *testing.T) {
		corrupt := &CorruptBlobError{Repo: "repo", Digest: digest.FromString("a"), Actual: digest.FromString("b")}
		garbage := bytes.Repeat([]byte{0x1f, 0x8b, 0x08, 0, 'x'}, 100)
		l := streamLayer{blob: itypes.BlobInfo{Digest: corrupt.Digest, Size: int64(len(garbage))}, diffID: digest.FromString("c"), id: "c", spool: spooled(garbage, corrupt)}
		if err := (&Store{s: &unpackingStore{}}).storeStreamedLayer(l, "repo"); !errors.Is(err, corrupt) {
			t.Errorf("got %v, want the download's %v", err, corrupt)
		}
	})
}

// TestRecordCompressor: the image library's caches still take a blob's
// compression in the shape recordCompressor builds by reflection; if an
// update changes it, a push of a pulled image would recompress its layers
// and change its digest (TestPush), so this fails first and says why.
func TestRecordCompressor(t *testing.T) {
	for name, cache := range map[string]itypes.BlobInfoCache{
		"memory": memory.New(),
		"sqlite": blobinfocache.DefaultCache(&itypes.SystemContext{BlobInfoCacheDir: t.TempDir()}),
	} {
		if !recordCompressor(cache, digest.FromString("blob"), "gzip") {
			t.Errorf("%s cache: RecordDigestCompressorData is not in the shape recordCompressor expects", name)
		}
	}
}
