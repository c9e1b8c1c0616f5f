package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	cstorage "go.podman.io/storage"
)

// emptyTarDigest is the diff id of a layer with no change: 1024 zero bytes.
const emptyTarDigest = digest.Digest("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")

// CommitOptions describe the image Commit makes.
type CommitOptions struct {
	// Ref names the new image; nil leaves it untagged.
	Ref reference.Named
	// Config replaces the base image's Cmd, Entrypoint, User, WorkingDir,
	// Env and Labels where set (the container's, as it ran); Changes,
	// when set, edits the result (--change).
	Config  v1.ImageConfig
	Changes func(*v1.ImageConfig) error
	// Message is the history comment (commit -m), Author the image's
	// author (commit -a), CreatedBy the history entry's command.
	Message, Author, CreatedBy string
}

// Commit makes a new image from a base image and a container's changes:
// diff is an uncompressed tar of those changes (whiteouts included) as
// the store's Diff writes it. It returns the new image's id. The layer is
// removed again when the image cannot be made.
func (s *Store) Commit(ctx context.Context, baseID string, diff io.Reader, opts CommitOptions) (string, error) {
	base, err := s.s.Image(baseID)
	if err != nil {
		return "", fmt.Errorf("commit: base image %s: %w", shortID(baseID), err)
	}
	rawConfig, err := s.s.ImageBigData(base.ID, "sha256:"+base.ID)
	if err != nil {
		return "", fmt.Errorf("commit: config of %s: %w", shortID(base.ID), err)
	}
	rawManifest, err := s.s.ImageBigData(base.ID, cstorage.ImageDigestBigDataKey)
	if err != nil {
		return "", fmt.Errorf("commit: manifest of %s: %w", shortID(base.ID), err)
	}
	now := time.Now().UTC()
	var names []string
	if opts.Ref != nil {
		names = []string{opts.Ref.String()}
	}
	id, err := s.assemble(layerImage{
		parent: base, diff: diff, skipEmpty: true, created: now, names: names,
		describe: func(_ string, layer *cstorage.Layer) ([]byte, []byte, error) {
			var diffID digest.Digest
			var size int64
			if layer != nil {
				diffID, size = layer.UncompressedDigest, layer.UncompressedSize
			}
			config, err := commitConfig(rawConfig, diffID, layer == nil, now, opts)
			if err != nil {
				return nil, nil, err
			}
			man, err := commitManifest(rawManifest, digest.FromBytes(config), int64(len(config)), diffID, size, layer == nil)
			if err != nil {
				return nil, nil, fmt.Errorf("manifest of %s: %w", shortID(base.ID), err)
			}
			return config, man, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

// commitConfig is the base image's config (kept as JSON, so that what the
// OCI types do not know, Docker's healthcheck say, stays) with the
// container's settings, the changes, the new layer and a history entry.
func commitConfig(raw []byte, diffID digest.Digest, empty bool, now time.Time, opts CommitOptions) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse base config: %w", err)
	}
	var img v1.Image
	if err := json.Unmarshal(raw, &img); err != nil {
		return nil, fmt.Errorf("parse base config: %w", err)
	}
	cfg := img.Config
	c := opts.Config
	if c.Entrypoint != nil || c.Cmd != nil {
		cfg.Entrypoint, cfg.Cmd = c.Entrypoint, c.Cmd
	}
	if c.User != "" {
		cfg.User = c.User
	}
	if c.WorkingDir != "" {
		cfg.WorkingDir = c.WorkingDir
	}
	for k, v := range c.Labels {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	if opts.Changes != nil {
		if err := opts.Changes(&cfg); err != nil {
			return nil, err
		}
	}
	// Merge the typed config over the original one field by field.
	var section map[string]json.RawMessage
	if rawSection, ok := doc["config"]; ok && string(rawSection) != "null" {
		if err := json.Unmarshal(rawSection, &section); err != nil {
			return nil, fmt.Errorf("parse base config: %w", err)
		}
	}
	if section == nil {
		section = map[string]json.RawMessage{}
	}
	typed, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var typedFields map[string]json.RawMessage
	if err := json.Unmarshal(typed, &typedFields); err != nil {
		return nil, err
	}
	for k, v := range typedFields {
		section[k] = v
	}
	// Cmd and Entrypoint as the container ran them, even when empty.
	for _, k := range []string{"Cmd", "Entrypoint"} {
		if _, ok := typedFields[k]; !ok {
			delete(section, k)
		}
	}
	if doc["config"], err = json.Marshal(section); err != nil {
		return nil, err
	}

	if !empty {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, diffID)
	}
	if img.RootFS.Type == "" {
		img.RootFS.Type = "layers"
	}
	img.History = append(img.History, v1.History{
		Created:    &now,
		CreatedBy:  opts.CreatedBy,
		Author:     opts.Author,
		Comment:    opts.Message,
		EmptyLayer: empty,
	})
	set := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err == nil {
			doc[k] = b
		}
		return err
	}
	errs := []error{set("created", now), set("rootfs", img.RootFS), set("history", img.History)}
	if opts.Author != "" {
		errs = append(errs, set("author", opts.Author))
	} else {
		delete(doc, "author")
	}
	if opts.Message != "" {
		errs = append(errs, set("comment", opts.Message))
	} else {
		delete(doc, "comment")
	}
	// Docker's record of the container a base image was built in does
	// not describe this one.
	delete(doc, "container")
	delete(doc, "container_config")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// commitManifest is the base image's manifest, in its format, with the
// new config and the new layer (uncompressed, as the store holds it).
func commitManifest(raw []byte, configDigest digest.Digest, configSize int64, diffID digest.Digest, size int64, empty bool) ([]byte, error) {
	mt := manifest.GuessMIMEType(raw)
	switch mt {
	case manifest.DockerV2Schema2MediaType:
		m, err := manifest.Schema2FromManifest(raw)
		if err != nil {
			return nil, err
		}
		m.ConfigDescriptor.Digest, m.ConfigDescriptor.Size = configDigest, configSize
		if !empty {
			m.LayersDescriptors = append(m.LayersDescriptors, manifest.Schema2Descriptor{
				MediaType: manifest.DockerV2SchemaLayerMediaTypeUncompressed, Digest: diffID, Size: size,
			})
		}
		return m.Serialize()
	case v1.MediaTypeImageManifest:
		var m v1.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		m.Config.Digest, m.Config.Size = configDigest, configSize
		if !empty {
			m.Layers = append(m.Layers, v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: diffID, Size: size})
		}
		m.Versioned = specs.Versioned{SchemaVersion: 2}
		m.MediaType = v1.MediaTypeImageManifest
		return json.Marshal(m)
	}
	return nil, fmt.Errorf("unsupported manifest type %q", mt)
}
