package e2e

// Crafting images for the tests: layer blobs made in memory and OCI image layouts written
// from image-spec types. The harness builds the alpine and multi-arch test images with these;
// tests build whatever else they need (broken layers, odd configs, extra platforms) the same
// way and push them with pushLayout.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// defaultPath is the PATH Docker's official images set in their config.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// tarEntry is one member of a tar made by makeTar.
type tarEntry struct {
	Name     string // path inside the layer, e.g. "etc/motd"; a leading slash is dropped
	Body     string // content of a regular file
	Type     byte   // tar.TypeReg when zero; tar.TypeDir, tar.TypeSymlink, tar.TypeLink, ...
	Linkname string // target of a symlink or hard link
	Mode     int64  // permission bits; 0 means 0644 for files and 0755 for directories
	UID, GID int
}

// makeTar returns an uncompressed tar holding entries in the given order. Parent
// directories are not added implicitly, which lets tests craft layers as odd as they like.
func makeTar(entries ...tarEntry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:     trimSlash(e.Name),
			Typeflag: e.Type,
			Linkname: e.Linkname,
			Mode:     e.Mode,
			Uid:      e.UID,
			Gid:      e.GID,
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatPAX,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar entry %s: %w", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func trimSlash(name string) string {
	for len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	return name
}

// gzipBytes compresses data with gzip.
func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipTar returns a gzip-compressed tar of entries, ready to be a layer blob.
func gzipTar(entries ...tarEntry) ([]byte, error) {
	raw, err := makeTar(entries...)
	if err != nil {
		return nil, err
	}
	return gzipBytes(raw)
}

// tarLayer is gzipTar for tests: a gzip tar layer blob, failing t on error.
func tarLayer(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	blob, err := gzipTar(entries...)
	if err != nil {
		t.Fatalf("make layer: %v", err)
	}
	return blob
}

// isGzip reports whether blob starts with the gzip magic number.
func isGzip(blob []byte) bool {
	return len(blob) >= 2 && blob[0] == 0x1f && blob[1] == 0x8b
}

// diffID returns the digest of the uncompressed tar inside a layer blob (gzip or plain).
func diffID(blob []byte) (digest.Digest, error) {
	if !isGzip(blob) {
		return digest.FromBytes(blob), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return "", err
	}
	defer zr.Close()
	d := digest.Canonical.Digester()
	if _, err := io.Copy(d.Hash(), zr); err != nil {
		return "", fmt.Errorf("decompress layer: %w", err)
	}
	return d.Digest(), nil
}

// writeBlob stores data under dir/blobs/sha256 and returns its descriptor. Idempotent.
func writeBlob(dir, mediaType string, data []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(data)
	blobs := filepath.Join(dir, "blobs", d.Algorithm().String())
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), data, 0o644); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

// writeJSONBlob marshals v and stores it as a blob of mediaType.
func writeJSONBlob(dir, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return writeBlob(dir, mediaType, data)
}

// setLayoutIndex makes dir an OCI image layout whose index.json lists exactly descs,
// replacing any index.json already there.
func setLayoutIndex(dir string, descs ...ocispec.Descriptor) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile), layout, 0o644); err != nil {
		return err
	}
	index, err := json.MarshalIndent(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
	}, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), index, 0o644)
}

// writeImage writes an image into the OCI layout at dir (created if needed) and makes it the
// layout's only entry in index.json, so `oci:DIR` names it. Each layer is a blob as-is: gzip
// blobs get the tar+gzip media type, anything else the plain tar one. When cfg.RootFS.DiffIDs
// is nil the diff IDs are computed from the layers; set them to craft an inconsistent image.
// RootFS.Type defaults to "layers". The returned manifest descriptor carries cfg's platform.
func writeImage(dir string, cfg ocispec.Image, layers ...[]byte) (ocispec.Descriptor, error) {
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Layers:    []ocispec.Descriptor{},
	}
	computeDiffIDs := cfg.RootFS.DiffIDs == nil
	if computeDiffIDs {
		cfg.RootFS.DiffIDs = []digest.Digest{}
	}
	if cfg.RootFS.Type == "" {
		cfg.RootFS.Type = "layers"
	}
	for i, blob := range layers {
		mediaType := ocispec.MediaTypeImageLayer
		if isGzip(blob) {
			mediaType = ocispec.MediaTypeImageLayerGzip
		}
		desc, err := writeBlob(dir, mediaType, blob)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layer %d: %w", i, err)
		}
		manifest.Layers = append(manifest.Layers, desc)
		if computeDiffIDs {
			id, err := diffID(blob)
			if err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("layer %d: %w", i, err)
			}
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, id)
		}
	}
	var err error
	manifest.Config, err = writeJSONBlob(dir, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config: %w", err)
	}
	desc, err := writeJSONBlob(dir, ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("manifest: %w", err)
	}
	desc.Platform = &ocispec.Platform{Architecture: cfg.Architecture, OS: cfg.OS, Variant: cfg.Variant}
	if err := setLayoutIndex(dir, desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// buildImage is writeImage for tests, failing t on error.
func buildImage(t *testing.T, dir string, cfg ocispec.Image, layers ...[]byte) ocispec.Descriptor {
	t.Helper()
	desc, err := writeImage(dir, cfg, layers...)
	if err != nil {
		t.Fatalf("build image in %s: %v", dir, err)
	}
	return desc
}

// writeIndex writes an image index listing manifests (already written into dir, e.g. by
// writeImage) and makes it the layout's only entry in index.json, so `oci:DIR` names the
// whole multi-platform image. Push it with all=true to keep every platform.
func writeIndex(dir string, manifests ...ocispec.Descriptor) (ocispec.Descriptor, error) {
	desc, err := writeJSONBlob(dir, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: manifests,
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("index: %w", err)
	}
	if err := setLayoutIndex(dir, desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// readLayoutImage reads the single image an OCI layout's index.json names (as the shared
// BusyBox layouts have) and returns its manifest and config. dir is only read.
func readLayoutImage(dir string) (ocispec.Manifest, ocispec.Image, error) {
	var index ocispec.Index
	var manifest ocispec.Manifest
	var cfg ocispec.Image
	if err := readJSON(filepath.Join(dir, ocispec.ImageIndexFile), &index); err != nil {
		return manifest, cfg, err
	}
	if len(index.Manifests) != 1 || index.Manifests[0].MediaType != ocispec.MediaTypeImageManifest {
		return manifest, cfg, fmt.Errorf("%s: want exactly one image manifest in index.json, have %d entries", dir, len(index.Manifests))
	}
	if err := readJSON(blobPath(dir, index.Manifests[0].Digest), &manifest); err != nil {
		return manifest, cfg, err
	}
	if err := readJSON(blobPath(dir, manifest.Config.Digest), &cfg); err != nil {
		return manifest, cfg, err
	}
	return manifest, cfg, nil
}

// blobPath is where an OCI layout at dir keeps the blob d.
func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// alpineCreated is the creation time recorded in the alpine test image: Alpine 3.20.3's
// release day. A fixed time keeps the image ID the same from run to run.
var alpineCreated = time.Date(2024, 9, 6, 0, 0, 0, 0, time.UTC)

// writeAlpineImage writes into dir the image Docker's official alpine:3.20.3 is built from
// (FROM scratch, ADD the minirootfs tarball, CMD ["/bin/sh"]): the tarball itself is the one
// gzip layer, as-is.
func writeAlpineImage(dir string) (ocispec.Descriptor, error) {
	tarball := filepath.Join(sharedTestdata, "alpine-3.20.3", "alpine-minirootfs-3.20.3-x86_64.tar.gz")
	layer, err := os.ReadFile(tarball)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	created := alpineCreated
	return writeImage(dir, ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Env: []string{defaultPath},
			Cmd: []string{"/bin/sh"},
		},
		History: []ocispec.History{
			{Created: &created, CreatedBy: "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.20.3-x86_64.tar.gz in / "},
			{Created: &created, CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true},
		},
	}, layer)
}

// writeMultiArchImage writes into dir the multi-platform test image library/multi:latest, an
// index of two images that each hold a file /arch naming their architecture:
//
//   - linux/arm64 (variant v8), listed FIRST so that a runtime which takes the first entry
//     instead of matching the platform is caught: a single layer with only /arch ("arm64\n"),
//     so nothing in it can run on amd64;
//   - linux/amd64: the BusyBox musl layer plus a layer with /arch ("amd64\n"), Cmd
//     ["cat", "/arch"], so `box run multi` prints "amd64".
func writeMultiArchImage(dir string) (ocispec.Descriptor, error) {
	busyboxDir := filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci")
	bbManifest, bbConfig, err := readLayoutImage(busyboxDir)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if len(bbManifest.Layers) != 1 {
		return ocispec.Descriptor{}, fmt.Errorf("%s: want one layer, have %d", busyboxDir, len(bbManifest.Layers))
	}
	bbLayer, err := os.ReadFile(blobPath(busyboxDir, bbManifest.Layers[0].Digest))
	if err != nil {
		return ocispec.Descriptor{}, err
	}

	armLayer, err := gzipTar(tarEntry{Name: "arch", Body: "arm64\n"})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	arm, err := writeImage(dir, ocispec.Image{
		Created:  bbConfig.Created,
		Platform: ocispec.Platform{Architecture: "arm64", OS: "linux", Variant: "v8"},
		Config:   ocispec.ImageConfig{Env: []string{defaultPath}, Cmd: []string{"cat", "/arch"}},
	}, armLayer)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("arm64 image: %w", err)
	}

	amdLayer, err := gzipTar(tarEntry{Name: "arch", Body: "amd64\n"})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	amd, err := writeImage(dir, ocispec.Image{
		Created:  bbConfig.Created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{Env: []string{defaultPath}, Cmd: []string{"cat", "/arch"}},
	}, bbLayer, amdLayer)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("amd64 image: %w", err)
	}
	if arm.Platform == nil || amd.Platform == nil {
		return ocispec.Descriptor{}, errors.New("writeImage returned a descriptor without platform")
	}
	return writeIndex(dir, arm, amd)
}
