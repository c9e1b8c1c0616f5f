package e2e

// `box pull` and `box image pull`: names, tags, digests, platforms, all tags, credentials,
// progress, shared layers, compression, and everything that can go wrong on the way (bad
// names, missing images, dead or silent registries, corrupt blobs, hostile layers, interrupted
// and concurrent pulls). Every test pulls into a store of its own, so what it sees is what it
// did.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
	"golang.org/x/crypto/bcrypt"
)

// pullStore is a store of one test's own for u (--root and --runroot under the scratch tree),
// emptied with `box system reset -f` when the test ends.
type pullStore struct {
	u         *User
	root, run string
	args      []string
}

func newPullStore(t *testing.T, u *User) *pullStore {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "pull-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	s := &pullStore{u: u, root: filepath.Join(dir, "root"), run: filepath.Join(dir, "run")}
	for _, d := range []string{dir, s.root, s.run} {
		pullMkdirFor(t, u, d)
	}
	s.args = []string{"--root", s.root, "--runroot", s.run}
	t.Cleanup(func() {
		r := s.u.BoxWith(t, RunOpts{}, append(append([]string{}, s.args...), "system", "reset", "-f")...)
		if r.Code != 0 {
			t.Logf("cleanup: box system reset: %s", r)
		}
	})
	return s
}

// pullMkdirFor creates dir (mode 0700) owned by u.
func pullMkdirFor(t *testing.T, u *User, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(u.UID), int(u.GID)); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
}

// pullWriteFileFor writes a file owned by u (mode 0600), creating its directory for u.
func pullWriteFileFor(t *testing.T, u *User, path string, data []byte) {
	t.Helper()
	pullMkdirFor(t, u, filepath.Dir(path))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, int(u.UID), int(u.GID)); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
}

func (s *pullStore) with(args []string) []string {
	return append(append([]string{}, s.args...), args...)
}

func (s *pullStore) box(t *testing.T, args ...string) Result {
	t.Helper()
	return s.u.Box(t, s.with(args)...)
}

func (s *pullStore) boxWith(t *testing.T, opts RunOpts, args ...string) Result {
	t.Helper()
	return s.u.BoxWith(t, opts, s.with(args)...)
}

func (s *pullStore) must(t *testing.T, args ...string) Result {
	t.Helper()
	r := s.box(t, args...)
	if r.Code != 0 {
		t.Fatalf("%s: box %s: %s", s.u.Name, quoteArgs(args), r)
	}
	return r
}

// cmd is BoxCmd on the store: the caller starts and waits for it.
func (s *pullStore) cmd(args ...string) *exec.Cmd {
	return s.u.BoxCmd(s.with(args)...)
}

// images returns "repository:tag id" for every image `box images` lists, sorted.
func (s *pullStore) images(t *testing.T) []string {
	t.Helper()
	r := s.must(t, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	lines := pullLines(r.Stdout)
	sort.Strings(lines)
	return lines
}

// imageIDs returns what `box images -q` prints, one id per image.
func (s *pullStore) imageIDs(t *testing.T) []string {
	t.Helper()
	return pullLines(s.must(t, "images", "-q").Stdout)
}

// pullTempEntries lists what the store keeps for pulls in flight.
func (s *pullStore) pullTempEntries(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.root, "pull-tmp"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// pullTempBytes is how many bytes the files in the store's pull-tmp hold: those of the blobs
// of a pull in flight.
func (s *pullStore) pullTempBytes() int64 {
	var n int64
	filepath.WalkDir(filepath.Join(s.root, "pull-tmp"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// waitPullMidway waits until a pull on s has written some of a blob into pull-tmp: from then
// on it is caught mid-download, with a partial blob for its cleanup to remove.
func (s *pullStore) waitPullMidway(t *testing.T) {
	t.Helper()
	waitFor(t, "the pull to write part of a blob", time.Minute, func() (bool, string) {
		n := s.pullTempBytes()
		return n >= 1<<20, fmt.Sprintf("%d bytes in pull-tmp: %q", n, s.pullTempEntries(t))
	})
}

func pullLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// pullWantError checks that box failed with code and said so in exactly one line, the last,
// "Error: ..." holding every one of wants; any other line on stderr must be one of the
// progress or warning lines a pull prints before it fails.
func pullWantError(t *testing.T, r Result, code int, wants ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("exit code %d, want %d: %s", r.Code, code, r)
	}
	lines := pullLines(r.Stderr)
	var errLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Error: ") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || len(lines) == 0 || lines[len(lines)-1] != errLines[0] {
		t.Fatalf("want exactly one error line, last on stderr: %s", r)
	}
	for _, w := range wants {
		if !strings.Contains(errLines[0], w) {
			t.Errorf("error %q does not say %q", errLines[0], w)
		}
	}
	progress := regexp.MustCompile(`^(Using default tag: |box: warning: |Pulling all tags of |\S+: Pulling from |[0-9a-f]{12}: (Pulling fs layer|Pull complete|Already exists)$|Digest: |Status: )`)
	for _, l := range lines[:len(lines)-1] {
		if !progress.MatchString(l) {
			t.Errorf("unexpected stderr line %q before the error: %s", l, r)
		}
	}
	if r.Stdout != "" {
		t.Errorf("a failed pull printed on stdout: %q", r.Stdout)
	}
}

func pullWantContains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, out)
		}
	}
}

func pullWantNotContains(t *testing.T, what, out string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(out, n) {
			t.Errorf("%s contains %q:\n%s", what, n, out)
		}
	}
}

// pullRegistriesConf writes a registries.conf like the suite's (docker.io mirrored by the local
// registry) that also marks the given hosts insecure (plain http), and returns its path.
func pullRegistriesConf(t *testing.T, insecure ...string) string {
	t.Helper()
	conf, err := os.ReadFile(registriesConf)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.Write(conf)
	for _, h := range insecure {
		fmt.Fprintf(&b, "\n[[registry]]\nlocation = %q\ninsecure = true\n", h)
	}
	f, err := os.CreateTemp(filepath.Join(tempDir, "etc"), "registries-*.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o644); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// pullPushTo copies the image or index in the OCI layout dir to dst ("host:port/repo:tag") over
// plain http, with credentials when auth is set, keeping every platform.
func pullPushTo(t *testing.T, dir, dst string, auth *types.DockerAuthConfig) {
	t.Helper()
	src, err := layout.NewReference(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	dstRef, err := docker.ParseReference("//" + dst)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := acceptAnything()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Destroy()
	sys := &types.SystemContext{
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
		SystemRegistriesConfPath:    registriesConf,
		AuthFilePath:                filepath.Join(tempDir, "no-auth.json"),
		DockerAuthConfig:            auth,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := copy.Image(ctx, pc, dstRef, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys, ImageListSelection: copy.CopyAllImages}); err != nil {
		t.Fatalf("push %s to %s: %v", dir, dst, err)
	}
}

// pullLayer is one layer blob as it goes into a manifest.
type pullLayer struct {
	blob      []byte
	mediaType string
	diffID    digest.Digest
}

// pullBusyboxLayer is the BusyBox musl layer (a shell and coreutils for `box run`), as-is.
func pullBusyboxLayer(t *testing.T) pullLayer {
	t.Helper()
	dir := filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci")
	m, cfg, err := readLayoutImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(blobPath(dir, m.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	return pullLayer{blob: blob, mediaType: m.Layers[0].MediaType, diffID: cfg.RootFS.DiffIDs[0]}
}

// pullTarLayer makes a layer of entries compressed as compression says: "gzip", "zstd" or
// "none".
func pullTarLayer(t *testing.T, compression string, entries ...tarEntry) pullLayer {
	t.Helper()
	raw, err := makeTar(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return pullCompressed(t, compression, raw)
}

func pullCompressed(t *testing.T, compression string, raw []byte) pullLayer {
	t.Helper()
	l := pullLayer{diffID: digest.FromBytes(raw)}
	switch compression {
	case "none":
		l.blob, l.mediaType = raw, ocispec.MediaTypeImageLayer
	case "gzip":
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		l.blob, l.mediaType = buf.Bytes(), ocispec.MediaTypeImageLayerGzip
	case "zstd":
		zw, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		l.blob, l.mediaType = zw.EncodeAll(raw, nil), ocispec.MediaTypeImageLayerZstd
		zw.Close()
	default:
		t.Fatalf("unknown compression %q", compression)
	}
	return l
}

// pullWriteImage writes a linux/amd64 image of layers into the OCI layout dir (its only entry)
// with each layer's own media type, and returns the manifest's descriptor.
func pullWriteImage(t *testing.T, dir string, cmd []string, layers ...pullLayer) ocispec.Descriptor {
	t.Helper()
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{Env: []string{defaultPath}, Cmd: cmd},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Layers:    []ocispec.Descriptor{},
	}
	for _, l := range layers {
		desc, err := writeBlob(dir, l.mediaType, l.blob)
		if err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, desc)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.diffID)
	}
	var err error
	if m.Config, err = writeJSONBlob(dir, ocispec.MediaTypeImageConfig, cfg); err != nil {
		t.Fatal(err)
	}
	desc, err := writeJSONBlob(dir, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := setLayoutIndex(dir, desc); err != nil {
		t.Fatal(err)
	}
	return desc
}

// pullUnique is a short random suffix for names that must not collide between runs or users.
func pullUnique(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func pullRegistryBlob(d digest.Digest) string {
	return filepath.Join(tempDir, "registry", "storage", "docker", "registry", "v2", "blobs",
		d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}

// TestPullNamesTagsDigests: Docker-style short names, tags and digests, both spellings of the
// verb, -q, "Already exists" for shared layers, "Image is up to date" for a second pull, and
// the ownership layer files get in each user mode.
func TestPullNamesTagsDigests(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)

		r := s.must(t, "pull", "alpine")
		if r.Stdout != "docker.io/library/alpine:latest\n" {
			t.Errorf("stdout %q, want the full name alone", r.Stdout)
		}
		pullWantContains(t, "stderr of the first pull", r.Stderr,
			"Using default tag: latest\n", "latest: Pulling from library/alpine\n",
			": Pulling fs layer\n", ": Pull complete\n", "Digest: sha256:",
			"Status: Downloaded newer image for alpine:latest\n")
		pullWantContains(t, "stderr of the first pull", r.Stderr, "Digest: "+pullAlpineDigest(t)+"\n")

		r = s.must(t, "pull", "alpine")
		pullWantContains(t, "stderr of the second pull", r.Stderr, ": Already exists\n", "Status: Image is up to date for alpine:latest\n")
		pullWantNotContains(t, "stderr of the second pull", r.Stderr, "Pulling fs layer", "Pull complete")
		if ids := s.imageIDs(t); len(ids) != 1 {
			t.Errorf("images -q after pulling alpine twice: %q, want one image", ids)
		}

		// Another tag of the same image: nothing to fetch, but the tag is new.
		r = s.must(t, "image", "pull", "docker.io/library/alpine:3.20.3")
		if r.Stdout != "docker.io/library/alpine:3.20.3\n" {
			t.Errorf("stdout %q", r.Stdout)
		}
		pullWantContains(t, "stderr", r.Stderr, ": Already exists\n", "Status: Downloaded newer image for alpine:3.20.3\n")
		pullWantNotContains(t, "stderr", r.Stderr, "Using default tag")

		// busybox:latest and busybox:musl share their one layer.
		s.must(t, "pull", "busybox:latest")
		r = s.must(t, "pull", "busybox:musl")
		pullWantContains(t, "stderr of busybox:musl", r.Stderr, ": Already exists\n", "Status: Downloaded newer image for busybox:musl\n")
		pullWantNotContains(t, "stderr of busybox:musl", r.Stderr, "Pulling fs layer")

		// By digest, quietly: only the reference on stdout.
		r = s.must(t, "pull", "-q", "busybox@"+busyboxGlibcDigest)
		if r.Stdout != "docker.io/library/busybox@"+busyboxGlibcDigest+"\n" {
			t.Errorf("pull -q by digest printed %q", r.Stdout)
		}
		pullWantNotContains(t, "stderr of pull -q", r.Stderr, "Pulling", "Digest:", "Status:")
		r = s.must(t, "pull", "busybox@"+busyboxGlibcDigest)
		pullWantContains(t, "stderr of a second pull by digest", r.Stderr,
			busyboxGlibcDigest+": Pulling from library/busybox\n",
			"Status: Image is up to date for busybox@"+busyboxGlibcDigest+"\n")

		// Straight from the registry by its address, bypassing the mirror.
		r = s.must(t, "pull", regRef("library/busybox:glibc"))
		if r.Stdout != regRef("library/busybox:glibc")+"\n" {
			t.Errorf("stdout %q", r.Stdout)
		}

		want := []string{"alpine:3.20.3", "alpine:latest", "busybox:latest", "busybox:musl", regRef("library/busybox") + ":glibc"}
		sort.Strings(want)
		var names []string
		ids := map[string]bool{}
		for _, l := range s.images(t) {
			f := strings.Fields(l)
			ids[f[1]] = true
			if !strings.HasSuffix(f[0], ":<none>") {
				names = append(names, f[0])
			}
		}
		if strings.Join(names, " ") != strings.Join(want, " ") || len(ids) != 3 {
			t.Errorf("images lists %q with %d ids, want %q with 3 (alpine, busybox musl and glibc)", names, len(ids), want)
		}

		pullCheckShadowOwner(t, s)
	})
}

// pullAlpineDigest is the manifest digest of the alpine test image as the harness pushed it.
func pullAlpineDigest(t *testing.T) string {
	t.Helper()
	desc, err := writeAlpineImage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return desc.Digest.String()
}

// pullCheckShadowOwner checks how the store holds alpine's /etc/shadow (root:shadow, gid 42):
// rootful as is, rootless shifted into the user's subordinate range, and with a single id
// (no range) as the user's own id.
func pullCheckShadowOwner(t *testing.T, s *pullStore) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(s.root, "overlay", "*", "diff", "etc", "alpine-release"))
	if len(matches) != 1 {
		t.Fatalf("want alpine's layer once in the store, found %q", matches)
	}
	info, err := os.Lstat(filepath.Join(filepath.Dir(matches[0]), "shadow"))
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	u := s.u
	var subgidStart uint64
	if u.UID != 0 {
		_, entries, err := readSubIDs("/etc/subgid")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.count > 0 && (e.owner == u.Name || e.owner == fmt.Sprint(u.UID)) {
				subgidStart = e.start
				break
			}
		}
	}
	switch {
	case u.UID == 0:
		if st.Uid != 0 || st.Gid != 42 {
			t.Errorf("rootful etc/shadow is %d:%d, want 0:42", st.Uid, st.Gid)
		}
	case subgidStart == 0:
		if st.Uid != u.UID || st.Gid != u.GID {
			t.Errorf("single-id etc/shadow is %d:%d, want the user's own %d:%d", st.Uid, st.Gid, u.UID, u.GID)
		}
	default:
		if want := uint32(subgidStart) + 42 - 1; st.Uid != u.UID || st.Gid != want {
			t.Errorf("rootless etc/shadow is %d:%d, want %d:%d (gid 42 in the subordinate range from %d)", st.Uid, st.Gid, u.UID, want, subgidStart)
		}
	}
}

// TestPullPlatforms: a multi-platform index resolves to the host's platform (the arm64 entry
// listed first must not be taken), --platform picks another, and a platform the index lacks
// fails with the ones it has.
func TestPullPlatforms(t *testing.T) {
	var index ocispec.Index
	if err := readJSON(filepath.Join(tempDir, "images", "multi", "index.json"), &index); err != nil {
		t.Fatal(err)
	}
	indexDigest := index.Manifests[0].Digest.String()
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		r := s.must(t, "pull", "multi")
		pullWantContains(t, "stderr", r.Stderr, "Digest: "+indexDigest+"\n")
		if run := s.must(t, "run", "--rm", "--pull=never", "multi"); run.Stdout != "amd64\n" {
			t.Errorf("multi pulled for the host prints %q, want amd64", run.Stdout)
		}

		r = s.must(t, "pull", "--platform", "linux/arm64", "multi")
		pullWantContains(t, "stderr", r.Stderr, "Status: Downloaded newer image for multi:latest\n")
		arch := s.must(t, "image", "inspect", "--format", "{{.Architecture}}", "multi")
		if strings.TrimSpace(arch.Stdout) != "arm64" {
			t.Errorf("multi pulled with --platform linux/arm64 is %q", arch.Stdout)
		}

		// A single-platform image is taken whatever it is for, with Docker's warning.
		r = s.must(t, "pull", "--platform", "linux/arm64", "alpine")
		pullWantContains(t, "stderr", r.Stderr, "WARNING: image with reference alpine:latest was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64\n")
		if r := s.must(t, "pull", "--platform", "linux/amd64", "alpine"); strings.Contains(r.Stderr, "WARNING") {
			t.Errorf("a matching platform warned: %s", r.Stderr)
		}

		pullWantError(t, s.box(t, "pull", "--platform", "linux/s390x", "multi"), 1,
			"no matching manifest for linux/s390x", "linux/arm64/v8", "linux/amd64")
		pullWantError(t, s.box(t, "pull", "--platform", "linux", "multi"), 1, `invalid platform "linux"`)
		if arch := s.must(t, "image", "inspect", "--format", "{{.Architecture}}", "multi"); strings.TrimSpace(arch.Stdout) != "arm64" {
			t.Errorf("a failed pull changed what multi names: %q", arch.Stdout)
		}
	})
}

// TestPullAllTags: -a pulls every tag of a repository, and refuses a tag or digest as Docker
// does.
func TestPullAllTags(t *testing.T) {
	repo := "pulltest/tags-" + pullUnique(t)
	dir := t.TempDir()
	for _, tag := range []string{"one", "two", "three"} {
		pullWriteImage(t, dir, []string{"true"}, pullTarLayer(t, "gzip", tarEntry{Name: "tag", Body: tag + "\n"}))
		pushLayout(t, dir, repo+":"+tag)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		r := s.must(t, "pull", "--all-tags", repo)
		if r.Stdout != "docker.io/"+repo+"\n" {
			t.Errorf("pull -a printed %q on stdout, want the repository", r.Stdout)
		}
		pullWantContains(t, "stderr", r.Stderr, "one: Pulling from "+repo+"\n", "two: Pulling from "+repo+"\n", "three: Pulling from "+repo+"\n", "Status: Downloaded newer image for "+repo+"\n")
		var names []string
		for _, l := range s.images(t) {
			names = append(names, strings.Fields(l)[0])
		}
		if want := []string{repo + ":one", repo + ":three", repo + ":two"}; strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("images after pull -a: %q, want %q", names, want)
		}
		for _, arg := range []string{repo + ":one", "busybox@" + busyboxMuslDigest, regRef(repo) + ":two"} {
			pullWantError(t, s.box(t, "image", "pull", "-a", arg), 1, "tag can't be used with --all-tags/-a")
		}
		pullWantError(t, s.box(t, "pull", "-a", "pulltest/nosuch-"+pullUnique(t)), 1, "not found")
	})
}

// TestPullCompression: gzip, zstd and uncompressed layers all unpack to the same files.
func TestPullCompression(t *testing.T) {
	base := pullBusyboxLayer(t)
	repo := "pulltest/compression-" + pullUnique(t)
	kinds := []string{"gzip", "zstd", "none"}
	for _, kind := range kinds {
		dir := t.TempDir()
		layer := pullTarLayer(t, kind,
			tarEntry{Name: "data", Type: tar.TypeDir},
			tarEntry{Name: "data/kind", Body: kind + "\n"},
			tarEntry{Name: "data/big", Body: strings.Repeat("box pulls "+kind+"\n", 20000)})
		pullWriteImage(t, dir, []string{"cat", "/data/kind"}, base, layer)
		pushLayout(t, dir, repo+":"+kind)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		for i, kind := range kinds {
			r := s.must(t, "pull", repo+":"+kind)
			if i > 0 {
				pullWantContains(t, "stderr", r.Stderr, ": Already exists\n")
			}
			if run := s.must(t, "run", "--rm", "--pull=never", repo+":"+kind); run.Stdout != kind+"\n" {
				t.Errorf("%s layer: run prints %q, want %q", kind, run.Stdout, kind+"\n")
			}
			run := s.must(t, "run", "--rm", "--pull=never", repo+":"+kind, "sh", "-c", "wc -c < /data/big")
			if want := fmt.Sprint(len(strings.Repeat("box pulls "+kind+"\n", 20000))); strings.TrimSpace(run.Stdout) != want {
				t.Errorf("%s layer: /data/big has %s bytes, want %s", kind, strings.TrimSpace(run.Stdout), want)
			}
		}
		// Each layer is unpacked once, into the layer the image uses: the
		// shared base once, and no second copy of any layer under another
		// ID (which would double the disk a pull takes).
		layers := s.layers(t)
		if len(layers) != 1+len(kinds) {
			t.Errorf("the store holds %d layers after pulling %d images sharing a base, want %d: %+v", len(layers), len(kinds), 1+len(kinds), layers)
		}
		seen := map[string]bool{}
		for _, l := range layers {
			if seen[l.DiffDigest] {
				t.Errorf("layer %s is stored twice: %+v", l.DiffDigest, layers)
			}
			seen[l.DiffDigest] = true
		}
	})
}

// storeLayer is one layer as the store records it.
type storeLayer struct {
	ID               string `json:"id"`
	Parent           string `json:"parent"`
	CompressedDigest string `json:"compressed-diff-digest"`
	DiffDigest       string `json:"diff-digest"`
}

// layers lists the layers in s's store.
func (s *pullStore) layers(t *testing.T) []storeLayer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, "overlay-layers", "layers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []storeLayer
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("layers.json: %v", err)
	}
	return list
}

// TestPullBadInput: every mistake gets one clear line and Docker's exit code, and stored
// images survive it.
func TestPullBadInput(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		s.must(t, "pull", "-q", "busybox")

		// Docker: `docker pull UPPER` prints Docker's reference message and exits 1.
		for _, c := range []struct{ ref, want string }{
			{"UPPER", "invalid reference format: repository name (library/UPPER) must be lowercase"},
			{"UPPER/case", "invalid reference format: repository name (UPPER/case) must be lowercase"},
			{"a@sha256:zz", `invalid reference format: "a@sha256:zz": bad digest`},
			{":x", `invalid reference format: ":x": no repository name`},
			{"alpine:", `invalid reference format: "alpine:": bad tag`},
			{"a b", "invalid reference format"},
			{"", "invalid reference format: empty name"},
		} {
			r := s.box(t, "pull", c.ref)
			pullWantError(t, r, 1, c.want)
			pullWantNotContains(t, "stderr", r.Stderr, "Pulling from")
		}
		// Usage mistakes are box's own failure: 125, with Docker's two-line message.
		for _, args := range [][]string{{"pull"}, {"pull", "alpine", "busybox"}, {"pull", "--no-such-flag", "alpine"}} {
			r := s.box(t, args...)
			if r.Code != 125 || !strings.HasPrefix(r.Stderr, "Error: ") || !strings.Contains(r.Stderr, "See 'box pull --help'.") {
				t.Errorf("box %s: want exit 125 and a hint to --help: %s", quoteArgs(args), r)
			}
		}

		// Missing images and tags name the registry asked, and the mirror that was asked first.
		r := s.box(t, "pull", "nosuch")
		pullWantError(t, r, 1, "docker.io/library/nosuch:latest: not found", "mirror "+registryAddr)
		pullWantNotContains(t, "stderr", r.Stderr, "Pulling from")
		pullWantError(t, s.box(t, "pull", "alpine:nosuch"), 1, "docker.io/library/alpine:nosuch: not found", registryAddr)
		pullWantError(t, s.box(t, "pull", regRef("library/nosuch:v1")), 1,
			regRef("library/nosuch:v1")+": not found in registry "+registryAddr)
		pullWantError(t, s.box(t, "pull", "busybox@sha256:"+strings.Repeat("0", 64)), 1, "not found", registryAddr)

		if got := s.images(t); len(got) != 1 || !strings.HasPrefix(got[0], "busybox:latest ") {
			t.Errorf("images after the failed pulls: %q, want busybox:latest alone", got)
		}
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("failed pulls left %q in the store's pull-tmp", left)
		}
	})
}

// TestPullUnreachable: a registry that refuses connections, and one that accepts them and never
// answers, fail the pull within seconds.
func TestPullUnreachable(t *testing.T) {
	stall := pullStaller(t)
	insecureConf := pullRegistriesConf(t, stall)
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		start := time.Now()
		pullWantError(t, s.box(t, "pull", "127.0.0.1:1/x"), 1,
			"pull 127.0.0.1:1/x:latest: registry 127.0.0.1:1 unreachable", "connection refused")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a refused connection took %s to report", d)
		}

		// Over https (the default), Go's TLS handshake timeout (10s) comes first.
		start = time.Now()
		pullWantError(t, s.box(t, "pull", stall+"/silent"), 1, "registry "+stall)
		if d := time.Since(start); d > 25*time.Second {
			t.Errorf("a silent https registry took %s to report", d)
		}

		// Over plain http nothing times out but box's own wait for the registry's first answer.
		start = time.Now()
		r := s.boxWith(t, RunOpts{Env: []string{"CONTAINERS_REGISTRIES_CONF=" + insecureConf, "BOX_REGISTRY_TIMEOUT=3s"}}, "pull", stall+"/silent")
		pullWantError(t, r, 1, "registry "+stall+" did not answer within 3s")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("BOX_REGISTRY_TIMEOUT=3s: the silent registry took %s to report", d)
		}
		if u.Mode == "rootless" {
			// And with the default wait, still within seconds.
			start = time.Now()
			r := s.boxWith(t, RunOpts{Env: []string{"CONTAINERS_REGISTRIES_CONF=" + insecureConf}}, "pull", stall+"/silent")
			pullWantError(t, r, 1, "registry "+stall+" did not answer within 20s")
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("the silent registry took %s to report with the default wait", d)
			}
		}
		r = s.boxWith(t, RunOpts{Env: []string{"BOX_REGISTRY_TIMEOUT=soon"}}, "pull", "alpine")
		pullWantError(t, r, 1, `invalid BOX_REGISTRY_TIMEOUT "soon"`)
		if ids := s.imageIDs(t); len(ids) != 0 {
			t.Errorf("images after failed pulls: %q", ids)
		}
	})
}

// pullStaller listens on 127.0.0.1, accepts connections and never says a word.
func pullStaller(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// pullThrottle is a TCP proxy to upstream that sends at most rate bytes a second on each
// connection back to the client, so that a pull through it lasts long enough to be caught
// mid-way.
func pullThrottle(t *testing.T, upstream string, rate int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				buf := make([]byte, 32<<10)
				chunk := time.Duration(len(buf)) * time.Second / time.Duration(rate)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
						time.Sleep(chunk * time.Duration(n) / time.Duration(len(buf)))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// pullBig is a two-layer image: BusyBox, then ~60 MB of random bytes in /big (which no
// compression shrinks), pushed once as pulltest/big:latest. bigID is the big layer's short id.
var pullBig struct {
	once  sync.Once
	repo  string
	bigID string
	err   error
}

func pullBigImage(t *testing.T) (repo, bigID string) {
	t.Helper()
	pullBig.once.Do(func() {
		data := make([]byte, 60<<20)
		if _, err := rand.Read(data); err != nil {
			pullBig.err = err
			return
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)})
		tw.Write(data)
		tw.WriteHeader(&tar.Header{Name: "marker", Mode: 0o644, Size: 3, ModTime: time.Unix(0, 0)})
		tw.Write([]byte("ok\n"))
		tw.Close()
		raw := buf.Bytes()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.NoCompression)
		zw.Write(raw)
		zw.Close()
		big := pullLayer{blob: gz.Bytes(), mediaType: ocispec.MediaTypeImageLayerGzip, diffID: digest.FromBytes(raw)}
		dir := filepath.Join(tempDir, "images", "pulltest-big")
		pullWriteImage(t, dir, []string{"cat", "/marker"}, pullBusyboxLayer(t), big)
		pullBig.repo = "pulltest/big"
		pullBig.bigID = digest.FromBytes(big.blob).Encoded()[:12]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pullBig.err = pushLayoutImage(ctx, dir, pullBig.repo+":latest", false)
	})
	if pullBig.err != nil {
		t.Fatalf("big test image: %v", pullBig.err)
	}
	return pullBig.repo, pullBig.bigID
}

// pullStart starts box on s with args and returns it with a channel of its stderr lines
// (closed at EOF) and its captured stdout.
func pullStart(t *testing.T, s *pullStore, env []string, args ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := s.cmd(args...)
	cmd.Env = append(cmd.Env, env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd, lines, &stdout
}

// pullWaitLine waits until a line of lines has prefix, returning everything seen so far.
func pullWaitLine(t *testing.T, lines <-chan string, prefix string, within time.Duration) []string {
	t.Helper()
	var seen []string
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("box ended before printing %q: %q", prefix, seen)
			}
			seen = append(seen, l)
			if strings.HasPrefix(l, prefix) {
				return seen
			}
		case <-deadline:
			t.Fatalf("box did not print %q within %s: %q", prefix, within, seen)
		}
	}
}

func pullDrain(lines <-chan string) []string {
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	return rest
}

// pullExitCode waits for cmd, giving up (and killing it) after within; killed by signal N is
// 128+N, as a shell reports it.
func pullExitCode(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("box %s did not end within %s", quoteArgs(cmd.Args[1:]), within)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// TestPullInterrupted: a pull stopped mid-way by SIGINT cleans up and exits 130; one killed
// with SIGKILL leaves nothing the next pull trips on. Neither leaves an image behind.
func TestPullInterrupted(t *testing.T) {
	repo, bigID := pullBigImage(t)
	slow := pullThrottle(t, registryAddr, 12<<20)
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + pullRegistriesConf(t, slow)}
	ref := slow + "/" + repo + ":latest"
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)

		cmd, lines, _ := pullStart(t, s, env, "pull", ref)
		pullWaitLine(t, lines, bigID+": Pulling fs layer", time.Minute)
		s.waitPullMidway(t)
		start := time.Now()
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		rest := pullDrain(lines)
		if code := pullExitCode(t, cmd, 30*time.Second); code != 130 {
			t.Errorf("pull interrupted by SIGINT exited %d, want 130; stderr after the signal: %q", code, rest)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("pull took %s to stop after SIGINT", d)
		}
		for _, l := range rest {
			if strings.Contains(l, "Pull complete") && strings.HasPrefix(l, bigID) || strings.HasPrefix(l, "Status:") {
				t.Fatalf("the pull finished before SIGINT could stop it (%q): the throttle is too fast", rest)
			}
		}
		if ids := s.imageIDs(t); len(ids) != 0 {
			t.Errorf("images after an interrupted pull: %q", ids)
		}
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("an interrupted pull left %q in pull-tmp", left)
		}

		cmd, lines, _ = pullStart(t, s, env, "pull", ref)
		pullWaitLine(t, lines, bigID+": Pulling fs layer", time.Minute)
		s.waitPullMidway(t)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		pullDrain(lines)
		if code := pullExitCode(t, cmd, 30*time.Second); code != 128+9 {
			t.Errorf("pull killed by SIGKILL exited %d", code)
		}
		if ids := s.imageIDs(t); len(ids) != 0 {
			t.Errorf("images after a killed pull: %q", ids)
		}

		r := s.boxWith(t, RunOpts{Env: env}, "pull", ref)
		if r.Code != 0 {
			t.Fatalf("pull after a killed one: %s", r)
		}
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("the killed pull's leftovers %q were not cleaned by the next pull", left)
		}
		if got := s.images(t); len(got) != 1 || !strings.HasPrefix(got[0], slow+"/"+repo+":latest ") {
			t.Errorf("images after the completed pull: %q", got)
		}
		if run := s.must(t, "run", "--rm", "--pull=never", ref); run.Stdout != "ok\n" {
			t.Errorf("the pulled image runs and prints %q", run.Stdout)
		}
		if run := s.must(t, "run", "--rm", "--pull=never", ref, "sh", "-c", "wc -c < /big"); strings.TrimSpace(run.Stdout) != fmt.Sprint(60<<20) {
			t.Errorf("/big has %s bytes, want %d", run.Stdout, 60<<20)
		}
		r = s.boxWith(t, RunOpts{Env: env}, "pull", ref)
		pullWantContains(t, "stderr of a repeated pull", r.Stderr, "Image is up to date")
	})
}

// TestPullConcurrent: two pulls of one image at once both succeed, and one image results.
func TestPullConcurrent(t *testing.T) {
	repo, _ := pullBigImage(t)
	slow := pullThrottle(t, registryAddr, 30<<20)
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + pullRegistriesConf(t, slow)}
	ref := slow + "/" + repo + ":latest"
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		var wg sync.WaitGroup
		results := make([]Result, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.boxWith(t, RunOpts{Env: env}, "pull", ref)
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.Code != 0 || r.Stdout != ref+"\n" {
				t.Errorf("concurrent pull %d: %s", i, r)
			}
		}
		if got := s.images(t); len(got) != 1 {
			t.Errorf("images after two concurrent pulls: %q, want one", got)
		}
		if run := s.must(t, "run", "--rm", "--pull=never", ref); run.Stdout != "ok\n" {
			t.Errorf("the pulled image runs and prints %q", run.Stdout)
		}
	})
}

// TestPullProgressTerminal: on a terminal, stderr gets live per-layer bars instead of the plain
// lines, and stdout still gets only the name.
func TestPullProgressTerminal(t *testing.T) {
	repo, bigID := pullBigImage(t)
	slow := pullThrottle(t, registryAddr, 40<<20)
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + pullRegistriesConf(t, slow)}
	ref := slow + "/" + repo + ":latest"
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		pty, slavePath, err := console.NewPty()
		if err != nil {
			t.Fatal(err)
		}
		defer pty.Close()
		if err := pty.Resize(console.WinSize{Height: 30, Width: 120}); err != nil {
			t.Fatal(err)
		}
		slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		var screen bytes.Buffer
		copied := make(chan struct{})
		go func() { io.Copy(&screen, pty); close(copied) }()

		cmd := s.cmd("pull", ref)
		cmd.Env = append(cmd.Env, env...)
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, slave
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		slave.Close()
		code := pullExitCode(t, cmd, 2*time.Minute)
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		out := screen.String()
		if code != 0 {
			t.Fatalf("pull on a terminal: exit %d\n%s", code, out)
		}
		if stdout.String() != ref+"\n" {
			t.Errorf("stdout %q, want the name alone", stdout.String())
		}
		pullWantContains(t, "the terminal", out, bigID+": Downloading", "MiB", bigID+": Pull complete", "Status: Downloaded newer image")
		pullWantNotContains(t, "the terminal", out, "Pulling fs layer")
		if !strings.Contains(out, "\x1b[") {
			t.Errorf("no cursor movement on the terminal: the bars were not redrawn\n%q", out)
		}
	})
}

// TestPullCorruptBlob: a blob that does not match its digest is rejected in one line, and the
// image the name held before stays.
func TestPullCorruptBlob(t *testing.T) {
	base := pullBusyboxLayer(t)
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		repo := "pulltest/corrupt-" + u.Mode + "-" + pullUnique(t)
		good := t.TempDir()
		pullWriteImage(t, good, []string{"cat", "/version"}, base, pullTarLayer(t, "gzip", tarEntry{Name: "version", Body: "good\n"}))
		pushLayout(t, good, repo+":latest")
		s := newPullStore(t, u)
		s.must(t, "pull", "-q", repo)
		before := s.images(t)

		// The next version of the image, whose layer gets overwritten in the registry.
		bad := t.TempDir()
		payload := make([]byte, 4096)
		rand.Read(payload)
		layer := pullTarLayer(t, "gzip", tarEntry{Name: "version", Body: "bad\n"}, tarEntry{Name: "payload", Body: string(payload)})
		pullWriteImage(t, bad, []string{"cat", "/version"}, base, layer)
		pushLayout(t, bad, repo+":latest")
		d := digest.FromBytes(layer.blob)
		garbage := make([]byte, len(layer.blob))
		rand.Read(garbage)
		if err := os.WriteFile(pullRegistryBlob(d), garbage, 0o644); err != nil {
			t.Fatal(err)
		}

		for i := 0; i < 2; i++ {
			r := s.box(t, "pull", repo)
			pullWantError(t, r, 1, "pull "+repo+":latest: blob "+d.String()+" of docker.io/"+repo+" is corrupt: its content has digest "+digest.FromBytes(garbage).String())
		}

		// A layer whose blob is intact but which decompresses to something
		// else than the config's DiffID says.
		lying := t.TempDir()
		other := pullTarLayer(t, "gzip", tarEntry{Name: "version", Body: "lying\n"}, tarEntry{Name: "payload", Body: string(payload)})
		wrongDiffID := other.diffID
		other.diffID = digest.FromString("something else")
		pullWriteImage(t, lying, []string{"cat", "/version"}, base, other)
		pushLayout(t, lying, repo+":lying")
		layersBefore := len(s.layers(t))
		r := s.box(t, "pull", repo+":lying")
		pullWantError(t, r, 1, "pull "+repo+":lying: layer "+digest.FromBytes(other.blob).String()+" of docker.io/"+repo+" is corrupt: it decompresses to content with digest "+wrongDiffID.String()+", not the "+other.diffID.String())
		if n := len(s.layers(t)); n != layersBefore {
			t.Errorf("the store held %d layers before the lying pull, %d after", layersBefore, n)
		}
		if after := s.images(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("images before the corrupt pull %q, after %q", before, after)
		}
		if run := s.must(t, "run", "--rm", "--pull=never", repo); run.Stdout != "good\n" {
			t.Errorf("%s now runs as %q, want the good version", repo, run.Stdout)
		}
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("the rejected pull left %q in pull-tmp", left)
		}
	})
}

// TestPullHostileLayers: layers whose entries climb out with ../, absolute or relative symlinks
// or hard links stay inside the store (or fail cleanly); nothing lands in /tmp, the scratch
// tree or the user's home, and /etc/passwd is untouched.
func TestPullHostileLayers(t *testing.T) {
	passwdBefore, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		s := newPullStore(t, u)
		mark := "box-escape-" + pullUnique(t)
		deep := strings.Repeat("../", 12)
		// Each is refused at pull, naming its entry, but the symlink a lower
		// layer made: the layer under it cannot see it, and unpacking keeps
		// the entry inside the root, as Docker's does.
		cases := []struct {
			name    string
			layers  [][]tarEntry
			allowed bool
		}{
			{"dotdot", [][]tarEntry{{
				{Name: deep + "tmp/" + mark + "-dotdot"},
				{Name: "a/" + deep + "tmp/" + mark + "-dotdot2"},
				{Name: deep + strings.TrimPrefix(u.Home, "/") + "/" + mark + "-home"},
			}}, false},
			{"abs-symlink", [][]tarEntry{{
				{Name: "etc", Type: tar.TypeDir},
				{Name: "etc/x", Type: tar.TypeSymlink, Linkname: "/tmp"},
				{Name: "etc/x/" + mark + "-abs"},
				{Name: "h", Type: tar.TypeSymlink, Linkname: u.Home},
				{Name: "h/" + mark + "-abs-home"},
			}}, false},
			{"rel-symlink", [][]tarEntry{{
				{Name: "up", Type: tar.TypeSymlink, Linkname: deep + "tmp"},
				{Name: "up/" + mark + "-rel"},
			}}, false},
			{"symlink-across-layers", [][]tarEntry{
				{{Name: "y", Type: tar.TypeSymlink, Linkname: "/tmp"}},
				{{Name: "y/" + mark + "-layers"}},
			}, true},
			{"hardlink", [][]tarEntry{{
				{Name: "passwd-abs", Type: tar.TypeLink, Linkname: "/etc/passwd"},
				{Name: "passwd-rel", Type: tar.TypeLink, Linkname: deep + "etc/passwd"},
			}}, false},
			{"hardlink-then-write", [][]tarEntry{{
				{Name: "etc", Type: tar.TypeDir},
				{Name: "etc/passwd", Type: tar.TypeLink, Linkname: deep + "etc/passwd"},
				{Name: "etc/passwd", Body: "pwned::0:0::/:/bin/sh\n"},
			}}, false},
		}
		for _, c := range cases {
			dir := t.TempDir()
			var layers []pullLayer
			for _, entries := range c.layers {
				for i := range entries {
					if entries[i].Body == "" && entries[i].Type == 0 {
						entries[i].Body = "escaped\n"
					}
				}
				layers = append(layers, pullTarLayer(t, "gzip", entries...))
			}
			pullWriteImage(t, dir, []string{"true"}, layers...)
			repo := "pulltest/hostile-" + c.name + "-" + mark
			pushLayout(t, dir, repo+":latest")
			r := s.box(t, "pull", repo)
			if !c.allowed && r.Code == 0 {
				t.Errorf("%s: a hostile layer was pulled: %s", c.name, r)
			}
			switch r.Code {
			case 0:
				// Kept, but inside the store.
				found := map[string]bool{}
				var inside []string
				filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
					if err == nil && strings.Contains(d.Name(), mark) {
						found[d.Name()] = true
						inside = append(inside, strings.TrimPrefix(p, s.root))
					}
					return nil
				})
				for _, layer := range c.layers {
					for _, e := range layer {
						if name := filepath.Base(e.Name); strings.Contains(name, mark) && !found[name] {
							t.Errorf("%s: pulled, but %s is nowhere in the store", c.name, name)
						}
					}
				}
				t.Logf("%s: pulled, contained: %q", c.name, inside)
			case 1:
				pullWantError(t, r, 1, "pull "+repo+":latest: ", "refused")
				if imgs := s.images(t); strings.Contains(strings.Join(imgs, "\n"), repo) {
					t.Errorf("%s: failed pull is listed: %q", c.name, imgs)
				}
			default:
				t.Errorf("%s: exit %d: %s", c.name, r.Code, r)
			}
		}
		for _, dir := range []string{"/tmp", "/var/tmp", u.Home, tempDir, filepath.Dir(s.root)} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				if strings.Contains(e.Name(), mark) {
					t.Errorf("a hostile layer wrote %s outside the store", filepath.Join(dir, e.Name()))
					os.Remove(filepath.Join(dir, e.Name()))
				}
			}
		}
		// Deeper: anywhere in the scratch tree but the store's layers.
		filepath.WalkDir(tempDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (strings.HasPrefix(p, filepath.Join(tempDir, "pull-")) || strings.HasPrefix(p, filepath.Join(tempDir, "registry"))) {
				return fs.SkipDir
			}
			if strings.Contains(d.Name(), mark) {
				t.Errorf("a hostile layer wrote %s outside the store", p)
			}
			return nil
		})
		if after, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(after, passwdBefore) {
			t.Fatalf("/etc/passwd changed")
		}
	})
}

// TestPullCredentials: a registry behind htpasswd refuses a pull without credentials, says so
// when they are wrong, and serves it with credentials from ~/.docker/config.json,
// $XDG_RUNTIME_DIR/containers/auth.json or $REGISTRY_AUTH_FILE.
func TestPullCredentials(t *testing.T) {
	const user, pass = "boxer", "s3cret-Pa55"
	reg := pullStartAuthRegistry(t, user, pass)
	dir := t.TempDir()
	pullWriteImage(t, dir, []string{"cat", "/secret"}, pullBusyboxLayer(t), pullTarLayer(t, "gzip", tarEntry{Name: "secret", Body: "behind a password\n"}))
	for _, tag := range []string{"v1", "v2", "v3"} {
		pullPushTo(t, dir, reg+"/private/img:"+tag, &types.DockerAuthConfig{Username: user, Password: pass})
	}
	conf := pullRegistriesConf(t, reg)
	authJSON := func(u, p string) []byte {
		b, _ := json.Marshal(map[string]any{"auths": map[string]any{reg: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(u + ":" + p))}}})
		return b
	}
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		home := filepath.Join(filepath.Dir(s.root), "home")
		runtime := filepath.Join(filepath.Dir(s.root), "xdg-run")
		config := filepath.Join(filepath.Dir(s.root), "xdg-config")
		for _, d := range []string{home, runtime, config} {
			pullMkdirFor(t, u, d)
		}
		env := []string{"CONTAINERS_REGISTRIES_CONF=" + conf, "HOME=" + home, "XDG_RUNTIME_DIR=" + runtime, "XDG_CONFIG_HOME=" + config}
		pull := func(extra []string, args ...string) Result {
			return s.boxWith(t, RunOpts{Env: append(append([]string{}, env...), extra...)}, args...)
		}
		ref := reg + "/private/img"

		pullWantError(t, pull(nil, "pull", ref+":v1"), 1, "pull "+ref+":v1: registry "+reg+" requires credentials")

		dockerConfig := filepath.Join(home, ".docker", "config.json")
		pullWriteFileFor(t, u, dockerConfig, authJSON(user, "wrong"))
		pullWantError(t, pull(nil, "pull", ref+":v1"), 1, "registry "+reg+` rejected the credentials of user "`+user+`"`)

		pullWriteFileFor(t, u, dockerConfig, authJSON(user, pass))
		if r := pull(nil, "pull", ref+":v1"); r.Code != 0 || r.Stdout != ref+":v1\n" {
			t.Errorf("pull with ~/.docker/config.json: %s", r)
		}
		pullWantError(t, pull(nil, "pull", reg+"/private/nosuch"), 1, reg+"/private/nosuch:latest: not found in registry "+reg)
		os.Remove(dockerConfig)

		pullWriteFileFor(t, u, filepath.Join(runtime, "containers", "auth.json"), authJSON(user, pass))
		if r := pull(nil, "pull", ref+":v2"); r.Code != 0 {
			t.Errorf("pull with $XDG_RUNTIME_DIR/containers/auth.json: %s", r)
		}
		os.Remove(filepath.Join(runtime, "containers", "auth.json"))

		authFile := filepath.Join(home, "elsewhere.json")
		pullWriteFileFor(t, u, authFile, authJSON(user, pass))
		if r := pull([]string{"REGISTRY_AUTH_FILE=" + authFile}, "pull", ref+":v3"); r.Code != 0 {
			t.Errorf("pull with REGISTRY_AUTH_FILE: %s", r)
		}
		pullWantError(t, pull(nil, "pull", ref+":v3"), 1, "requires credentials")

		var names []string
		for _, l := range s.images(t) {
			names = append(names, strings.Fields(l)[0])
		}
		if want := ref + ":v1 " + ref + ":v2 " + ref + ":v3"; strings.Join(names, " ") != want {
			t.Errorf("images: %q, want %s", names, want)
		}
		if run := s.must(t, "run", "--rm", "--pull=never", ref+":v1"); run.Stdout != "behind a password\n" {
			t.Errorf("the private image prints %q", run.Stdout)
		}
	})
}

// pullStartAuthRegistry starts a second registry that wants user and pass (htpasswd, bcrypt)
// and returns its address. It stops when the test ends.
func pullStartAuthRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tempDir, "auth-registry-"+pullUnique(t))
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := pullTryAuthRegistry(t, dir, htpasswd)
		if err == nil {
			return addr
		}
		errs = append(errs, err)
	}
	t.Fatalf("auth registry: %v", errors.Join(errs...))
	return ""
}

func pullTryAuthRegistry(t *testing.T, dir, htpasswd string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	config := filepath.Join(dir, "config.yml")
	yaml := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\nauth:\n  htpasswd:\n    realm: box-test\n    path: %s\n",
		filepath.Join(dir, "storage"), addr, htpasswd)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	cmd := exec.Command(registryBinary, "serve", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() { cmd.Process.Kill(); <-exited }
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			return "", fmt.Errorf("registry on %s exited: %s", addr, tail(logPath))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Cleanup(stop)
			return addr, nil
		}
	}
	stop()
	return "", fmt.Errorf("registry on %s did not come up: %s", addr, tail(logPath))
}
