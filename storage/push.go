package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/pkg/docker/config"
	istorage "go.podman.io/image/v5/storage"
	itypes "go.podman.io/image/v5/types"
)

// BlobPreparing: the blob is one the push will send or find at the
// registry (Docker's "Preparing"); it comes before any other event.
const BlobPreparing = BlobSkipped + 1

// ErrNoLocalTag marks a push of a name no local image carries.
var ErrNoLocalTag = errors.New("an image does not exist locally with the tag")

// NoLocalTagError is Docker's refusal to push a name that is not stored.
type NoLocalTagError struct{ Name string }

func (e *NoLocalTagError) Error() string {
	return "An image does not exist locally with the tag: " + e.Name
}

func (e *NoLocalTagError) Unwrap() error { return ErrNoLocalTag }

// PushAuthError is a registry's refusal of a push: no credentials, the
// wrong ones, or an account that may not write the repository. Message
// is what the registry said; the credentials themselves never appear.
type PushAuthError struct {
	Registry string
	Repo     string
	// User is the account box presented; empty when it found none.
	User    string
	Denied  bool
	Message string
	Err     error
}

func (e *PushAuthError) Error() string {
	switch {
	case e.User == "":
		return fmt.Sprintf("registry %s refused the push to %s: %s (no credentials for %s: log in with box login %s)", e.Registry, e.Repo, e.Message, e.Registry, e.Registry)
	case e.Denied:
		return fmt.Sprintf("registry %s refused the push to %s by user %q: %s", e.Registry, e.Repo, e.User, e.Message)
	}
	return fmt.Sprintf("registry %s rejected the credentials of user %q: %s (box login %s stores new ones)", e.Registry, e.User, e.Message, e.Registry)
}

func (e *PushAuthError) Unwrap() []error { return []error{ErrUnauthorized, e.Err} }

// PushOptions tune Push.
type PushOptions struct {
	// Destination is where the image goes; nil means the name pushed.
	Destination reference.Named
	// SkipTLSVerify talks to the registry over plain http or without
	// checking its certificate (--tls-verify=false); registries.conf's
	// insecure registries get that anyway.
	SkipTLSVerify bool
	// Progress, when set, receives blob events from one goroutine:
	// BlobPreparing for every layer first, then as Pull's.
	Progress func(Progress)
	// ConnectTimeout bounds the time before the first blob event, as
	// PullOptions.ConnectTimeout does.
	ConnectTimeout time.Duration
}

// PushReport says what one push wrote.
type PushReport struct {
	Ref    reference.Named // the destination, tagged
	Digest digest.Digest   // of the manifest written
	Size   int             // of the manifest written, in bytes
	// Preserved is set when the stored manifest went out unchanged, so
	// that the image keeps the digest it was pulled with.
	Preserved bool
}

// Push copies the image named name (a Docker-style reference carried by
// a stored image) to its registry, or to opts.Destination.
//
// The store keeps layers unpacked, not the compressed blobs a pull
// fetched. When every compressed layer of the stored manifest is already
// in the destination registry (pushed there before, or mountable from
// another repository of that registry the image was pulled from), the
// stored manifest goes out byte for byte and the image keeps its digest.
// Otherwise the layers are compressed anew with gzip, as Docker's and
// Podman's pushes do, and the manifest gets a new digest; the blob info
// cache then remembers the new blobs, so a second push of the image
// sends nothing and yields the same digest. A push killed midway leaves
// only unfinished uploads at the registry, which the next push ignores.
//
// After a push of one of the image's own names, the image is also named
// repo@digest, so that RepoDigests show it as Docker's do.
//
// Errors: *NoLocalTagError, *ReferenceError, *PushAuthError,
// *UnreachableError and *NotFoundError (wrapped with the reference),
// ctx's error when ctx ends, and others from the registry or the store.
func (s *Store) Push(ctx context.Context, name string, opts PushOptions) (*PushReport, error) {
	src, err := ParseReference(name)
	if err != nil {
		return nil, err
	}
	img, err := s.byName(src)
	if errors.Is(err, ErrImageNotFound) {
		return nil, &NoLocalTagError{Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	dst := opts.Destination
	if dst == nil {
		dst = src
	}
	if _, ok := dst.(reference.Digested); ok {
		return nil, &ReferenceError{Ref: dst.String(), Reason: "cannot push to a digest reference"}
	}
	dst = reference.TagNameOnly(dst)
	familiar := FamiliarString(dst)

	timeout, err := connectTimeout(opts.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	sys := *s.sys
	if opts.SkipTLSVerify {
		sys.DockerInsecureSkipTLSVerify = itypes.OptionalBoolTrue
	}
	allowLoopbackHTTP(&sys, reference.Domain(dst))
	dstRef, err := docker.NewReference(dst)
	if err != nil {
		return nil, &ReferenceError{Ref: dst.String(), Reason: err.Error()}
	}
	srcRef, err := istorage.Transport.ParseStoreReference(s.s, "@"+img.ID)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", familiar, err)
	}
	policy, err := policyContext(&sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()
	// Layers leave the store through temporary files; keep them inside
	// it, where a killed push's are cleaned up by the next transfer.
	tmp, err := s.pullTempDir()
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", familiar, err)
	}
	defer tmp.remove()
	sys.BigFilesTemporaryDir = tmp.dir

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var startOnce sync.Once
	stall := time.AfterFunc(timeout, func() {
		cancel(&UnreachableError{Registry: reference.Domain(dst), Timeout: timeout})
	})
	defer stall.Stop()
	fail := func(err error) error {
		var unreachable *UnreachableError
		if cause := context.Cause(ctx); errors.As(cause, &unreachable) && cause != ctx.Err() {
			return fmt.Errorf("push %s: %w", familiar, cause)
		}
		return s.explainPushError(ctx, &sys, dst, err)
	}

	stored, err := s.pushPlan(ctx, &sys, srcRef, dstRef)
	if err != nil {
		return nil, fail(err)
	}
	preserve := stored.reusable()
	prepared := stored.layers
	if !preserve {
		prepared = stored.uncompressed
	}
	if opts.Progress != nil {
		for _, l := range prepared {
			opts.Progress(Progress{Kind: BlobPreparing, ID: shortDigest(l.Digest), Size: l.Size})
		}
	}

	events := make(chan itypes.ProgressProperties, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			startOnce.Do(func() { stall.Stop() })
			if opts.Progress != nil {
				opts.Progress(toProgress(ev))
			}
		}
	}()
	// Layers are read back rooted in their directories (layerread_linux.go).
	source := s.rootedLayers(srcRef, img.ID)
	if preserve {
		source = &storedManifestRef{ImageReference: source}
	}
	written, err := copy.Image(ctx, policy, dstRef, source, &copy.Options{
		SourceCtx:        &sys,
		DestinationCtx:   &sys,
		Progress:         events,
		ProgressInterval: 100 * time.Millisecond,
		PreserveDigests:  preserve,
		// A box image is one platform: the manifest the store holds for
		// it, never an index pulled alongside.
		ImageListSelection:   copy.CopySystemImage,
		MaxParallelDownloads: 4,
	})
	close(events)
	<-done
	stall.Stop()
	if err != nil {
		return nil, fail(err)
	}
	d, err := manifest.Digest(written)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", familiar, err)
	}
	s.recordPush(img.ID, dst, d)
	s.imageEvent("push", img.ID, familiar)
	return &PushReport{Ref: dst, Digest: d, Size: len(written), Preserved: preserve && d == stored.digest}, nil
}

// pushPlan is what Push learns before copying: the stored manifest's
// layers and which of them can go out as they are.
type pushPlan struct {
	digest digest.Digest // of the stored manifest
	// layers are the stored manifest's layers; uncompressed are the same
	// as the store can produce them (the diff ids), for a push that
	// compresses anew.
	layers, uncompressed []itypes.BlobInfo
	// missing counts compressed layers neither the store can produce
	// byte for byte nor the destination has.
	missing int
}

func (p *pushPlan) reusable() bool { return p.missing == 0 }

// pushPlan reads the stored manifest and asks the destination for each
// compressed layer the store cannot reproduce. Asking may mount the blob
// from another repository of the same registry the blob info cache knows
// it in, which is a step the push would take anyway.
func (s *Store) pushPlan(ctx context.Context, sys *itypes.SystemContext, srcRef, dstRef itypes.ImageReference) (*pushPlan, error) {
	src, err := srcRef.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	raw, mimeType, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, err
	}
	if manifest.MIMETypeIsMultiImage(mimeType) {
		return nil, fmt.Errorf("the stored manifest is a list (%s)", mimeType)
	}
	m, err := manifest.FromBlob(raw, mimeType)
	if err != nil {
		return nil, err
	}
	plan := &pushPlan{}
	if plan.digest, err = manifest.Digest(raw); err != nil {
		return nil, err
	}
	for _, l := range m.LayerInfos() {
		plan.layers = append(plan.layers, l.BlobInfo)
	}
	if plan.uncompressed, err = src.LayerInfosForCopy(ctx, nil); err != nil {
		return nil, err
	}
	if plan.uncompressed == nil {
		plan.uncompressed = plan.layers
	}
	if len(plan.uncompressed) != len(plan.layers) {
		// Empty layers dropped or some such: nothing to match one for one.
		plan.missing = len(plan.layers)
		return plan, nil
	}
	var dest itypes.ImageDestination
	cache := blobinfocache.DefaultCache(sys)
	for i, l := range plan.layers {
		if l.Digest == plan.uncompressed[i].Digest {
			continue // stored uncompressed: the store gives these bytes back
		}
		if dest == nil {
			if dest, err = dstRef.NewImageDestination(ctx, sys); err != nil {
				return nil, err
			}
			defer dest.Close()
		}
		ok, _, err := dest.TryReusingBlob(ctx, l, cache, false)
		if err != nil {
			return nil, err
		}
		if !ok {
			plan.missing++
		}
	}
	return plan, nil
}

// storedManifestRef is a store reference whose source offers the stored
// manifest's own layers for copying instead of the unpacked ones, so
// that copy leaves the manifest as it is. It is used only when every
// such layer is already at the destination or stored uncompressed.
type storedManifestRef struct {
	itypes.ImageReference
}

func (r *storedManifestRef) NewImageSource(ctx context.Context, sys *itypes.SystemContext) (itypes.ImageSource, error) {
	src, err := r.ImageReference.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	return &storedManifestSource{ImageSource: src}, nil
}

type storedManifestSource struct {
	itypes.ImageSource
}

// LayerInfosForCopy says: the manifest's layers, unchanged.
func (s *storedManifestSource) LayerInfosForCopy(context.Context, *digest.Digest) ([]itypes.BlobInfo, error) {
	return nil, nil
}

// recordPush names the image repo@digest after a push of one of its own
// repositories, as Docker adds the pushed digest to RepoDigests. Failing
// to record it leaves the push done, so errors are dropped.
func (s *Store) recordPush(id string, dst reference.Named, d digest.Digest) {
	img, err := s.s.Image(id)
	if err != nil {
		return
	}
	own := false
	for _, n := range img.Names {
		if named, err := reference.ParseNormalizedNamed(n); err == nil && named.Name() == dst.Name() {
			own = true
		}
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(dst), d)
	if !own || err != nil {
		return
	}
	if wrapped, err := s.wrap(img); err == nil && slices.Contains(wrapped.RepoDigests(), FamiliarString(canonical)) {
		return
	}
	_ = s.s.AddNames(id, []string{canonical.String()})
}

// LocalTags lists the tagged names of stored images in ref's repository,
// sorted: what `push --all-tags` sends.
func (s *Store) LocalTags(ref reference.Named) ([]reference.Named, error) {
	imgs, err := s.s.Images()
	if err != nil {
		return nil, err
	}
	var out []reference.Named
	for _, img := range imgs {
		for _, n := range img.Names {
			named, err := reference.ParseNormalizedNamed(n)
			if err != nil || named.Name() != ref.Name() {
				continue
			}
			if t, ok := named.(reference.NamedTagged); ok {
				if _, digested := named.(reference.Digested); !digested {
					out = append(out, t)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// explainPushError turns what the image library returned for a failed
// push into one of storage's typed errors when it can tell what went
// wrong.
func (s *Store) explainPushError(ctx context.Context, sys *itypes.SystemContext, ref reference.Named, err error) error {
	name := FamiliarString(ref)
	if ctx.Err() != nil {
		return fmt.Errorf("push %s: %w", name, ctx.Err())
	}
	host := reference.Domain(ref)
	switch kind := failureOf(err); kind {
	case failUnauthorized, failDenied:
		user := ""
		if creds, cerr := config.GetCredentialsForRef(sys, ref); cerr == nil {
			user = creds.Username
			if user == "" && creds.IdentityToken != "" {
				user = "<identity token>"
			}
		}
		return fmt.Errorf("push %s: %w", name, &PushAuthError{
			Registry: host, Repo: ref.Name(), User: user, Denied: kind == failDenied,
			Message: registryMessage(err), Err: err,
		})
	case failUnreachable:
		return fmt.Errorf("push %s: %w", name, &UnreachableError{Registry: host, Err: err})
	case failNotFound:
		return fmt.Errorf("push %s: %w", name, &NotFoundError{Ref: ref.String(), Registry: host, Err: err})
	}
	return fmt.Errorf("push %s: %w", name, &oneLineError{err})
}

// registryMessage is a registry's refusal in Docker's words, as
// "unauthorized: authentication required": the code and the registry's
// message, or the code's standard message when the library kept only
// the code.
func registryMessage(err error) string {
	var creds docker.ErrUnauthorizedForCredentials
	if errors.As(err, &creds) && creds.Err != nil {
		err = creds.Err
	}
	var e errcode.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	var code errcode.ErrorCode
	if errors.As(err, &code) {
		return code.Error() + ": " + code.Message()
	}
	return shortCause(err)
}
