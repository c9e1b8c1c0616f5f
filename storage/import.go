package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/tarball"
	itypes "go.podman.io/image/v5/types"
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
// unless the whole tarball was stored.
func (s *Store) Import(ctx context.Context, r io.Reader, opts ImportOptions) (string, error) {
	tmpDir := filepath.Join(s.s.GraphRoot(), "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "import-*.tar")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return "", fmt.Errorf("import: read tarball: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}

	src, err := tarball.NewReference([]string{f.Name()}, nil)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	now := time.Now().UTC()
	comment := opts.Message
	if comment == "" {
		comment = "Imported from tarball"
	}
	cfg := v1.Image{
		Created:  &now,
		Platform: v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH},
		Config:   opts.Config,
		History:  []v1.History{{Created: &now, CreatedBy: "box import", Comment: comment}},
	}
	if err := src.(tarball.ConfigUpdater).ConfigUpdate(cfg, nil); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}

	// The storage destination needs a name; an untagged import gets a
	// throwaway one that is dropped once the image exists.
	name := opts.Ref
	if name == nil {
		suffix := make([]byte, 8)
		_, _ = rand.Read(suffix)
		if name, err = reference.ParseNormalizedNamed("localhost/box-import-" + hex.EncodeToString(suffix) + ":latest"); err != nil {
			return "", err
		}
	}
	dst, err := istorage.Transport.NewStoreReference(s.s, name, "")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	policy, err := policyContext(s.sys)
	if err != nil {
		return "", err
	}
	defer func() { _ = policy.Destroy() }()
	var stored itypes.ImageReference
	if _, err := copy.Image(ctx, policy, dst, src, &copy.Options{SourceCtx: s.sys, DestinationCtx: s.sys, ReportResolvedReference: &stored}); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	img, err := storedImage(stored)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	if opts.Ref == nil {
		if err := s.s.RemoveNames(img.ID, []string{name.String()}); err != nil {
			return "", fmt.Errorf("import: %w", err)
		}
	}
	return img.ID, nil
}

// storedImage finds the image a copy into the store created, by the id the
// storage destination reported: looking it up by name instead could find
// another image that a concurrent pull gave the same name meanwhile.
func storedImage(stored itypes.ImageReference) (*cstorage.Image, error) {
	if stored == nil {
		return nil, errors.New("the store did not report the image it created")
	}
	_, img, err := istorage.ResolveReference(stored)
	if err != nil {
		return nil, fmt.Errorf("find stored image: %w", err)
	}
	return img, nil
}
