package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	istorage "go.podman.io/image/v5/storage"
	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
)

// ErrImageNotFound marks a name or id that matches no image, locally or
// in the registry asked.
var ErrImageNotFound = errors.New("no such image")

// NotFoundError says which reference was missing and where box looked.
type NotFoundError struct {
	Ref      string
	Registry string // empty for the local store
	// Mirrors are the registries.conf mirrors of Registry that were asked
	// first and did not have the image either.
	Mirrors []string
	// Upstream, when set, is why Registry itself gave no answer: only its
	// mirrors said "not found".
	Upstream error
	Err      error
}

func (e *NotFoundError) Error() string {
	switch {
	case e.Registry == "":
		return fmt.Sprintf("no such image: %s", e.Ref)
	case len(e.Mirrors) == 0:
		return fmt.Sprintf("%s: not found in registry %s", e.Ref, e.Registry)
	case e.Upstream == nil:
		return fmt.Sprintf("%s: not found in registry %s nor in its mirror %s", e.Ref, e.Registry, strings.Join(e.Mirrors, ", "))
	}
	return fmt.Sprintf("%s: not found in mirror %s of %s (%s itself: %s)", e.Ref, strings.Join(e.Mirrors, ", "), e.Registry, e.Registry, shortCause(e.Upstream))
}

func (e *NotFoundError) Unwrap() error { return ErrImageNotFound }

// ErrRegistryUnreachable marks a registry that could not be reached or
// did not answer in time.
var ErrRegistryUnreachable = errors.New("registry unreachable")

// UnreachableError says which registry did not answer and why.
type UnreachableError struct {
	Registry string
	// Timeout is set when box gave up waiting for an answer.
	Timeout time.Duration
	// Mirrors notes what each registries.conf mirror asked first said.
	Mirrors []string
	Err     error
}

func (e *UnreachableError) Error() string {
	var msg string
	switch {
	case e.Timeout > 0:
		msg = fmt.Sprintf("registry %s did not answer within %s (set BOX_REGISTRY_TIMEOUT to wait longer)", e.Registry, e.Timeout)
	case e.Err != nil:
		msg = fmt.Sprintf("registry %s unreachable: %s", e.Registry, shortCause(e.Err))
	default:
		msg = fmt.Sprintf("registry %s unreachable", e.Registry)
	}
	if len(e.Mirrors) > 0 {
		msg += "; mirror " + strings.Join(e.Mirrors, "; mirror ")
	}
	return msg
}

func (e *UnreachableError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRegistryUnreachable}
	}
	return []error{ErrRegistryUnreachable, e.Err}
}

// ErrUnauthorized marks a registry that refused box for want of valid
// credentials.
var ErrUnauthorized = errors.New("unauthorized")

// AuthError says which registry refused access and with which account.
type AuthError struct {
	Registry string
	Repo     string // the repository asked, e.g. docker.io/library/alpine
	// User is the account box presented; empty when it found no
	// credentials for Registry.
	User string
	// Denied is the registry's "access denied" answer, which registries
	// also give for repositories that do not exist.
	Denied bool
	Err    error
}

func (e *AuthError) Error() string {
	switch {
	case e.Denied && e.User == "":
		return fmt.Sprintf("pull access denied for %s: the repository does not exist or needs credentials (none found for %s in auth.json or ~/.docker/config.json)", e.Repo, e.Registry)
	case e.Denied:
		return fmt.Sprintf("pull access denied for %s to user %q: the repository does not exist or the account may not read it", e.Repo, e.User)
	case e.User == "":
		return fmt.Sprintf("registry %s requires credentials and none were found for it: add them to $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json or the file named by REGISTRY_AUTH_FILE", e.Registry)
	}
	return fmt.Sprintf("registry %s rejected the credentials of user %q: %s", e.Registry, e.User, shortCause(e.Err))
}

func (e *AuthError) Unwrap() []error { return []error{ErrUnauthorized, e.Err} }

// ErrCorruptBlob marks a blob whose content does not match its digest.
var ErrCorruptBlob = errors.New("corrupt blob")

// CorruptBlobError names the blob that failed verification.
type CorruptBlobError struct {
	Repo   string        // the repository it came from
	Digest digest.Digest // what the manifest promised
	Actual digest.Digest // what arrived
	// DiffID, when set, is the layer's uncompressed digest that the
	// image's config promised, and Actual is what the blob decompressed
	// to.
	DiffID digest.Digest
}

func (e *CorruptBlobError) Error() string {
	if e.DiffID != "" {
		return fmt.Sprintf("layer %s of %s is corrupt: it decompresses to content with digest %s, not the %s its image's config names", e.Digest, e.Repo, e.Actual, e.DiffID)
	}
	return fmt.Sprintf("blob %s of %s is corrupt: its content has digest %s", e.Digest, e.Repo, e.Actual)
}

func (e *CorruptBlobError) Unwrap() error { return ErrCorruptBlob }

// ErrNoPlatform marks a multi-platform image without the platform asked.
var ErrNoPlatform = errors.New("no matching platform")

// PlatformError says which platform was wanted and which ones exist.
type PlatformError struct {
	Want      string
	Available []string
}

func (e *PlatformError) Error() string {
	return fmt.Sprintf("no matching manifest for %s in the manifest list entries (available: %s)", e.Want, strings.Join(e.Available, ", "))
}

func (e *PlatformError) Unwrap() error { return ErrNoPlatform }

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

// DefaultConnectTimeout is how long a pull waits for a registry's first
// answer when neither PullOptions nor $BOX_REGISTRY_TIMEOUT says otherwise.
const DefaultConnectTimeout = 20 * time.Second

// PullOptions tune Pull.
type PullOptions struct {
	// Platform is "os/arch[/variant]"; empty means the host's.
	Platform string
	// Progress, when set, receives blob events from one goroutine.
	Progress func(Progress)
	// ConnectTimeout bounds the time before the first blob starts
	// (resolving, authenticating, fetching the manifest); zero means
	// $BOX_REGISTRY_TIMEOUT (a Go duration such as "45s") when set, else
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// PullReport says what one pull stored.
type PullReport struct {
	Ref reference.Named // fully qualified, tagged or digested
	ID  string          // image id (config digest, hex)
	// Digest is the digest of the manifest Ref names in the registry:
	// for a multi-platform image, the index's, as Docker prints it.
	Digest digest.Digest
	// UpToDate is set when Ref already named this very image before the
	// pull (Docker's "Image is up to date").
	UpToDate bool
	// Warnings are things the user should know although the pull worked,
	// such as a single-platform image that is not for the platform asked.
	Warnings []string
}

// Pull copies ref from its registry into the store, resolving a
// multi-arch index to the requested platform. Layers already stored are
// not fetched again, and every blob is verified against its digest. A
// failed or interrupted pull registers no image; blobs it downloaded are
// kept in a per-pull directory inside the store that is removed when the
// pull ends or, after a crash, by the next pull.
//
// Missing layers are unpacked as they arrive, decompressed once
// (pullstream.go). Every layer's entries are checked as the store unpacks
// it (see layerpath.go and pulllayer.go); a refused one fails the pull,
// and the layers stored before it go too. A layer that decompresses to
// something else than its image's config says is not kept.
//
// Errors: *ReferenceError, *NotFoundError, *UnreachableError, *AuthError,
// *CorruptBlobError, *BlobSizeError, *LayerEntryError,
// *LayerMediaTypeError and *PlatformError (each wrapped with the
// reference), ctx's error when ctx ends, and others from the registry or
// the store.
func (s *Store) Pull(ctx context.Context, ref reference.Named, opts PullOptions) (*PullReport, error) {
	sys := *s.sys
	if opts.Platform != "" {
		if err := applyPlatform(&sys, opts.Platform); err != nil {
			return nil, err
		}
	}
	timeout, err := connectTimeout(opts.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	dockerRef, err := docker.NewReference(ref)
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error()}
	}
	dstRef, err := istorage.Transport.ParseStoreReference(&pullStore{Store: s.s}, ref.String())
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", FamiliarString(ref), err)
	}
	policy, err := policyContext(&sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()

	tmp, err := s.pullTempDir()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", FamiliarString(ref), err)
	}
	defer tmp.remove()
	sys.BigFilesTemporaryDir = tmp.dir

	before := s.imageIDFor(ref)

	// Until the first blob starts, a registry that does not answer must
	// fail the pull within seconds instead of hanging on TCP timeouts.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var startOnce sync.Once
	stall := time.AfterFunc(timeout, func() {
		cancel(&UnreachableError{Registry: reference.Domain(ref), Timeout: timeout})
	})
	defer stall.Stop()

	// Progress comes first from streamLayers (own), then from the library
	// (events), which reports the layers own told of as already there.
	own := make(chan itypes.ProgressProperties, 64)
	events := make(chan itypes.ProgressProperties, 64)
	var told map[digest.Digest]bool // written before own is closed
	done := make(chan struct{})
	go func() {
		defer close(done)
		report := func(ev itypes.ProgressProperties) {
			startOnce.Do(func() { stall.Stop() })
			if opts.Progress != nil {
				opts.Progress(toProgress(ev))
			}
		}
		for ev := range own {
			report(ev)
		}
		for ev := range events {
			if ev.Event != itypes.ProgressEventSkipped || !told[ev.Artifact.Digest] {
				report(ev)
			}
		}
	}()

	src := &checkedRef{ImageReference: dockerRef, named: ref, repo: ref.Name()}
	start := time.Now()
	var stored itypes.ImageReference
	told, err = s.streamLayers(ctx, &sys, policy, src, tmp.dir, own)
	close(own)
	if err == nil {
		_, err = copy.Image(ctx, policy, dstRef, src, &copy.Options{
			ReportResolvedReference: &stored,
			SourceCtx:               &sys,
			DestinationCtx:          &sys,
			Progress:                events,
			ProgressInterval:        100 * time.Millisecond,
			// Layers from the same registry; more parallelism than this only
			// fights over the disk on small machines.
			MaxParallelDownloads: maxStreams,
		})
	}
	close(events)
	<-done
	stall.Stop()
	if err != nil {
		var unreachable *UnreachableError
		if cause := context.Cause(ctx); errors.As(cause, &unreachable) && cause != ctx.Err() {
			return nil, fmt.Errorf("pull %s: %w", FamiliarString(ref), cause)
		}
		if errors.Is(err, ErrRefusedLayer) || errors.Is(err, ErrCorruptBlob) {
			s.dropRefusedPull(start, src.servedLayers())
		}
		return nil, s.explainPullError(ctx, &sys, ref, err)
	}
	img, err := storedImage(stored)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", FamiliarString(ref), err)
	}
	rep := &PullReport{Ref: ref, ID: img.ID, Digest: src.topDigest(), UpToDate: before == img.ID}
	if opts.Platform != "" {
		// An index was resolved to the platform asked; a single image is
		// taken whatever it is for, with Docker's warning.
		if got, err := s.LookupImage(img.ID); err == nil {
			if want, actual := wantedPlatform(&sys), platformOf(got.Config.OS, got.Config.Architecture, got.Config.Variant); !platformMatches(want, actual) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s", FamiliarString(ref), want, actual))
			}
		}
	}
	s.imageEvent("pull", img.ID, FamiliarString(ref))
	return rep, nil
}

func platformOf(goos, arch, variant string) string {
	if variant != "" {
		return goos + "/" + arch + "/" + variant
	}
	return goos + "/" + arch
}

// platformMatches compares "os/arch[/variant]" strings; a variant only
// counts when both sides name one.
func platformMatches(want, actual string) bool {
	w, a := strings.Split(want, "/"), strings.Split(actual, "/")
	if len(w) < 2 || len(a) < 2 || w[0] != a[0] || w[1] != a[1] {
		return false
	}
	return len(w) < 3 || len(a) < 3 || w[2] == a[2]
}

// connectTimeout resolves PullOptions.ConnectTimeout.
func connectTimeout(d time.Duration) (time.Duration, error) {
	if d > 0 {
		return d, nil
	}
	v := os.Getenv("BOX_REGISTRY_TIMEOUT")
	if v == "" {
		return DefaultConnectTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid BOX_REGISTRY_TIMEOUT %q: want a positive duration such as 45s", v)
	}
	return d, nil
}

// imageIDFor returns the id of the stored image ref names, or "".
func (s *Store) imageIDFor(ref reference.Named) string {
	img, err := s.lookup(ref.String())
	if err != nil {
		return ""
	}
	return img.ID
}

// ListTags returns the tags the registry (or its first registries.conf
// mirror that answers) has for ref's repository, giving up after timeout
// (zero: as Pull's ConnectTimeout).
func (s *Store) ListTags(ctx context.Context, ref reference.Named, timeout time.Duration) ([]string, error) {
	repo := reference.TrimNamed(ref)
	timeout, err := connectTimeout(timeout)
	if err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tags, mirrors, err := listTagsFrom(tctx, s.sys, ref)
	if err == nil {
		return tags, nil
	}
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case tctx.Err() != nil:
		err = &UnreachableError{Registry: reference.Domain(ref), Timeout: timeout}
	default:
		if e := classifyWith(s.sys, repo, err, mirrors); e != nil {
			if nf, ok := e.(*NotFoundError); ok {
				nf.Ref = repo.Name()
				return nil, nf
			}
			err = e
		}
	}
	return nil, fmt.Errorf("list tags of %s: %w", repo.Name(), err)
}

func toProgress(ev itypes.ProgressProperties) Progress {
	p := Progress{ID: shortDigest(ev.Artifact.Digest), Offset: int64(ev.Offset), Size: ev.Artifact.Size}
	mt := ev.Artifact.MediaType
	p.IsConfig = mt == manifest.DockerV2Schema2ConfigMediaType || strings.Contains(mt, "config")
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

// shortDigest is d's first 12 hex digits, as Docker shows a layer; "" for
// a digest the caller was not told (Encoded panics on one without a ':').
func shortDigest(d digest.Digest) string {
	_, h, _ := strings.Cut(string(d), ":")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// applyPlatform sets the platform choice ("os/arch[/variant]") on sys.
func applyPlatform(sys *itypes.SystemContext, platform string) error {
	parts := strings.Split(platform, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || len(parts) == 3 && parts[2] == "" {
		return &PlatformSyntaxError{Platform: platform}
	}
	sys.OSChoice, sys.ArchitectureChoice = parts[0], parts[1]
	if len(parts) == 3 {
		sys.VariantChoice = parts[2]
	}
	return nil
}

// PlatformSyntaxError is a --platform value that is not os/arch[/variant].
type PlatformSyntaxError struct{ Platform string }

func (e *PlatformSyntaxError) Error() string {
	return fmt.Sprintf("invalid platform %q: want os/arch[/variant], e.g. linux/%s", e.Platform, runtime.GOARCH)
}

// wantedPlatform names the platform sys asks for, as Docker prints it.
func wantedPlatform(sys *itypes.SystemContext) string {
	goos, arch := sys.OSChoice, sys.ArchitectureChoice
	if goos == "" {
		goos = runtime.GOOS
	}
	if arch == "" {
		arch = runtime.GOARCH
	}
	return platformOf(goos, arch, sys.VariantChoice)
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
