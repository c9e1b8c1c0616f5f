package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	istorage "go.podman.io/image/v5/storage"
	itypes "go.podman.io/image/v5/types"
)

// ErrImageNotFound marks a name or id that matches no image, locally or
// in the registry asked.
var ErrImageNotFound = errors.New("no such image")

// NotFoundError says which reference was missing and where box looked.
type NotFoundError struct {
	Ref      string
	Registry string // empty for the local store
	Err      error
}

func (e *NotFoundError) Error() string {
	if e.Registry == "" {
		return fmt.Sprintf("no such image: %s", e.Ref)
	}
	return fmt.Sprintf("%s: not found in registry %s", e.Ref, e.Registry)
}

func (e *NotFoundError) Unwrap() error { return ErrImageNotFound }

// ErrRegistryUnreachable marks a registry that did not answer in time.
var ErrRegistryUnreachable = errors.New("registry unreachable")

// ProgressKind says what happened to a blob during a pull.
type ProgressKind int

const (
	// BlobStarted: the blob's download began.
	BlobStarted ProgressKind = iota
	// BlobProgress: Offset of Size bytes have arrived.
	BlobProgress
	// BlobDone: the blob is downloaded and stored.
	BlobDone
	// BlobSkipped: the store had the blob already ("Already exists").
	BlobSkipped
)

// Progress is one event of a pull; ID is Docker's 12-character short
// digest of the blob.
type Progress struct {
	Kind         ProgressKind
	ID           string
	Offset, Size int64
	IsConfig     bool
}

// PullOptions tune Pull.
type PullOptions struct {
	// Platform is "os/arch[/variant]"; empty means the host's.
	Platform string
	// Progress, when set, receives blob events from one goroutine.
	Progress func(Progress)
	// ConnectTimeout bounds the time before the first blob starts
	// (resolving, authenticating, fetching the manifest); zero means 20s.
	ConnectTimeout time.Duration
}

// PullReport says what one pull stored.
type PullReport struct {
	Ref    reference.Named // fully qualified, tagged or digested
	ID     string          // image id (config digest, hex)
	Digest digest.Digest   // manifest digest, as the registry serves it
}

// Pull copies ref from its registry into the store, resolving a
// multi-arch index to the requested platform. Layers already stored are
// not fetched again. A failed or interrupted pull registers no image.
func (s *Store) Pull(ctx context.Context, ref reference.Named, opts PullOptions) (*PullReport, error) {
	sys := *s.sys
	if opts.Platform != "" {
		if err := applyPlatform(&sys, opts.Platform); err != nil {
			return nil, err
		}
	}
	srcRef, err := docker.NewReference(ref)
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error()}
	}
	dstRef, err := istorage.Transport.ParseStoreReference(s.s, ref.String())
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	policy, err := policyContext(&sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()

	// Until the first blob starts, a registry that does not answer must
	// fail the pull within seconds instead of hanging on TCP timeouts.
	timeout := opts.ConnectTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var startOnce sync.Once
	stall := time.AfterFunc(timeout, func() {
		cancel(fmt.Errorf("%w: %s did not answer within %s", ErrRegistryUnreachable, reference.Domain(ref), timeout))
	})
	defer stall.Stop()

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

	manifestBytes, err := copy.Image(ctx, policy, dstRef, srcRef, &copy.Options{
		SourceCtx:        &sys,
		DestinationCtx:   &sys,
		Progress:         events,
		ProgressInterval: 100 * time.Millisecond,
		// Layers from the same registry; more parallelism than this only
		// fights over the disk on small machines.
		MaxParallelDownloads: 4,
	})
	close(events)
	<-done
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, ErrRegistryUnreachable) {
			return nil, fmt.Errorf("pull %s: %w", ref, cause)
		}
		return nil, classifyPullError(ref, err)
	}
	mdigest, err := manifest.Digest(manifestBytes)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	img, err := istorage.Transport.GetStoreImage(s.s, dstRef)
	if err != nil {
		return nil, fmt.Errorf("pull %s: find stored image: %w", ref, err)
	}
	return &PullReport{Ref: ref, ID: img.ID, Digest: mdigest}, nil
}

// ListTags returns the tags the registry has for ref's repository.
func (s *Store) ListTags(ctx context.Context, ref reference.Named) ([]string, error) {
	srcRef, err := docker.NewReference(reference.TrimNamed(ref))
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tags, err := docker.GetRepositoryTags(ctx, s.sys, srcRef)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("list tags of %s: %w: %s did not answer", ref.Name(), ErrRegistryUnreachable, reference.Domain(ref))
		}
		return nil, classifyPullError(reference.TrimNamed(ref), err)
	}
	return tags, nil
}

func toProgress(ev itypes.ProgressProperties) Progress {
	p := Progress{ID: shortDigest(ev.Artifact.Digest), Offset: int64(ev.Offset), Size: ev.Artifact.Size}
	p.IsConfig = strings.Contains(ev.Artifact.MediaType, "config")
	switch ev.Event {
	case itypes.ProgressEventNewArtifact:
		p.Kind = BlobStarted
	case itypes.ProgressEventRead:
		p.Kind = BlobProgress
	case itypes.ProgressEventDone:
		p.Kind = BlobDone
	case itypes.ProgressEventSkipped:
		p.Kind = BlobSkipped
	}
	return p
}

func shortDigest(d digest.Digest) string {
	h := d.Encoded()
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// classifyPullError turns the registry's "no such manifest/repository"
// answers into a NotFoundError naming the registry asked.
func classifyPullError(ref reference.Named, err error) error {
	var ec errcode.ErrorCoder
	if errors.As(err, &ec) {
		switch ec.ErrorCode() {
		case v2.ErrorCodeManifestUnknown, v2.ErrorCodeNameUnknown:
			return &NotFoundError{Ref: FamiliarString(ref), Registry: reference.Domain(ref), Err: err}
		}
	}
	var unexpected docker.UnexpectedHTTPStatusError
	if errors.As(err, &unexpected) && unexpected.StatusCode == 404 {
		return &NotFoundError{Ref: FamiliarString(ref), Registry: reference.Domain(ref), Err: err}
	}
	return fmt.Errorf("pull %s: %w", FamiliarString(ref), err)
}

// applyPlatform sets the platform choice ("os/arch[/variant]") on sys.
func applyPlatform(sys *itypes.SystemContext, platform string) error {
	parts := strings.Split(platform, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("invalid platform %q: want os/arch[/variant], e.g. linux/%s", platform, runtime.GOARCH)
	}
	sys.OSChoice, sys.ArchitectureChoice = parts[0], parts[1]
	if len(parts) == 3 {
		sys.VariantChoice = parts[2]
	}
	return nil
}
