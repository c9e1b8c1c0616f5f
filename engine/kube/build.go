package kube

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"box/engine"
	"box/engine/build"
	"box/storage"

	"go.podman.io/image/v5/docker/reference"
)

// BuildPolicy is play's choice about building the Pods' images from
// directories beside the YAML, as Podman's kube play --build.
type BuildPolicy string

const (
	// BuildMissing builds an image that the store lacks and that has a
	// directory (the default).
	BuildMissing BuildPolicy = ""
	// BuildAlways builds every image that has a directory (--build).
	BuildAlways BuildPolicy = "always"
	// BuildNever builds nothing (--build=false).
	BuildNever BuildPolicy = "never"
)

// buildDir is where image's build context would be: the directory named
// as the image's last path component without tag or digest
// ("localhost/web:1" -> DIR/web), when it holds a Containerfile or a
// Dockerfile.
func buildDir(dir, image string) (string, bool) {
	name := path.Base(image)
	name, _, _ = strings.Cut(name, "@")
	name, _, _ = strings.Cut(name, ":")
	if name == "" || name == "." || name == ".." {
		return "", false
	}
	ctx := filepath.Join(dir, name)
	for _, f := range []string{"Containerfile", "Dockerfile"} {
		if st, err := os.Stat(filepath.Join(ctx, f)); err == nil && st.Mode().IsRegular() {
			return ctx, true
		}
	}
	return "", false
}

// BuildError is an image play could not build; nothing was made.
type BuildError struct {
	Image string
	Err   error
}

func (e *BuildError) Error() string { return fmt.Sprintf("build %s: %v", e.Image, e.Err) }
func (e *BuildError) Unwrap() error { return e.Err }

// buildImages builds the images of plans that policy asks for, from
// directories in opts.ContextDir, before anything else is made; the
// containers of a built image then never pull it.
func (k *Kube) buildImages(ctx context.Context, plans []PodPlan, opts PlayOptions) error {
	if opts.Build == BuildNever || opts.ContextDir == "" {
		return nil
	}
	built := map[string]bool{}
	for i := range plans {
		for _, list := range [][]engine.RunOptions{plans[i].Init, plans[i].Containers} {
			for j := range list {
				if err := k.buildImage(ctx, &list[j], opts, built); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// buildImage builds o's image when it has a directory and policy asks
// for it, once per play (built), and then runs o without pulling.
func (k *Kube) buildImage(ctx context.Context, o *engine.RunOptions, opts PlayOptions, built map[string]bool) error {
	if built[o.Image] {
		o.Pull = engine.PullNever
		return nil
	}
	dir, ok := buildDir(opts.ContextDir, o.Image)
	if !ok {
		return nil
	}
	if opts.Build == BuildMissing {
		if _, err := k.Engine.Store.LookupImage(o.Image); err == nil {
			return nil
		}
	}
	ref, err := storage.ParseReference(o.Image)
	if err != nil {
		return &BuildError{Image: o.Image, Err: err}
	}
	bo := build.Options{ContextDir: dir, Tags: []reference.Named{ref}}
	if k.BuildOutput != nil {
		bo.Progress, bo.Output = build.Plain(k.BuildOutput), k.BuildOutput
	}
	if _, err := k.Engine.Build(ctx, bo); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%s: %w", dir, err)
		}
		return &BuildError{Image: o.Image, Err: err}
	}
	built[o.Image] = true
	o.Pull = engine.PullNever
	return nil
}
