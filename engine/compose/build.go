package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.podman.io/image/v5/docker/reference"

	"box/engine/build"
	"box/engine/flags"
	"box/storage"
)

// LabelImage is the label by which up knows the image a container was
// made from (Docker Compose's com.docker.compose.image, the image's id):
// a service whose image changed, by a build or a pull, is recreated.
const LabelImage = "com.docker.compose.image"

// ImageName is the image a service runs: its image:, or for a service
// with only build:, PROJECT-SERVICE, as Docker Compose names the image it
// builds (api.GetImageNameOrDefault).
func ImageName(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}

// BuildPolicy is up's choice about building service images.
type BuildPolicy string

const (
	// BuildMissing builds a service's image when the store lacks it
	// (up's default).
	BuildMissing BuildPolicy = ""
	// BuildAlways builds every service with build: (up --build).
	BuildAlways BuildPolicy = "always"
	// BuildNever builds nothing (up --no-build): a missing image of a
	// service that cannot be pulled is an error.
	BuildNever BuildPolicy = "never"
)

// BuildOptions are compose build's choices.
type BuildOptions struct {
	// Services are the services built; none means all of the project.
	Services []string
	NoCache  bool
	// Pull pulls every base image, even one in the store.
	Pull bool
	// Args are --build-arg's, over each service's build.args.
	Args map[string]string
	// Quiet discards the builds' output.
	Quiet bool
}

// BuildError is a service whose image did not build: up starts nothing
// then.
type BuildError struct {
	Service string
	Err     error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("service %q failed to build: %v", e.Service, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

// MissingImageError is a service whose image is not in the store and
// that up may neither pull nor build.
type MissingImageError struct {
	Service, Image, Why string
}

func (e *MissingImageError) Error() string {
	return fmt.Sprintf("service %q: image %s not found: %s", e.Service, e.Image, e.Why)
}

// buildLabels are the labels Docker Compose puts on an image it builds,
// over the service's build.labels.
func buildLabels(p *types.Project, s types.ServiceConfig, version string) map[string]string {
	l := map[string]string{}
	if s.Build != nil {
		maps.Copy(l, s.Build.Labels)
	}
	l[LabelVersion] = version
	l[LabelProject] = p.Name
	l[LabelService] = s.Name
	return l
}

// buildOptions is the build of service s as box build takes it: a local
// context is the directory the loader made absolute against the project
// directory, a URL (Git or tarball) goes to the build's remote context,
// and a relative dockerfile is a path in the context.
func buildOptions(p *types.Project, s types.ServiceConfig, opts BuildOptions, version string) (build.Options, error) {
	b := s.Build
	o := build.Options{
		BuildArgs: map[string]string{},
		Labels:    buildLabels(p, s, version),
		Target:    b.Target,
		NoCache:   opts.NoCache || b.NoCache,
		Pull:      opts.Pull || b.Pull,
		Network:   flags.ParseNetwork(b.Network),
	}
	switch b.Network {
	case "", "default", "host", "none":
	default:
		return build.Options{}, fmt.Errorf("service %q: build.network %q is not supported by box (default, host or none)", s.Name, b.Network)
	}
	for k, v := range b.Args {
		if v != nil {
			o.BuildArgs[k] = *v
		}
	}
	maps.Copy(o.BuildArgs, opts.Args)
	ctxDir := b.Context
	if ctxDir == "" {
		ctxDir = "."
	}
	remote := build.IsGitURL(ctxDir) || build.IsURL(ctxDir)
	switch {
	case !remote && (strings.Contains(ctxDir, "://") || strings.HasPrefix(ctxDir, types.ServicePrefix)):
		// docker-image://, oci-layout://, service:: BuildKit's, not box's.
		return build.Options{}, fmt.Errorf("service %q: build.context %q is not supported by box (a directory, a Git repository or a URL)", s.Name, ctxDir)
	case remote:
		o.ContextURL = ctxDir
	case filepath.IsAbs(ctxDir):
		o.ContextDir = ctxDir
	default:
		o.ContextDir = filepath.Join(p.WorkingDir, ctxDir)
	}
	switch {
	case b.DockerfileInline != "":
		o.Content = []byte(b.DockerfileInline)
	case b.Dockerfile == "" || remote || filepath.IsAbs(b.Dockerfile):
		o.Dockerfile = b.Dockerfile
	default:
		o.Dockerfile = filepath.Join(o.ContextDir, b.Dockerfile)
	}
	for _, name := range append([]string{ImageName(p.Name, s)}, b.Tags...) {
		ref, err := storage.ParseReference(name)
		if err != nil {
			return build.Options{}, fmt.Errorf("service %q: invalid image name %q: %w", s.Name, name, err)
		}
		o.Tags = append(o.Tags, ref)
	}
	return o, nil
}

// unsupportedBuildKeys names the keys of s's build that box does not
// honour, as build.KEY, sorted.
func unsupportedBuildKeys(b *types.BuildConfig) []string {
	var out []string
	add := func(set bool, key string) {
		if set {
			out = append(out, "build."+key)
		}
	}
	add(len(b.Entitlements) > 0, "entitlements")
	add(b.Provenance != "", "provenance")
	add(b.SBOM != "", "sbom")
	add(len(b.SSH) > 0, "ssh")
	add(len(b.CacheFrom) > 0, "cache_from")
	add(len(b.CacheTo) > 0, "cache_to")
	add(len(b.NoCacheFilter) > 0, "no_cache_filter")
	add(len(b.AdditionalContexts) > 0, "additional_contexts")
	add(len(b.ExtraHosts) > 0, "extra_hosts")
	add(b.Isolation != "", "isolation")
	add(len(b.Secrets) > 0, "secrets")
	add(b.ShmSize != 0, "shm_size")
	add(len(b.Ulimits) > 0, "ulimits")
	add(len(b.Platforms) > 0, "platforms")
	add(b.Privileged, "privileged")
	slices.Sort(out)
	return out
}

// buildService builds s's image and returns its id.
func (c *Compose) buildService(ctx context.Context, p *types.Project, s types.ServiceConfig, opts BuildOptions) (string, error) {
	for _, key := range unsupportedBuildKeys(s.Build) {
		c.warnf("service %q: %s is not supported by box yet and is ignored", s.Name, key)
	}
	bo, err := buildOptions(p, s, opts, storage.Version)
	if err != nil {
		return "", err
	}
	if !opts.Quiet && c.BuildOutput != nil {
		bo.Progress, bo.Output = build.Plain(c.BuildOutput), c.BuildOutput
	}
	name := ImageName(p.Name, s)
	c.progress("Image", name, "Building")
	rep, err := c.Engine.Build(ctx, bo)
	if err != nil {
		return "", &BuildError{Service: s.Name, Err: err}
	}
	c.progress("Image", name, "Built")
	return rep.ID, nil
}

// Build builds the image of every selected service that has build:, in
// start order, and stops at the first that fails. A selection with
// nothing to build warns as Docker Compose does.
func (c *Compose) Build(ctx context.Context, p *types.Project, opts BuildOptions) error {
	names, err := selected(p, opts.Services)
	if err != nil {
		return err
	}
	built := 0
	for _, name := range names {
		s := p.Services[name]
		if s.Build == nil {
			continue
		}
		if _, err := c.buildService(ctx, p, s, opts); err != nil {
			return err
		}
		built++
	}
	if built == 0 {
		c.warnf("No services to build")
	}
	return nil
}

// mustPull says whether up pulls s's image before it makes containers,
// as Docker Compose's mustPull does: a service with only build: never,
// pull_policy always always, never and build never, otherwise when the
// store lacks the image.
func mustPull(s types.ServiceConfig, present bool) bool {
	if s.Image == "" {
		return false
	}
	switch s.PullPolicy {
	case types.PullPolicyAlways:
		return true
	case types.PullPolicyNever, types.PullPolicyBuild:
		return false
	}
	return !present
}

// mustBuild says whether up builds s's image: pull_policy build and
// --build always, --no-build never, otherwise when the store lacks it.
func mustBuild(s types.ServiceConfig, present bool, policy BuildPolicy) bool {
	if s.Build == nil || policy == BuildNever {
		return false
	}
	return policy == BuildAlways || s.PullPolicy == types.PullPolicyBuild || !present
}

// ensureImages puts every service's image in the store before up makes
// anything, as Docker Compose does: pulls first (a buildable service's
// failed pull falls back to its build), then builds. A build that fails
// stops up before any network, volume or container is made. Each
// service then names its image (PROJECT-SERVICE for a built one) and
// carries the image's id in LabelImage, so that a rebuilt image
// recreates its containers; its pull policy becomes never, since there
// is nothing left to pull.
func (c *Compose) ensureImages(ctx context.Context, p *types.Project, policy BuildPolicy) error {
	names := slices.Sorted(maps.Keys(p.Services))
	for _, name := range names {
		s := p.Services[name]
		if s.Image == "" && s.Build == nil {
			return fmt.Errorf("service %q has neither an image nor a build context specified: invalid compose project", name)
		}
		if _, err := pullPolicy(s.PullPolicy); err != nil && s.PullPolicy != types.PullPolicyBuild {
			return fmt.Errorf("service %q: pull_policy: %w", name, err)
		}
	}
	// ids are the images in hand, by name: what the store has, then
	// what was pulled, then what was built.
	ids := map[string]string{}
	lookup := func(img string) (string, bool) {
		if id, ok := ids[img]; ok {
			return id, true
		}
		id, ok := c.imageID(img)
		return id, ok
	}
	pulled := map[string]bool{}
	for _, name := range names {
		s := p.Services[name]
		_, present := lookup(s.Image)
		if !mustPull(s, present) || pulled[s.Image] {
			continue
		}
		pulled[s.Image] = true
		id, err := c.pull(ctx, s.Image, s.Platform)
		switch {
		case err == nil:
			ids[s.Image] = id
		case s.Build == nil:
			c.progress("Image", s.Image, "Error")
			return fmt.Errorf("service %q: %w", name, err)
		default:
			// Docker Compose's fallback: the image can be built.
			c.progress("Image", s.Image, "Warning "+err.Error())
		}
	}
	built := map[string]bool{}
	for _, name := range names {
		s := p.Services[name]
		img := ImageName(p.Name, s)
		_, present := lookup(img)
		if built[img] || !mustBuild(s, present, policy) {
			continue
		}
		id, err := c.buildService(ctx, p, s, BuildOptions{})
		if err != nil {
			return err
		}
		ids[img], built[img] = id, true
	}
	for _, name := range names {
		s := p.Services[name]
		img := ImageName(p.Name, s)
		id, present := lookup(img)
		if !present {
			why := "its pull_policy is never"
			if s.Build != nil {
				why = "it is built by up, but --no-build was given (run compose build first)"
			}
			return &MissingImageError{Service: name, Image: img, Why: why}
		}
		s.Image = img
		s.PullPolicy = types.PullPolicyNever
		if s.CustomLabels == nil {
			s.CustomLabels = types.Labels{}
		}
		s.CustomLabels[LabelImage] = "sha256:" + id
		p.Services[name] = s
	}
	return nil
}

// imageID is the id of the image the store names name.
func (c *Compose) imageID(name string) (string, bool) {
	img, err := c.Engine.Store.LookupImage(name)
	if err != nil {
		return "", false
	}
	return img.ID, true
}

// pull pulls image and returns its id, telling Progress.
func (c *Compose) pull(ctx context.Context, image, platform string) (string, error) {
	ref, err := storage.ParseReference(image)
	if err != nil {
		return "", err
	}
	c.progress("Image", image, "Pulling")
	rep, err := c.Engine.Store.Pull(ctx, ref, storage.PullOptions{Platform: platform})
	if err != nil {
		return "", err
	}
	c.progress("Image", image, "Pulled")
	return rep.ID, nil
}

// PullOptions are compose pull's choices.
type PullOptions struct {
	// Services are the services pulled; none means all of the project.
	Services []string
	// IgnoreFailures pulls what it can and returns no error for the rest.
	IgnoreFailures bool
	// IgnoreBuildable skips services that have build:.
	IgnoreBuildable bool
}

// Pull pulls the image of every selected service that names one, as
// Docker Compose does: a service with only build: is skipped, and one
// whose pull_policy is never or build too, or missing when the store
// has the image and its tag is not latest; an image two services share
// is pulled once. A failed pull stops the others unless the service can
// be built (it is then named in a warning) or IgnoreFailures.
func (c *Compose) Pull(ctx context.Context, p *types.Project, opts PullOptions) error {
	names, err := selected(p, opts.Services)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	var errs []error
	var mustBuild []string
	for _, name := range names {
		s := p.Services[name]
		switch {
		case s.Image == "":
			c.progress("Service", name, "Skipped - No image to be pulled")
			continue
		case s.PullPolicy == types.PullPolicyNever || s.PullPolicy == types.PullPolicyBuild:
			c.progress("Image", s.Image, "Skipped")
			continue
		case (s.PullPolicy == types.PullPolicyMissing || s.PullPolicy == types.PullPolicyIfNotPresent) && !latestTag(s.Image):
			if _, ok := c.imageID(s.Image); ok {
				c.progress("Image", s.Image, "Skipped - Image is already present locally")
				continue
			}
		case s.Build != nil && opts.IgnoreBuildable:
			c.progress("Image", s.Image, "Skipped - Image can be built")
			continue
		case done[s.Image]:
			continue
		}
		done[s.Image] = true
		if _, err := c.pull(ctx, s.Image, s.Platform); err != nil {
			c.progress("Image", s.Image, "Error")
			err = fmt.Errorf("service %q: %w", name, err)
			if s.Build != nil {
				mustBuild = append(mustBuild, name)
			} else if !opts.IgnoreFailures {
				return err
			}
			errs = append(errs, err)
		}
	}
	if len(mustBuild) > 0 {
		c.warnf("WARNING: Some service image(s) must be built from source by running:\n    docker compose build %s", strings.Join(mustBuild, " "))
	}
	if opts.IgnoreFailures {
		return nil
	}
	return errors.Join(errs...)
}

// latestTag says whether image names no tag or digest, or the tag
// latest: pull_policy missing still pulls it on compose pull, as Docker
// Compose does.
func latestTag(image string) bool {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return false
	}
	if _, ok := ref.(reference.Digested); ok {
		return false
	}
	t, ok := ref.(reference.Tagged)
	return !ok || t.Tag() == "latest"
}

// PushOptions are compose push's choices.
type PushOptions struct {
	// Services are the services pushed; none means all of the project.
	Services []string
	// IgnoreFailures pushes what it can and returns no error for the
	// rest.
	IgnoreFailures bool
}

// Push pushes the image of every selected service that builds one and
// names it (image: beside build:), with build.tags, as Docker Compose
// does; other services are skipped.
func (c *Compose) Push(ctx context.Context, p *types.Project, opts PushOptions) error {
	names, err := selected(p, opts.Services)
	if err != nil {
		return err
	}
	for _, name := range names {
		s := p.Services[name]
		if s.Build == nil || s.Image == "" {
			c.progress("Service", name, "Skipped")
			continue
		}
		for _, tag := range append([]string{s.Image}, s.Build.Tags...) {
			c.progress("Image", tag, "Pushing")
			if _, err := c.Engine.Store.Push(ctx, tag, storage.PushOptions{}); err != nil {
				if !opts.IgnoreFailures {
					c.progress("Image", tag, "Error")
					return fmt.Errorf("service %q: push %s: %w", name, tag, err)
				}
				c.warnf("service %q: push %s: %v", name, tag, err)
				continue
			}
			c.progress("Image", tag, "Pushed")
		}
	}
	return nil
}

// RemoveImages is what down --rmi removes.
type RemoveImages string

const (
	// RemoveImagesLocal removes the images compose built for the
	// project's services (labelled with the project), and those named
	// PROJECT-SERVICE, never an image it pulled.
	RemoveImagesLocal RemoveImages = "local"
	// RemoveImagesAll removes those and every image a service names.
	RemoveImagesAll RemoveImages = "all"
)

// imagesToRemove are the names down --rmi removes, as Docker Compose's
// image pruner finds them, sorted and without duplicates.
func (c *Compose) imagesToRemove(p *types.Project, mode RemoveImages) ([]string, error) {
	var out []string
	if mode == RemoveImagesAll {
		for _, s := range p.Services {
			if s.Image != "" {
				out = append(out, s.Image)
			}
		}
	}
	list, err := c.Engine.Store.Images()
	if err != nil {
		return nil, err
	}
	for _, img := range list {
		labels := img.Config.Config.Labels
		if labels[LabelProject] != p.Name || len(img.Names) == 0 {
			continue
		}
		if _, ok := p.Services[labels[LabelService]]; ok || ByName(p) {
			out = append(out, img.Names[0])
		}
	}
	for _, s := range p.Services {
		if s.Image == "" {
			out = append(out, ImageName(p.Name, s))
		}
	}
	var names []string
	for _, n := range out {
		if _, ok := c.imageID(n); !ok {
			continue
		}
		ref, err := storage.ParseReference(n)
		if err != nil {
			continue
		}
		names = append(names, storage.FamiliarString(ref))
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// removeImages removes what down --rmi asks for; an image a container
// still uses is named in a warning and kept.
func (c *Compose) removeImages(p *types.Project, mode RemoveImages) error {
	if mode == "" {
		return nil
	}
	names, err := c.imagesToRemove(p, mode)
	if err != nil {
		return err
	}
	for _, n := range names {
		c.progress("Image", n, "Removing")
		if _, err := c.Engine.Store.RemoveImage(n, false, nil); err != nil {
			if errors.Is(err, storage.ErrImageNotFound) {
				continue
			}
			c.warnf("image %s: %v", n, err)
			continue
		}
		c.progress("Image", n, "Removed")
	}
	return nil
}
