package storage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/signature"
	itypes "go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"
	"golang.org/x/sys/unix"
)

// systemContext is how box talks to registries. registries.conf (mirrors,
// insecure registries, CONTAINERS_REGISTRIES_CONF) and policy.json are
// read from their standard places by the image library; credentials come
// from the file userAuthFile names, else from the library's own list
// (auth.json, then ~/.config/containers/auth.json and Docker's
// config.json).
func systemContext() *itypes.SystemContext {
	sys := &itypes.SystemContext{DockerRegistryUserAgent: "box/" + Version}
	sys.AuthFilePath = userAuthFile(false)
	return sys
}

// userAuthFile returns the credentials file box must name to the image
// library, or "" when the library's own first choice is the file of the
// user box runs for and can be read. REGISTRY_AUTH_FILE names a file, as
// for Podman. Without XDG_RUNTIME_DIR (su -, cron, ssh without a login
// session) the library would pick /run/containers/UID/auth.json with the
// UID box has inside its user namespace, 0: root's file, which rootful
// Podman's 0700 /run/containers keeps out of reach. The invoking user's
// own file is taken instead: ~/.config/containers/auth.json
// ($XDG_CONFIG_HOME), or Docker's config.json when only that one exists
// and nothing is to be written (login writes auth.json, never Docker's
// file). A default that cannot be read counts as absent.
func userAuthFile(write bool) string {
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		return f
	}
	if def := libraryAuthFile(); def != "" && readableOrAbsent(def) {
		return ""
	}
	cfgHome := os.Getenv("XDG_CONFIG_HOME")
	if cfgHome == "" {
		cfgHome = filepath.Join(os.Getenv("HOME"), ".config")
	}
	own := filepath.Join(cfgHome, "containers", "auth.json")
	if write || fileExists(own) {
		return own
	}
	dockerDir := os.Getenv("DOCKER_CONFIG")
	if dockerDir == "" {
		dockerDir = filepath.Join(os.Getenv("HOME"), ".docker")
	}
	if docker := filepath.Join(dockerDir, "config.json"); fileExists(docker) {
		return docker
	}
	return own
}

// libraryAuthFile is the auth.json the image library reads first and
// writes, when it belongs to the user box runs for; "" when it does not or
// would not be used (an XDG_RUNTIME_DIR that does not exist).
func libraryAuthFile() string {
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if st, err := os.Stat(rt); err != nil || !st.IsDir() {
			return ""
		}
		return filepath.Join(rt, "containers", "auth.json")
	}
	// Inside box's user namespace the uid is 0 but the user is not root;
	// the constructor records the real uid as containers' tools do.
	if unshare.GetRootlessUID() != os.Getuid() {
		return ""
	}
	return fmt.Sprintf("/run/containers/%d/auth.json", os.Getuid())
}

func readableOrAbsent(path string) bool {
	f, err := os.Open(path)
	if err == nil {
		f.Close()
		return true
	}
	return errors.Is(err, fs.ErrNotExist)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// loopbackHost reports whether host ("name[:port]", "[::1]:port") is
// this machine: localhost or an address in 127.0.0.0/8 or ::1. Docker
// treats these registries as insecure unless configured otherwise (it
// also resolves other names to check them; box does not, so that a pull
// waits on no extra DNS query).
func loopbackHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// allowLoopbackHTTP makes sys talk to host as Docker talks to an
// insecure registry, when host is this machine and nothing chose
// otherwise: HTTPS without verifying the certificate first, then plain
// HTTP, which is how a registry started on localhost usually serves.
func allowLoopbackHTTP(sys *itypes.SystemContext, host string) {
	if sys.DockerInsecureSkipTLSVerify == itypes.OptionalBoolUndefined && loopbackHost(host) {
		sys.DockerInsecureSkipTLSVerify = itypes.OptionalBoolTrue
	}
}

// policyContext returns the signature policy: policy.json when the user or
// the system has one, else accept anything, as containers-common ships it
// and as Docker behaves.
func policyContext(sys *itypes.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if errors.Is(err, configfile.ErrConfigFileNotFound) {
		policy, err = &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read signature policy: %w", err)
	}
	return signature.NewPolicyContext(policy)
}

// Registry is one registries.conf entry as box will use it.
type Registry struct {
	Prefix   string
	Location string
	Insecure bool
	Mirrors  []string
}

// Registries lists the configured registries and the unqualified-search
// list, read from registries.conf as the pull path reads it.
func (s *Store) Registries() ([]Registry, []string, error) {
	regs, err := sysregistriesv2.GetRegistries(s.sys)
	if err != nil {
		return nil, nil, fmt.Errorf("read registries.conf: %w", err)
	}
	var out []Registry
	for _, r := range regs {
		e := Registry{Prefix: r.Prefix, Location: r.Location, Insecure: r.Insecure}
		for _, m := range r.Mirrors {
			e.Mirrors = append(e.Mirrors, m.Location)
		}
		out = append(out, e)
	}
	search, err := sysregistriesv2.UnqualifiedSearchRegistries(s.sys)
	if err != nil {
		return nil, nil, fmt.Errorf("read registries.conf: %w", err)
	}
	return out, search, nil
}

// checkedRef is a docker:// reference whose image source checks what the
// library leaves to a late, untyped error: that the platform asked for is
// in a multi-platform index, and that every blob matches its digest. It
// also records the digest of the manifest the reference names.
//
// Wrapping the source hides the library's private source extensions:
// partial (zstd:chunked) pulls fall back to whole blobs, and only
// simple-signing signatures reach the policy check, so a policy.json that
// demands sigstore signatures rejects the image. box's built-in policy
// needs neither.
type checkedRef struct {
	itypes.ImageReference
	named reference.Named
	repo  string // the repository, for messages

	mu     sync.Mutex
	digest digest.Digest
	// layers are the layer blobs sources of this reference served.
	layers map[digest.Digest]bool
}

// servedLayers lists the layer blobs sources of r served.
func (r *checkedRef) servedLayers() map[digest.Digest]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.layers)
}

func (r *checkedRef) NewImageSource(ctx context.Context, sys *itypes.SystemContext) (itypes.ImageSource, error) {
	var src itypes.ImageSource
	var err error
	if r.named != nil && needsOwnWalk(sys, r.named) {
		src, err = openSource(ctx, sys, r.named)
	} else {
		src, err = r.ImageReference.NewImageSource(ctx, sys)
	}
	if err != nil {
		return nil, err
	}
	raw, mimeType, err := src.GetManifest(ctx, nil)
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	if d, err := manifest.Digest(raw); err == nil {
		r.mu.Lock()
		r.digest = d
		r.mu.Unlock()
	}
	checked := &checkedSource{ImageSource: src, ref: r.ImageReference, repo: r.repo, from: r}
	if manifest.MIMETypeIsMultiImage(mimeType) {
		if list, err := manifest.ListFromBlob(raw, mimeType); err == nil {
			if _, err := list.ChooseInstance(sys); err != nil {
				_ = src.Close()
				return nil, &PlatformError{Want: wantedPlatform(sys), Available: platformsOf(list)}
			}
			checked.sizes = map[digest.Digest]int64{}
			for _, d := range list.Instances() {
				if inst, err := list.Instance(d); err == nil {
					checked.sizes[d] = inst.Size
				}
			}
		}
	}
	return checked, nil
}

// topDigest is the digest of the manifest the reference named.
func (r *checkedRef) topDigest() digest.Digest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.digest
}

func platformsOf(list manifest.List) []string {
	var out []string
	for _, d := range list.Instances() {
		inst, err := list.Instance(d)
		if err != nil || inst.ReadOnly.Platform == nil {
			continue
		}
		p := inst.ReadOnly.Platform
		s := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			s += "/" + p.Variant
		}
		out = append(out, s)
	}
	return out
}

type checkedSource struct {
	itypes.ImageSource
	ref  itypes.ImageReference // the name pulled, whichever source served it
	repo string
	from *checkedRef
	// sizes are the manifest sizes the index named gives.
	sizes map[digest.Digest]int64
}

// Reference is the name the pull asked for, as the library reports it for
// a mirror it chose itself: the signature policy applies to that name.
func (s *checkedSource) Reference() itypes.ImageReference { return s.ref }

func (s *checkedSource) GetBlob(ctx context.Context, info itypes.BlobInfo, cache itypes.BlobInfoCache) (io.ReadCloser, int64, error) {
	rc, size, err := s.ImageSource.GetBlob(ctx, info, cache)
	if err != nil || info.Digest.Validate() != nil || !info.Digest.Algorithm().Available() {
		return rc, size, err
	}
	if isLayerBlob(info) && s.from != nil {
		s.from.mu.Lock()
		if s.from.layers == nil {
			s.from.layers = map[digest.Digest]bool{}
		}
		s.from.layers[info.Digest] = true
		s.from.mu.Unlock()
	}
	verified := &verifyingReader{ReadCloser: rc, hash: info.Digest.Algorithm().Hash(), want: info.Digest, repo: s.repo}
	return newCountedBlob(verified, info, s.repo), size, nil
}

// GetManifest refuses a manifest naming a layer box cannot unpack, and
// one whose size is not what the index gave.
func (s *checkedSource) GetManifest(ctx context.Context, instanceDigest *digest.Digest) ([]byte, string, error) {
	raw, mimeType, err := s.ImageSource.GetManifest(ctx, instanceDigest)
	if err != nil {
		return raw, mimeType, err
	}
	if instanceDigest != nil {
		if want, ok := s.sizes[*instanceDigest]; ok && want > 0 && want != int64(len(raw)) {
			return nil, "", &BlobSizeError{Repo: s.repo, Digest: *instanceDigest, Want: want, Got: int64(len(raw)), Manifest: true}
		}
	}
	if err := checkManifestLayers(raw, mimeType); err != nil {
		return nil, "", err
	}
	return raw, mimeType, nil
}

// verifyingReader fails the read that reaches the end of a blob whose
// content does not match its digest, with a *CorruptBlobError.
type verifyingReader struct {
	io.ReadCloser
	hash hash.Hash
	want digest.Digest
	repo string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.ReadCloser.Read(p)
	v.hash.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := digest.NewDigest(v.want.Algorithm(), v.hash); got != v.want {
			return n, &CorruptBlobError{Repo: v.repo, Digest: v.want, Actual: got}
		}
	}
	return n, err
}

// explainPullError turns what the image library returned for a failed
// pull into one of storage's typed errors when it can tell what went
// wrong; registries.conf mirrors that were asked first are asked again to
// find out what they said, since the library keeps only the last
// endpoint's error typed.
func (s *Store) explainPullError(ctx context.Context, sys *itypes.SystemContext, ref reference.Named, err error) error {
	name := FamiliarString(ref)
	var corrupt *CorruptBlobError
	if errors.As(err, &corrupt) {
		return fmt.Errorf("pull %s: %w", name, corrupt)
	}
	var short *BlobSizeError
	if errors.As(err, &short) {
		return fmt.Errorf("pull %s: %w", name, short)
	}
	var refused *LayerEntryError
	if errors.As(err, &refused) {
		return fmt.Errorf("pull %s: %w", name, refused)
	}
	var mediaType *LayerMediaTypeError
	if errors.As(err, &mediaType) {
		return fmt.Errorf("pull %s: %w", name, mediaType)
	}
	var plat *PlatformError
	if errors.As(err, &plat) {
		return fmt.Errorf("pull %s: %w", name, plat)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("pull %s: %w", name, ctx.Err())
	}
	if e := s.classify(ctx, sys, ref, err, true); e != nil {
		if nf, ok := e.(*NotFoundError); ok {
			return nf
		}
		return fmt.Errorf("pull %s: %w", name, e)
	}
	return fmt.Errorf("pull %s: %w", name, &oneLineError{err})
}

// oneLineError keeps an error's chain but says it in one line: the
// libraries join some causes (a layer that failed to unpack and the
// reason it did) with newlines.
type oneLineError struct{ err error }

func (e *oneLineError) Error() string {
	return strings.ReplaceAll(strings.TrimSpace(e.err.Error()), "\n", "; ")
}

func (e *oneLineError) Unwrap() error { return e.err }

// failure is what a registry's error means to a user.
type failure int

const (
	failOther failure = iota
	failNotFound
	failUnauthorized
	failDenied
	failUnreachable
)

func failureOf(err error) failure {
	var ec errcode.ErrorCoder
	if errors.As(err, &ec) {
		switch ec.ErrorCode() {
		case v2.ErrorCodeManifestUnknown, v2.ErrorCodeNameUnknown:
			return failNotFound
		case errcode.ErrorCodeUnauthorized:
			return failUnauthorized
		case errcode.ErrorCodeDenied:
			return failDenied
		}
	}
	var creds docker.ErrUnauthorizedForCredentials
	if errors.As(err, &creds) {
		return failUnauthorized
	}
	var status docker.UnexpectedHTTPStatusError
	if errors.As(err, &status) {
		switch status.StatusCode {
		case http.StatusNotFound:
			return failNotFound
		case http.StatusUnauthorized:
			return failUnauthorized
		case http.StatusForbidden:
			return failDenied
		}
	}
	var op *net.OpError
	var dns *net.DNSError
	var ne net.Error
	if errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ne) && ne.Timeout() {
		return failUnreachable
	}
	return failOther
}

// shortCause is the part of a registry error a person needs: the network
// failure or the registry's own message, without the library's layers.
func shortCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	var ec errcode.Error
	if errors.As(err, &ec) && ec.Message != "" {
		return ec.Message
	}
	return err.Error()
}

// sourceError is what one registries.conf mirror answered.
type sourceError struct {
	location string
	err      error
}

// classify returns a typed error for err from ref's registry, or nil when
// err is none of the failures storage names. With probe set, the mirrors
// asked before the registry are asked again to learn what they answered.
func (s *Store) classify(ctx context.Context, sys *itypes.SystemContext, ref reference.Named, err error, probe bool) error {
	var mirrors []sourceError
	if probe && failureOf(err) != failOther {
		for _, m := range mirrorSources(sys, ref) {
			if perr := probeSource(ctx, sys, m); perr != nil {
				mirrors = append(mirrors, sourceError{location: m.Endpoint.Location, err: perr})
			}
		}
	}
	return classifyWith(sys, ref, err, mirrors)
}

// classifyWith is classify with the mirrors' answers already known.
func classifyWith(sys *itypes.SystemContext, ref reference.Named, err error, mirrors []sourceError) error {
	host := reference.Domain(ref)
	kind := failureOf(err)
	if kind == failOther {
		return nil
	}
	var missingIn, notes []string
	for _, m := range mirrors {
		if failureOf(m.err) == failNotFound {
			missingIn = append(missingIn, m.location)
		} else {
			notes = append(notes, m.location+": "+shortCause(m.err))
		}
	}
	switch kind {
	case failNotFound:
		return &NotFoundError{Ref: ref.String(), Registry: host, Mirrors: missingIn, Err: err}
	case failUnreachable:
		if len(missingIn) > 0 {
			return &NotFoundError{Ref: ref.String(), Registry: host, Mirrors: missingIn, Upstream: err, Err: err}
		}
		return &UnreachableError{Registry: host, Mirrors: notes, Err: err}
	}
	user := ""
	if creds, cerr := config.GetCredentialsForRef(sys, ref); cerr == nil {
		user = creds.Username
		if user == "" && creds.IdentityToken != "" {
			user = "<identity token>"
		}
	}
	auth := &AuthError{Registry: host, Repo: ref.Name(), User: user, Denied: kind == failDenied, Err: err}
	if len(missingIn) > 0 {
		return &NotFoundError{Ref: ref.String(), Registry: host, Mirrors: missingIn, Upstream: auth, Err: err}
	}
	return auth
}

// pullSources lists where a pull of ref looks, in order: its
// registries.conf mirrors that apply to ref (pull-from-mirror, mirror-by-
// digest-only), then its registry's location, which registries.conf may
// remap (prefix = "docker.io", location = "host/path"). A registry
// without an entry is its own single source.
func pullSources(sys *itypes.SystemContext, ref reference.Named) []sysregistriesv2.PullSource {
	direct := []sysregistriesv2.PullSource{{Endpoint: sysregistriesv2.Endpoint{Location: reference.Domain(ref)}, Reference: ref}}
	reg, err := sysregistriesv2.FindRegistry(sys, ref.Name())
	if err != nil || reg == nil {
		return direct
	}
	sources, err := reg.PullSourcesFromReference(ref)
	if err != nil || len(sources) == 0 {
		return direct
	}
	return sources
}

// mirrorSources lists the registries.conf mirrors a pull of ref asks
// before ref's own registry, in order.
func mirrorSources(sys *itypes.SystemContext, ref reference.Named) []sysregistriesv2.PullSource {
	sources := pullSources(sys, ref)
	return sources[:len(sources)-1]
}

// endpointHost is the host[:port] of a registries.conf location, which
// may carry a path ("127.0.0.1:5000/hub").
func endpointHost(ep sysregistriesv2.Endpoint) string {
	host, _, _ := strings.Cut(ep.Location, "/")
	return host
}

// sourceSystemContext is sys for talking to one pull source directly,
// honouring the source's own insecure flag, and treating a source on
// this machine as insecure, as Docker does.
func sourceSystemContext(sys *itypes.SystemContext, src sysregistriesv2.PullSource) *itypes.SystemContext {
	c := *sys
	if src.Endpoint.Insecure {
		c.DockerInsecureSkipTLSVerify = itypes.OptionalBoolTrue
	}
	allowLoopbackHTTP(&c, endpointHost(src.Endpoint))
	return &c
}

// needsOwnWalk reports whether a pull of ref must visit its sources
// itself rather than leave it to the image library: the library reads
// each source's TLS choice from registries.conf alone, so a source on
// this machine that registries.conf does not mark insecure would be
// asked over HTTPS only.
func needsOwnWalk(sys *itypes.SystemContext, ref reference.Named) bool {
	if sys.DockerInsecureSkipTLSVerify != itypes.OptionalBoolUndefined {
		return false
	}
	for _, src := range pullSources(sys, ref) {
		if !src.Endpoint.Insecure && loopbackHost(endpointHost(src.Endpoint)) {
			return true
		}
	}
	return false
}

// openSource opens ref's image from the first of its pull sources that
// has it, each asked with its own TLS choice. The last source, ref's
// registry, goes through the library's usual path when it names ref
// itself; that path asks the mirrors again only after all of them failed.
func openSource(ctx context.Context, sys *itypes.SystemContext, ref reference.Named) (itypes.ImageSource, error) {
	sources := pullSources(sys, ref)
	var err error
	for _, src := range sources {
		var r itypes.ImageReference
		if r, err = docker.NewReference(src.Reference); err != nil {
			return nil, err
		}
		var is itypes.ImageSource
		if is, err = r.NewImageSource(ctx, sourceSystemContext(sys, src)); err == nil {
			return is, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

// probeSource asks one pull source for ref's manifest and returns the
// error it gave, if any.
func probeSource(ctx context.Context, sys *itypes.SystemContext, src sysregistriesv2.PullSource) error {
	r, err := docker.NewReference(src.Reference)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	is, err := r.NewImageSource(ctx, sourceSystemContext(sys, src))
	if err != nil {
		return err
	}
	return is.Close()
}

// listTagsFrom lists the tags of ref's repository from the same sources,
// in the same order, as a pull of one of its tags would use: the
// registries.conf mirrors that serve tags, then the registry's location
// (remapped by registries.conf where it says so). The library wants a
// tagged reference, though only the repository matters. On failure it
// returns the registry's own error and what each mirror said.
func listTagsFrom(ctx context.Context, sys *itypes.SystemContext, ref reference.Named) ([]string, []sourceError, error) {
	ref = reference.TagNameOnly(reference.TrimNamed(ref))
	sources := pullSources(sys, ref)
	var mirrors []sourceError
	var err error
	for i, src := range sources {
		var r itypes.ImageReference
		if r, err = docker.NewReference(src.Reference); err != nil {
			return nil, mirrors, err
		}
		var tags []string
		if tags, err = docker.GetRepositoryTags(ctx, sourceSystemContext(sys, src), r); err == nil {
			return tags, nil, nil
		}
		if ctx.Err() != nil {
			return nil, nil, err
		}
		if i < len(sources)-1 {
			mirrors = append(mirrors, sourceError{location: src.Endpoint.Location, err: err})
		}
	}
	return nil, mirrors, err
}

// pullTemp is one pull's directory for blobs in flight, inside the store
// (the library's default, /var/tmp, may be another file system, and a
// killed pull would leave its blobs there for good). It is locked for as
// long as the pull runs; an unlocked one belongs to a pull that died and
// the next pull removes it.
type pullTemp struct {
	dir  string
	lock *os.File
}

func (s *Store) pullTempDir() (*pullTemp, error) {
	return newPullTemp(filepath.Join(s.s.GraphRoot(), "pull-tmp"), "pull-")
}

// newPullTemp makes a locked directory for one pull (or another writer,
// named by prefix) under root, first removing those of writers that died.
func newPullTemp(root, prefix string) (*pullTemp, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	removeStalePullDirs(root)
	for attempt := 0; attempt < 5; attempt++ {
		f, err := os.CreateTemp(root, prefix+"*.lock")
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		// Another pull's cleanup may have taken and removed the lock file
		// between its creation and the lock: then it is not ours to use.
		var held, named unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) != nil || unix.Stat(f.Name(), &named) != nil || held.Ino != named.Ino || held.Dev != named.Dev {
			f.Close()
			continue
		}
		dir := strings.TrimSuffix(f.Name(), ".lock")
		if err := os.Mkdir(dir, 0o700); err != nil {
			os.Remove(f.Name())
			f.Close()
			return nil, err
		}
		return &pullTemp{dir: dir, lock: f}, nil
	}
	return nil, errors.New("cannot create a temporary directory for the pull")
}

func (t *pullTemp) remove() {
	_ = os.RemoveAll(t.dir)
	_ = os.Remove(t.lock.Name())
	_ = t.lock.Close()
}

// removeStalePullDirs removes the directories of pulls that are no longer
// running: their lock can be taken.
func removeStalePullDirs(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(root, name)
		if !strings.HasSuffix(name, ".lock") {
			// A live pull creates its lock before its directory and
			// removes it after, so a directory without one is stale.
			if _, err := os.Stat(path + ".lock"); errors.Is(err, os.ErrNotExist) {
				_ = os.RemoveAll(path)
			}
			continue
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			_ = os.RemoveAll(strings.TrimSuffix(path, ".lock"))
			_ = os.Remove(path)
		}
		f.Close()
	}
}
