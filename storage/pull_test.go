package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	itypes "go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

func TestParseReference(t *testing.T) {
	good := []struct{ in, want string }{
		{"alpine", "docker.io/library/alpine:latest"},
		{"alpine:3.20", "docker.io/library/alpine:3.20"},
		{"library/alpine", "docker.io/library/alpine:latest"},
		{"docker.io/library/alpine", "docker.io/library/alpine:latest"},
		{"me/app:v1", "docker.io/me/app:v1"},
		{"localhost:5000/app", "localhost:5000/app:latest"},
		{"127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c"},
		{"busybox@sha256:" + strings.Repeat("a", 64), "docker.io/library/busybox@sha256:" + strings.Repeat("a", 64)},
	}
	for _, c := range good {
		ref, err := ParseReference(c.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", c.in, err)
			continue
		}
		if ref.String() != c.want {
			t.Errorf("ParseReference(%q) = %s, want %s", c.in, ref, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"UPPER", "invalid reference format: repository name (library/UPPER) must be lowercase"},
		{"UPPER/case", "invalid reference format: repository name (UPPER/case) must be lowercase"},
		{"localhost:5000/Foo", "invalid reference format: repository name (Foo) must be lowercase"},
		{"a@sha256:zz", `invalid reference format: "a@sha256:zz": bad digest "sha256:zz"`},
		{":x", `invalid reference format: ":x": no repository name`},
		{"alpine:", `invalid reference format: "alpine:": bad tag ""`},
		{"alpine:-x", `invalid reference format: "alpine:-x": bad tag "-x"`},
		{"a b", `invalid reference format: "a b": bad repository name component "a b"`},
		{"foo//bar", `invalid reference format: "foo//bar": bad repository name component ""`},
		{"", "invalid reference format: empty name"},
		{"sha256:" + strings.Repeat("a", 64), "is an image id, not a name"},
		{strings.Repeat("a", 64), "is an image id, not a name"},
	}
	for _, c := range bad {
		_, err := ParseReference(c.in)
		if err == nil {
			t.Errorf("ParseReference(%q) accepted it", c.in)
			continue
		}
		if !errors.Is(err, ErrBadReference) {
			t.Errorf("ParseReference(%q): %v is not ErrBadReference", c.in, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseReference(%q) = %q, want it to say %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") || strings.Count(err.Error(), "invalid reference format") != 1 {
			t.Errorf("ParseReference(%q) = %q: want one line, saying invalid reference format once", c.in, err)
		}
	}
}

func TestApplyPlatform(t *testing.T) {
	for _, c := range []struct {
		in                string
		os, arch, variant string
		ok                bool
	}{
		{"linux/amd64", "linux", "amd64", "", true},
		{"linux/arm64/v8", "linux", "arm64", "v8", true},
		{"linux", "", "", "", false},
		{"linux/", "", "", "", false},
		{"/amd64", "", "", "", false},
		{"linux/arm/", "", "", "", false},
		{"a/b/c/d", "", "", "", false},
	} {
		var sys itypes.SystemContext
		err := applyPlatform(&sys, c.in)
		if c.ok != (err == nil) {
			t.Errorf("applyPlatform(%q): %v", c.in, err)
			continue
		}
		var syntax *PlatformSyntaxError
		if !c.ok && !errors.As(err, &syntax) {
			t.Errorf("applyPlatform(%q): %T, want *PlatformSyntaxError", c.in, err)
		}
		if c.ok && (sys.OSChoice != c.os || sys.ArchitectureChoice != c.arch || sys.VariantChoice != c.variant) {
			t.Errorf("applyPlatform(%q) chose %s/%s/%s", c.in, sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice)
		}
		if c.ok && wantedPlatform(&sys) != c.in {
			t.Errorf("wantedPlatform after %q = %q", c.in, wantedPlatform(&sys))
		}
	}
}

func TestPlatformMatches(t *testing.T) {
	for _, c := range []struct {
		want, actual string
		ok           bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm/v7", "linux/arm/v6", false},
		{"linux/arm64", "linux/amd64", false},
		{"windows/amd64", "linux/amd64", false},
	} {
		if got := platformMatches(c.want, c.actual); got != c.ok {
			t.Errorf("platformMatches(%s, %s) = %v", c.want, c.actual, got)
		}
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Setenv("BOX_REGISTRY_TIMEOUT", "")
	if d, err := connectTimeout(0); err != nil || d != DefaultConnectTimeout {
		t.Errorf("default: %v, %v", d, err)
	}
	if d, err := connectTimeout(3 * time.Second); err != nil || d != 3*time.Second {
		t.Errorf("explicit: %v, %v", d, err)
	}
	t.Setenv("BOX_REGISTRY_TIMEOUT", "45s")
	if d, err := connectTimeout(0); err != nil || d != 45*time.Second {
		t.Errorf("from the environment: %v, %v", d, err)
	}
	if d, _ := connectTimeout(time.Second); d != time.Second {
		t.Errorf("the option must win over the environment: %v", d)
	}
	for _, v := range []string{"soon", "0s", "-1s"} {
		t.Setenv("BOX_REGISTRY_TIMEOUT", v)
		if _, err := connectTimeout(0); err == nil || !strings.Contains(err.Error(), "BOX_REGISTRY_TIMEOUT") {
			t.Errorf("BOX_REGISTRY_TIMEOUT=%s: %v", v, err)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: TLS handshake timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var (
	errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	errNoHost  = &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "registry-1.docker.io", IsNotFound: true}}
)

func TestFailureOf(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want failure
	}{
		{"manifest unknown", fmtWrap(v2.ErrorCodeManifestUnknown.WithMessage("manifest unknown")), failNotFound},
		{"name unknown error", fmtWrap(v2.ErrorCodeNameUnknown.WithMessage("repository name not known")), failNotFound},
		{"unauthorized", fmtWrap(errcode.ErrorCodeUnauthorized.WithMessage("authentication required")), failUnauthorized},
		{"denied", fmtWrap(errcode.ErrorCodeDenied.WithMessage("requested access to the resource is denied")), failDenied},
		{"bad credentials", fmtWrap(docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}), failUnauthorized},
		{"http 404", fmtWrap(docker.UnexpectedHTTPStatusError{StatusCode: 404}), failNotFound},
		{"http 403", fmtWrap(docker.UnexpectedHTTPStatusError{StatusCode: 403}), failDenied},
		{"http 500", fmtWrap(docker.UnexpectedHTTPStatusError{StatusCode: 500}), failOther},
		{"refused", fmtWrap(errRefused), failUnreachable},
		{"no such host", fmtWrap(errNoHost), failUnreachable},
		{"tls timeout", fmtWrap(&url.Error{Op: "Get", URL: "https://r/v2/", Err: timeoutErr{}}), failUnreachable},
		{"x509", fmtWrap(&url.Error{Op: "Get", URL: "https://r/v2/", Err: errors.New("x509: certificate signed by unknown authority")}), failOther},
		{"other", fmtWrap(errors.New("writing blob: disk full")), failOther},
	} {
		if got := failureOf(c.err); got != c.want {
			t.Errorf("%s: failureOf(%v) = %d, want %d", c.name, c.err, got, c.want)
		}
	}
}

func fmtWrap(err error) error {
	return errors.Join(errors.New("initializing source docker://x:latest"), err)
}

func TestShortCause(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmtWrap(errRefused), "dial tcp: connect: connection refused"},
		{fmtWrap(&url.Error{Op: "Get", URL: "https://r/v2/", Err: timeoutErr{}}), "net/http: TLS handshake timeout"},
		{fmtWrap(errcode.ErrorCodeUnauthorized.WithMessage("authentication required")), "authentication required"},
	} {
		if got := shortCause(c.err); got != c.want {
			t.Errorf("shortCause(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func mustRef(t *testing.T, s string) reference.Named {
	t.Helper()
	r, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestClassifyWith(t *testing.T) {
	sys := &itypes.SystemContext{AuthFilePath: filepath.Join(t.TempDir(), "auth.json")}
	ref := mustRef(t, "nosuch")
	notFound := fmtWrap(v2.ErrorCodeManifestUnknown.WithMessage("manifest unknown"))
	unauthorized := fmtWrap(errcode.ErrorCodeUnauthorized.WithMessage("authentication required"))
	mirror := []sourceError{{location: "mirror.local:5000", err: notFound}}
	for _, c := range []struct {
		name    string
		err     error
		mirrors []sourceError
		want    string
		is      error
	}{
		{"not found", notFound, nil, "docker.io/library/nosuch:latest: not found in registry docker.io", ErrImageNotFound},
		{"not found anywhere", notFound, mirror, "docker.io/library/nosuch:latest: not found in registry docker.io nor in its mirror mirror.local:5000", ErrImageNotFound},
		{"mirror says not found, registry unreachable", fmtWrap(errNoHost), mirror,
			"docker.io/library/nosuch:latest: not found in mirror mirror.local:5000 of docker.io (docker.io itself: dial tcp: lookup registry-1.docker.io: no such host)", ErrImageNotFound},
		{"unreachable", fmtWrap(errRefused), nil, "registry docker.io unreachable: dial tcp: connect: connection refused", ErrRegistryUnreachable},
		{"unreachable, mirror too", fmtWrap(errRefused), []sourceError{{location: "m:1", err: fmtWrap(errRefused)}},
			"registry docker.io unreachable: dial tcp: connect: connection refused; mirror m:1: dial tcp: connect: connection refused", ErrRegistryUnreachable},
		{"no credentials", unauthorized, nil, "registry docker.io requires credentials and none were found for it", ErrUnauthorized},
		{"denied", fmtWrap(errcode.ErrorCodeDenied.WithMessage("denied")), nil, "pull access denied for docker.io/library/nosuch: the repository does not exist or needs credentials", ErrUnauthorized},
	} {
		err := classifyWith(sys, ref, c.err, c.mirrors)
		if err == nil {
			t.Errorf("%s: not classified", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q, want %q", c.name, err, c.want)
		}
		if !errors.Is(err, c.is) {
			t.Errorf("%s: %v is not %v", c.name, err, c.is)
		}
	}
	if err := classifyWith(sys, ref, errors.New("something else"), nil); err != nil {
		t.Errorf("an unknown error was classified: %v", err)
	}
}

func TestAuthErrorNamesTheUser(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.json")
	// "alice:wrong" in base64.
	if err := os.WriteFile(auth, []byte(`{"auths":{"reg.local:5000":{"auth":"YWxpY2U6d3Jvbmc="}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := &itypes.SystemContext{AuthFilePath: auth}
	err := classifyWith(sys, mustRef(t, "reg.local:5000/app"), fmtWrap(errcode.ErrorCodeUnauthorized.WithMessage("authentication required")), nil)
	if want := `registry reg.local:5000 rejected the credentials of user "alice": authentication required`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestErrorMessagesAreOneLine(t *testing.T) {
	for _, err := range []error{
		&NotFoundError{Ref: "alpine"},
		&UnreachableError{Registry: "r", Timeout: 3 * time.Second},
		&UnreachableError{Registry: "r"},
		&CorruptBlobError{Repo: "docker.io/library/x", Digest: digest.FromString("a"), Actual: digest.FromString("b")},
		&PlatformError{Want: "linux/s390x", Available: []string{"linux/amd64"}},
		&oneLineError{errors.New("unpacking failed\nexhausting input failed\n")},
	} {
		if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("%T: %q", err, msg)
		}
	}
	if got := (&oneLineError{errors.New("a\nb\n")}).Error(); got != "a; b" {
		t.Errorf("oneLineError = %q", got)
	}
}

func TestVerifyingReader(t *testing.T) {
	content := bytes.Repeat([]byte("layer "), 10000)
	d := digest.FromBytes(content)
	read := func(body []byte) error {
		v := &verifyingReader{ReadCloser: io.NopCloser(bytes.NewReader(body)), hash: d.Algorithm().Hash(), want: d, repo: "docker.io/library/x"}
		_, err := io.Copy(io.Discard, v)
		return err
	}
	if err := read(content); err != nil {
		t.Errorf("matching content: %v", err)
	}
	bad := append([]byte{}, content...)
	bad[100] ^= 1
	err := read(bad)
	var corrupt *CorruptBlobError
	if !errors.As(err, &corrupt) || !errors.Is(err, ErrCorruptBlob) || corrupt.Digest != d || corrupt.Actual != digest.FromBytes(bad) {
		t.Errorf("corrupt content: %v", err)
	}
	if err := read(content[:len(content)-1]); !errors.Is(err, ErrCorruptBlob) {
		t.Errorf("truncated content: %v", err)
	}
}

func TestToProgress(t *testing.T) {
	d := digest.FromString("layer")
	for _, c := range []struct {
		ev       itypes.ProgressEvent
		mt       string
		kind     ProgressKind
		isConfig bool
	}{
		{itypes.ProgressEventNewArtifact, ocispec.MediaTypeImageLayerGzip, BlobStarted, false},
		{itypes.ProgressEventRead, ocispec.MediaTypeImageLayerZstd, BlobProgress, false},
		{itypes.ProgressEventDone, "application/vnd.docker.image.rootfs.diff.tar.gzip", BlobDone, false},
		{itypes.ProgressEventSkipped, ocispec.MediaTypeImageLayer, BlobSkipped, false},
		{itypes.ProgressEventDone, ocispec.MediaTypeImageConfig, BlobDone, true},
		{itypes.ProgressEventDone, "application/vnd.docker.container.image.v1+json", BlobDone, true},
	} {
		p := toProgress(itypes.ProgressProperties{Event: c.ev, Artifact: itypes.BlobInfo{Digest: d, Size: 10, MediaType: c.mt}, Offset: 5})
		if p.Kind != c.kind || p.IsConfig != c.isConfig || p.ID != d.Encoded()[:12] || p.Offset != 5 || p.Size != 10 {
			t.Errorf("%v %s: %+v", c.ev, c.mt, p)
		}
	}
}

func TestPullTempDirs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "pull-tmp")
	live, err := newPullTemp(root, "pull-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live.dir, "blob"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A pull that died: its lock file is there but nobody holds it.
	dead := filepath.Join(root, "pull-dead")
	os.Mkdir(dead, 0o700)
	os.WriteFile(filepath.Join(dead, "blob"), []byte("x"), 0o600)
	os.WriteFile(dead+".lock", nil, 0o600)
	// A directory whose lock is gone.
	orphan := filepath.Join(root, "pull-orphan")
	os.Mkdir(orphan, 0o700)

	other, err := newPullTemp(root, "pull-")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dead, dead + ".lock", orphan} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s was not removed: %v", p, err)
		}
	}
	for _, p := range []string{live.dir, live.lock.Name(), other.dir} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a live pull's %s was removed: %v", p, err)
		}
	}
	if unix.Flock(int(live.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		t.Errorf("the live pull lost its lock")
	}
	live.remove()
	other.remove()
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("left after both pulls ended: %v", entries)
	}
}

// fakeRef serves one manifest (or index) from memory.
type fakeRef struct {
	itypes.ImageReference
	manifest []byte
	mimeType string
}

func (r fakeRef) NewImageSource(context.Context, *itypes.SystemContext) (itypes.ImageSource, error) {
	return &fakeSource{r: r}, nil
}

type fakeSource struct {
	itypes.ImageSource
	r      fakeRef
	closed bool
}

func (s *fakeSource) GetManifest(context.Context, *digest.Digest) ([]byte, string, error) {
	return s.r.manifest, s.r.mimeType, nil
}

func (s *fakeSource) Close() error { s.closed = true; return nil }

func TestCheckedRefPlatform(t *testing.T) {
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{
			{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("arm"), Size: 1, Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
			{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("amd"), Size: 1, Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		},
	}
	raw, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	ref := &checkedRef{ImageReference: fakeRef{manifest: raw, mimeType: ocispec.MediaTypeImageIndex}, repo: "docker.io/library/multi"}
	sys := &itypes.SystemContext{OSChoice: "linux", ArchitectureChoice: "s390x"}
	_, err = ref.NewImageSource(context.Background(), sys)
	var plat *PlatformError
	if !errors.As(err, &plat) || plat.Want != "linux/s390x" || strings.Join(plat.Available, " ") != "linux/arm64/v8 linux/amd64" {
		t.Errorf("s390x from an arm64+amd64 index: %v", err)
	}
	sys.ArchitectureChoice = "amd64"
	src, err := ref.NewImageSource(context.Background(), sys)
	if err != nil {
		t.Fatalf("amd64: %v", err)
	}
	if _, ok := src.(*checkedSource); !ok {
		t.Errorf("source is %T, want *checkedSource", src)
	}
	if ref.topDigest() != digest.FromBytes(raw) {
		t.Errorf("topDigest %s, want the index's %s", ref.topDigest(), digest.FromBytes(raw))
	}
	// The fake serves the index for every digest: not the 1 byte the
	// index gives its amd64 manifest.
	amd := digest.FromString("amd")
	_, _, err = src.GetManifest(context.Background(), &amd)
	var size *BlobSizeError
	if !errors.As(err, &size) || !size.Manifest || size.Want != 1 || size.Got != int64(len(raw)) {
		t.Errorf("a manifest of the wrong size: %v", err)
	}
}
