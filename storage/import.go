package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	cstorage "go.podman.io/storage"
)

// ImportOptions describe the image `box import` makes from a tarball.
type ImportOptions struct {
	// Ref names the new image; nil leaves it untagged.
	Ref reference.Named
	// Config is the image configuration (Cmd, Env, ...); OS and
	// architecture default to the host's.
	Config v1.ImageConfig
	// Message becomes the history entry's comment.
	Message string
}

// Import makes a single-layer image from a root filesystem tarball (plain,
// gzip, zstd, ...) read from r and returns its id. Nothing is registered
// unless the whole tarball was stored; an entry layerChecker refuses
// fails it with a *LayerEntryError, and nothing of it stays.
func (s *Store) Import(ctx context.Context, r io.Reader, opts ImportOptions) (string, error) {
	now := time.Now().UTC()
	comment := opts.Message
	if comment == "" {
		comment = "Imported from tarball"
	}
	var names []string
	if opts.Ref != nil {
		names = []string{opts.Ref.String()}
	}
	// Entries are checked on the way in: a refused one never reaches the
	// store, and the layer the ones before it went into is removed.
	diff, err := newCheckedLayerReader(contextReader{ctx, r}, "")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer diff.Close()
	id, err := s.assemble(layerImage{
		diff: diff, created: now, names: names,
		describe: func(top string, layer *cstorage.Layer) ([]byte, []byte, error) {
			diffIDs := []digest.Digest{}
			if layer != nil {
				diffIDs = append(diffIDs, layer.UncompressedDigest)
			}
			config, err := json.Marshal(v1.Image{
				Created:  &now,
				Platform: v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH},
				Config:   opts.Config,
				RootFS:   v1.RootFS{Type: "layers", DiffIDs: diffIDs},
				History:  []v1.History{{Created: &now, CreatedBy: "box import", Comment: comment}},
			})
			if err != nil {
				return nil, nil, err
			}
			man, err := s.stepManifest(top, digest.FromBytes(config), int64(len(config)), false)
			return config, man, err
		},
	})
	if refused := diff.Refused(); refused != nil {
		return "", fmt.Errorf("import: %w", refused)
	}
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	s.imageEvent("import", id, "")
	return id, nil
}

// contextReader ends a read when ctx is done: an import from a slow pipe
// stops on Ctrl-C.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
