package storage

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	cstorage "go.podman.io/storage"
)

// buildMetadata is what a build step's image carries in the store's
// metadata: the cache key that made it, and whether it is a step of a
// build rather than its result (listed only with images -a).
type buildMetadata struct {
	BuildCacheKey string `json:"buildCacheKey,omitempty"`
	Intermediate  bool   `json:"intermediate,omitempty"`
}

// StepImage describes one image a build step makes.
type StepImage struct {
	// Config is the whole image config after the step; Shell is
	// Docker's extra field for the SHELL instruction.
	Config v1.ImageConfig
	Shell  []string
	// Healthcheck is Docker's HEALTHCHECK; Author the image's (MAINTAINER).
	Healthcheck *HealthConfig
	Author      string
	// OnBuild are the ONBUILD triggers a child build runs.
	OnBuild []string
	// History is every history entry up to and including this step; the
	// last one is this step's.
	History []v1.History
	// CacheKey finds the image again for a later build (see BuildCache).
	CacheKey string
	// Intermediate marks a step's image, not the build's result.
	Intermediate bool
	// DockerFormat writes a Docker schema 2 manifest instead of an OCI one.
	DockerFormat bool
	Created      time.Time
}

// PutStepImage stores an image made by a build step: the layers of
// parentID ("" for FROM scratch) with diff, an uncompressed tar of the
// step's changes, on top when diff is not nil, and the config, history
// and cache key of si. It returns the new image's id; an image with the
// same config already stored is returned as it is. A new layer is removed
// again when the image cannot be made.
func (s *Store) PutStepImage(parentID string, diff io.Reader, si StepImage) (string, error) {
	var base *cstorage.Image
	var diffIDs []digest.Digest
	if parentID != "" {
		var err error
		if base, err = s.s.Image(parentID); err != nil {
			return "", fmt.Errorf("base image %s: %w", shortID(parentID), err)
		}
		raw, err := s.s.ImageBigData(base.ID, "sha256:"+base.ID)
		if err != nil {
			return "", fmt.Errorf("config of %s: %w", shortID(base.ID), err)
		}
		var img v1.Image
		if err := json.Unmarshal(raw, &img); err != nil {
			return "", fmt.Errorf("config of %s: %w", shortID(base.ID), err)
		}
		diffIDs = img.RootFS.DiffIDs
	}
	meta, _ := json.Marshal(buildMetadata{BuildCacheKey: si.CacheKey, Intermediate: si.Intermediate})
	return s.assemble(layerImage{
		parent: base, diff: diff, metadata: string(meta), created: si.Created,
		describe: func(top string, layer *cstorage.Layer) ([]byte, []byte, error) {
			ids := diffIDs
			if layer != nil {
				ids = append(append([]digest.Digest{}, diffIDs...), layer.UncompressedDigest)
			}
			if ids == nil {
				ids = []digest.Digest{}
			}
			doc := map[string]any{
				"created":      si.Created,
				"architecture": runtime.GOARCH,
				"os":           "linux",
				"config":       stepConfig(si),
				"rootfs":       v1.RootFS{Type: "layers", DiffIDs: ids},
				"history":      si.History,
			}
			if si.Author != "" {
				doc["author"] = si.Author
			}
			config, err := json.Marshal(doc)
			if err != nil {
				return nil, nil, err
			}
			man, err := s.stepManifest(top, digest.FromBytes(config), int64(len(config)), si.DockerFormat)
			return config, man, err
		},
	})
}

// stepConfig is the config section of a step's image, with Docker's
// Shell beside the OCI fields.
func stepConfig(si StepImage) map[string]any {
	var section map[string]any
	b, _ := json.Marshal(si.Config)
	_ = json.Unmarshal(b, &section)
	if si.Shell != nil {
		section["Shell"] = si.Shell
	}
	if si.Healthcheck != nil {
		section["Healthcheck"] = si.Healthcheck
	}
	if len(si.OnBuild) > 0 {
		section["OnBuild"] = si.OnBuild
	}
	return section
}

// stepManifest is an OCI (or Docker schema 2) manifest for the layer
// chain ending at top.
func (s *Store) stepManifest(top string, configDigest digest.Digest, configSize int64, dockerFormat bool) ([]byte, error) {
	var layers []v1.Descriptor
	for id := top; id != ""; {
		l, err := s.s.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", shortID(id), err)
		}
		layers = append([]v1.Descriptor{{MediaType: v1.MediaTypeImageLayer, Digest: l.UncompressedDigest, Size: l.UncompressedSize}}, layers...)
		id = l.Parent
	}
	if layers == nil {
		layers = []v1.Descriptor{}
	}
	if dockerFormat {
		var dl []manifest.Schema2Descriptor
		for _, l := range layers {
			dl = append(dl, manifest.Schema2Descriptor{MediaType: manifest.DockerV2SchemaLayerMediaTypeUncompressed, Digest: l.Digest, Size: l.Size})
		}
		return manifest.Schema2FromComponents(manifest.Schema2Descriptor{
			MediaType: manifest.DockerV2Schema2ConfigMediaType, Digest: configDigest, Size: configSize,
		}, dl).Serialize()
	}
	return json.Marshal(v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: configDigest, Size: configSize},
		Layers:    layers,
	})
}

// MarkBuildResult makes a build step's image the result of a build: it
// keeps its id and cache key, and is listed by images like any other
// image from then on. An image that is not a step's is left as it is.
// A build whose last step made the whole image takes that image as its
// result, as Docker does, instead of storing a copy with a new id that
// would leave the step's image dangling beside it.
func (s *Store) MarkBuildResult(id string) error {
	img, err := s.s.Image(id)
	if err != nil {
		return fmt.Errorf("image %s: %w", shortID(id), err)
	}
	var m buildMetadata
	if img.Metadata == "" || json.Unmarshal([]byte(img.Metadata), &m) != nil || !m.Intermediate {
		return nil
	}
	m.Intermediate = false
	meta, _ := json.Marshal(m)
	return s.s.SetMetadata(img.ID, string(meta))
}

// BuildCache finds the image an earlier build step made under key.
func (s *Store) BuildCache(key string) (string, bool) {
	imgs, err := s.s.Images()
	if err != nil {
		return "", false
	}
	for _, img := range imgs {
		if img.Metadata == "" {
			continue
		}
		var m buildMetadata
		if json.Unmarshal([]byte(img.Metadata), &m) == nil && m.BuildCacheKey == key {
			return img.ID, true
		}
	}
	return "", false
}

// isIntermediate says whether a stored image is a build step's.
func isIntermediate(raw *cstorage.Image) bool {
	var m buildMetadata
	return raw.Metadata != "" && json.Unmarshal([]byte(raw.Metadata), &m) == nil && m.Intermediate
}

// layerChain is the set of layers from top down to the base.
func (s *Store) layerChain(top string) map[string]bool {
	chain := map[string]bool{}
	for id := top; id != "" && !chain[id]; {
		chain[id] = true
		l, err := s.s.Layer(id)
		if err != nil {
			break
		}
		id = l.Parent
	}
	return chain
}

// removeBuildParents deletes, after an image was removed, the unnamed
// images of the build steps below it (their top layers in chain) that no
// other image builds on, as Docker's rmi deletes an image's untagged
// parents; a step image another build's image still stands on stays, as
// cache. It returns the ids deleted ("sha256:..."); failures leave an
// image in place, to go with image prune.
func (s *Store) removeBuildParents(chain map[string]bool) []string {
	imgs, err := s.s.Images()
	if err != nil {
		return nil
	}
	var candidates []cstorage.Image
	kept := map[string]bool{}
	for _, img := range imgs {
		if len(img.Names) == 0 && isIntermediate(&img) && chain[img.TopLayer] {
			candidates = append(candidates, img)
			continue
		}
		for l := range s.layerChain(img.TopLayer) {
			kept[l] = true
		}
	}
	var deleted []string
	// Top down: a step's layer goes only once nothing stands on it.
	sort.Slice(candidates, func(i, j int) bool {
		return len(s.layerChain(candidates[i].TopLayer)) > len(s.layerChain(candidates[j].TopLayer))
	})
	for _, img := range candidates {
		if kept[img.TopLayer] {
			continue
		}
		if _, err := s.s.DeleteImage(img.ID, true); err == nil {
			deleted = append(deleted, "sha256:"+img.ID)
		}
	}
	return deleted
}
