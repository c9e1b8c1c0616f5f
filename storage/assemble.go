package storage

import (
	"errors"
	"fmt"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"
)

// layerImage is an image that assemble makes: its parent's layers with a
// new layer of changes on top, and the config and manifest that describe
// them. It is the one way box makes an image of its own, for commit, build
// and import; pull and load copy images that exist already.
type layerImage struct {
	// parent is the image whose layers come first; nil starts from
	// nothing (FROM scratch, import).
	parent *cstorage.Image
	// diff is an uncompressed tar of the changes (whiteouts included), or
	// nil for none; skipEmpty adds no layer when it holds no change
	// (Docker records such a commit without one).
	diff      io.Reader
	skipEmpty bool
	// describe renders the config and the manifest once the layer is
	// stored; layer is nil when none was added, top is the image's top
	// layer then.
	describe func(top string, layer *cstorage.Layer) (config, manifest []byte, err error)
	// metadata is the store's free-form record of the image (a build's
	// cache key), created its creation time, names what it is tagged.
	metadata string
	created  time.Time
	names    []string
}

// assemble stores li and returns the new image's id. An image with the
// same config already stored is returned as it is (the same changes on
// the same parent in the same second), and li's names are added to it. A
// new layer is removed again when the image cannot be made, so nothing
// half-made remains.
func (s *Store) assemble(li layerImage) (string, error) {
	top := ""
	if li.parent != nil {
		top = li.parent.TopLayer
	}
	var layer *cstorage.Layer
	if li.diff != nil {
		l, _, err := s.s.PutLayer("", top, nil, "", false, nil, li.diff)
		if err != nil {
			return "", fmt.Errorf("store the changes: %w", err)
		}
		if stored, err := s.s.Layer(l.ID); err == nil {
			l = stored // as stored, with its digest and size
		}
		if li.skipEmpty && l.UncompressedDigest == emptyTarDigest {
			_ = s.s.DeleteLayer(l.ID)
		} else {
			layer, top = l, l.ID
		}
	}
	keepLayer := false
	defer func() {
		if layer != nil && !keepLayer {
			_ = s.s.DeleteLayer(layer.ID)
		}
	}()
	config, man, err := li.describe(top, layer)
	if err != nil {
		return "", err
	}
	configDigest, manDigest := digest.FromBytes(config), digest.FromBytes(man)
	img, err := s.s.CreateImage(configDigest.Encoded(), nil, top, li.metadata, &cstorage.ImageOptions{
		CreationDate: li.created,
		BigData: []cstorage.ImageBigDataOption{
			{Key: configDigest.String(), Data: config, Digest: configDigest},
			{Key: cstorage.ImageDigestManifestBigDataNamePrefix + "-" + manDigest.String(), Data: man, Digest: manDigest},
			{Key: cstorage.ImageDigestBigDataKey, Data: man, Digest: manDigest},
		},
	})
	switch {
	case errors.Is(err, cstorage.ErrDuplicateID):
		if img, err = s.s.Image(configDigest.Encoded()); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	default:
		keepLayer = true
		// Its manifest is box's own, no registry's: no RepoDigests from it.
		s.addLocalDigests(img.ID, []digest.Digest{manDigest})
	}
	if len(li.names) > 0 {
		if err := s.s.AddNames(img.ID, li.names); err != nil {
			return "", fmt.Errorf("name the image: %w", err)
		}
	}
	return img.ID, nil
}
