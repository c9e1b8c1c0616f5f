package storage

import (
	"io"
	"os"

	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
)

// How a layer the image library stores itself is checked.
//
// Most layers a pull stores are unpacked by streamLayers (pullstream.go),
// once. The image library stores the rest (those of images streamLayers
// leaves to it) in two steps: while the blob arrives it writes it to a
// file and decompresses it to learn its DiffID; when every layer below it
// is stored it hands that file to the store, which decompresses it again
// to unpack it. Checking the layer's entries in a pass of its own
// (layerpath.go) would open the gzip a third time. So the check sits in
// the store's own pass instead: pullStore hands the store the layer
// decompressed and checked (checkedLayerReader), and the store, given an
// uncompressed tar, does not decompress it again.

// pullStore is the store as a pull's image library sees it: every layer
// it stores goes through the entry check.
type pullStore struct {
	cstorage.Store
}

// PutLayer checks diff's entries as the store unpacks them: a refused one
// fails it with the *LayerEntryError, and the store keeps nothing of the
// layer.
func (p *pullStore) PutLayer(id, parent string, names []string, mountLabel string, writeable bool, options *cstorage.LayerOptions, diff io.Reader) (*cstorage.Layer, int64, error) {
	if diff == nil {
		return p.Store.PutLayer(id, parent, names, mountLabel, writeable, options, diff)
	}
	var opts cstorage.LayerOptions
	if options != nil {
		opts = *options
	}
	layer := shortDigest(opts.OriginalDigest)
	if opts.OriginalDigest != "" && opts.OriginalSize == nil {
		// The library hands over the file it kept the blob in, as it
		// came, and leaves its size to the store to count: but the store
		// will count the decompressed tar.
		if f, ok := diff.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				size := st.Size()
				opts.OriginalSize = &size
			}
		}
	}
	if opts.UncompressedDigest == "" || opts.OriginalDigest == "" || opts.OriginalSize == nil {
		// The store has to see the blob as it is to learn what it
		// would otherwise be told: check the entries beside it.
		b := newCheckedBlob(io.NopCloser(diff), itypes.BlobInfo{Digest: opts.OriginalDigest, Size: -1}, "")
		defer b.Close()
		return p.Store.PutLayer(id, parent, names, mountLabel, writeable, options, b)
	}
	cr, err := newCheckedLayerReader(diff, layer)
	if err != nil {
		return nil, -1, err
	}
	defer cr.Close()
	l, n, err := p.Store.PutLayer(id, parent, names, mountLabel, writeable, &opts, cr)
	if refused := cr.Refused(); refused != nil {
		// The store's own layers may not keep the error's type.
		return nil, -1, refused
	}
	return l, n, err
}
