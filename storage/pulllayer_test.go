package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"
)

// unpackingStore stands in for the store's PutLayer: it reads the diff
// to its end, as unpacking does, and keeps what it was given.
type unpackingStore struct {
	cstorage.Store
	got  []byte
	opts cstorage.LayerOptions
}

func (s *unpackingStore) PutLayer(id, parent string, names []string, mountLabel string, writeable bool, options *cstorage.LayerOptions, diff io.Reader) (*cstorage.Layer, int64, error) {
	b, err := io.ReadAll(diff)
	if err != nil {
		return nil, -1, err
	}
	s.got = b
	if options != nil {
		s.opts = *options
	}
	return &cstorage.Layer{ID: id}, int64(len(b)), nil
}

// TestPullStorePutLayer: a layer whose digests the library knows
// reaches the store decompressed, with the blob's size from its file;
// one with a refused entry fails with the entry's error; one whose
// digests are unknown reaches the store as it came, still checked.
func TestPullStorePutLayer(t *testing.T) {
	good := tarOf(t, entry("dir", "etc/", ""), entry("file", "etc/hosts", ""))
	bad := tarOf(t, entry("file", "../escape", ""))
	blob := func(b []byte) *os.File {
		t.Helper()
		f, err := os.Create(filepath.Join(t.TempDir(), "blob"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if _, err := f.Write(gzipped(t, b)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		return f
	}
	known := func() *cstorage.LayerOptions {
		return &cstorage.LayerOptions{OriginalDigest: digest.FromString("blob"), UncompressedDigest: digest.FromBytes(good)}
	}

	f := blob(good)
	st, _ := f.Stat()
	s := &unpackingStore{}
	if _, _, err := (&pullStore{s}).PutLayer("l1", "", nil, "", false, known(), f); err != nil {
		t.Fatalf("a good layer: %v", err)
	}
	if !bytes.Equal(s.got, good) {
		t.Errorf("the store was not given the decompressed tar (%d bytes, want %d)", len(s.got), len(good))
	}
	if s.opts.OriginalSize == nil || *s.opts.OriginalSize != st.Size() {
		t.Errorf("OriginalSize = %v, want the blob's %d", s.opts.OriginalSize, st.Size())
	}

	s = &unpackingStore{}
	_, _, err := (&pullStore{s}).PutLayer("l2", "", nil, "", false, known(), blob(bad))
	var refused *LayerEntryError
	if !errors.As(err, &refused) || refused.Entry != "../escape" {
		t.Errorf("a layer climbing out: want its *LayerEntryError, got %v", err)
	}

	s = &unpackingStore{}
	if _, _, err := (&pullStore{s}).PutLayer("l3", "", nil, "", false, nil, blob(bad)); !errors.As(err, &refused) {
		t.Errorf("an unknown layer climbing out: want its *LayerEntryError, got %v", err)
	}
	s = &unpackingStore{}
	if _, _, err := (&pullStore{s}).PutLayer("l4", "", nil, "", false, nil, blob(good)); err != nil || !bytes.Equal(s.got, gzipped(t, good)) {
		t.Errorf("an unknown layer: want it as it came, got %d bytes, %v", len(s.got), err)
	}
}
