package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.podman.io/storage/pkg/archive"
)

// Build contexts that are not a directory on this machine, as `docker
// build` takes them: a Git repository (cloned with the git CLI, see
// git.go), a URL of a tar archive or of a Dockerfile, or stdin holding
// either. Each becomes a directory under the store's tmp that the build
// removes when it ends, whatever the outcome.

// IsURL says whether a build context is an http or https URL, as Docker's
// urlutil.IsURL: nothing more is checked.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// IsGitURL says whether a build context (or an ADD source) names a Git
// repository, by Docker's rules (urlutil.IsGitURL): an http(s) URL whose
// path ends in .git, optionally followed by "#ref[:subdir]"; anything
// starting with git://, git@ or github.com/; and, as BuildKit also takes
// it, ssh://. The caller checks first that a "github.com/…" context is
// not a local directory.
func IsGitURL(s string) bool {
	if IsURL(s) {
		p, _, _ := strings.Cut(s, "#")
		if u, err := url.Parse(p); err == nil && strings.HasSuffix(u.Path, ".git") {
			return true
		}
		return false
	}
	for _, prefix := range []string{"git://", "git@", "github.com/", "ssh://"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// ContextError is a build context that could not be made ready: a URL
// that cannot be reached or is not a context, a Git ref that does not
// exist, an archive that reaches outside itself. It names the source.
type ContextError struct {
	Source string
	Err    error
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("unable to prepare context: %s: %v", e.Source, e.Err)
}

func (e *ContextError) Unwrap() error { return e.Err }

// contextTimeout is how long a remote context may send nothing at all
// (no answer, no bytes, no progress from git) before box gives up on it.
// BOX_BUILD_CONTEXT_TIMEOUT (a Go duration such as "30s") changes it.
func contextTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BOX_BUILD_CONTEXT_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}

// errIdle is the cause of a fetch stopped by the idle timer.
var errIdle = errors.New("idle")

// idleTimer cancels a context once it has not been kicked for d.
type idleTimer struct {
	d     time.Duration
	timer *time.Timer
}

func newIdleTimer(ctx context.Context, d time.Duration) (context.Context, *idleTimer, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := &idleTimer{d: d, timer: time.AfterFunc(d, func() { cancel(errIdle) })}
	return ctx, t, func() { t.timer.Stop(); cancel(nil) }
}

func (t *idleTimer) kick() { t.timer.Reset(t.d) }

// timedOut turns an error of a fetch the idle timer stopped into a
// message that says so.
func timedOut(ctx context.Context, d time.Duration, err error) error {
	if errors.Is(context.Cause(ctx), errIdle) {
		return fmt.Errorf("timed out: nothing received for %s", d)
	}
	return err
}

// idleReader kicks its timer at every read that returns data.
type idleReader struct {
	r io.Reader
	t *idleTimer
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.kick()
	}
	return n, err
}

// prepared is a build context made ready: the directory to build from,
// and the Dockerfile when the source was one (no context then). Both
// live in the build's working directory, which the build removes.
type prepared struct {
	dir     string
	content []byte
}

// maxDockerfile bounds a Dockerfile read from a URL or stdin.
const maxDockerfile = 16 << 20

// prepareContext makes the context of opts ready when it is a URL or a
// stream, in a new directory under tmp.
func prepareContext(ctx context.Context, tmp string, opts Options) (*prepared, error) {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	if opts.ContextURL != "" && IsGitURL(opts.ContextURL) {
		repo, err := cloneGit(ctx, tmp, opts.ContextURL, false)
		if err != nil {
			return nil, &ContextError{Source: opts.ContextURL, Err: err}
		}
		return &prepared{dir: repo.dir}, nil
	}
	source, r := "stdin", opts.ContextTar
	if opts.ContextURL != "" {
		source = opts.ContextURL
		d := contextTimeout()
		rctx, idle, stop := newIdleTimer(ctx, d)
		defer stop()
		body, mediaType, err := get(rctx, opts.ContextURL)
		if err != nil {
			return nil, &ContextError{Source: source, Err: timedOut(rctx, d, err)}
		}
		defer body.Close()
		p, err := readContext(tmp, &idleReader{r: body, t: idle}, opts.Dockerfile, mediaType, true)
		if err != nil {
			return nil, &ContextError{Source: source, Err: timedOut(rctx, d, err)}
		}
		return p, nil
	}
	p, err := readContext(tmp, r, opts.Dockerfile, "", false)
	if err != nil {
		return nil, &ContextError{Source: source, Err: err}
	}
	return p, nil
}

// get starts a download and returns its body and media type; a status
// other than 200 is an error that says which.
func get(ctx context.Context, u string) (io.ReadCloser, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, "", fmt.Errorf("the server answered %s", resp.Status)
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return resp.Body, strings.TrimSpace(strings.ToLower(mt)), nil
}

// looksLikeArchive says, from the first bytes of a stream, whether it is a tar
// archive, compressed or not (Docker's test): anything else is taken as
// a Dockerfile.
func looksLikeArchive(header []byte) bool {
	if archive.DetectCompression(header) != archive.Uncompressed {
		return true
	}
	_, err := tar.NewReader(bytes.NewReader(header)).Next()
	return err == nil
}

// readContext reads a tar archive of the context or a Dockerfile from r
// (which one is told by its content) into a new directory under tmp.
func readContext(tmp string, r io.Reader, dockerfile, mediaType string, remote bool) (*prepared, error) {
	br := bufio.NewReaderSize(r, 1024)
	header, err := br.Peek(1024)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmp, "build-context-")
	if err != nil {
		return nil, err
	}
	p := &prepared{dir: dir}
	if looksLikeArchive(header) {
		if err := extractContext(br, dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return p, nil
	}
	// Not an archive: a Dockerfile, and the build has no context.
	fail := func(err error) (*prepared, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	trimmed := bytes.TrimSpace(header)
	if remote && (mediaType == "text/html" || bytes.HasPrefix(trimmed, []byte("<"))) {
		return fail(errors.New("an HTML page, not a tar archive or a Dockerfile"))
	}
	switch {
	case dockerfile == "-":
		return fail(errors.New("the build context is not an archive"))
	case dockerfile != "":
		return fail(errors.New("ambiguous Dockerfile source: the context is a Dockerfile and so is -f"))
	}
	if bytes.IndexByte(header, 0) >= 0 {
		return fail(errors.New("neither a tar archive nor a Dockerfile"))
	}
	data, err := io.ReadAll(io.LimitReader(br, maxDockerfile+1))
	if err != nil {
		return fail(err)
	}
	if len(data) > maxDockerfile {
		return fail(errors.New("not a tar archive, and too large for a Dockerfile"))
	}
	p.content = data
	return p, nil
}

// extractContext unpacks a context archive (gzip, bzip2, xz, zstd or
// none) into dir. As Docker's archive package, it refuses an entry that
// leaves dir ("../x"), a relative symlink or a hard link that points
// outside it, and an entry written through a symlink the archive made
// (the way an absolute symlink would carry the next entries out of the
// context): nothing is ever written outside dir.
func extractContext(r io.Reader, dir string) error {
	plain, err := archive.DecompressStream(r)
	if err != nil {
		return err
	}
	defer plain.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(checkArchive(plain, pw)) }()
	err = archive.Untar(pr, dir, &archive.TarOptions{NoLchown: true})
	pr.CloseWithError(err)
	return err
}

// checkArchive copies a tar stream from r to w, entry by entry, and
// stops at the first entry that would reach outside the directory the
// archive is unpacked in.
func checkArchive(r io.Reader, w io.Writer) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	links := map[string]bool{}
	inside := func(rel string) bool {
		return rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return fmt.Errorf("not a valid tar archive: %w", err)
		}
		name := filepath.Clean(strings.TrimPrefix(filepath.Clean("/"+hdr.Name), "/"))
		if c := filepath.Clean(hdr.Name); !inside(strings.TrimPrefix(c, "/")) {
			return fmt.Errorf("%s is outside the context", hdr.Name)
		}
		for p := filepath.Dir(name); p != "." && p != "/"; p = filepath.Dir(p) {
			if links[p] {
				return fmt.Errorf("%s is written through the symlink %s", hdr.Name, p)
			}
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			if !filepath.IsAbs(hdr.Linkname) && !inside(filepath.Join(filepath.Dir(name), hdr.Linkname)) {
				return fmt.Errorf("symlink %s -> %s points outside the context", hdr.Name, hdr.Linkname)
			}
			links[name] = true
		case tar.TypeLink:
			if !inside(filepath.Clean(strings.TrimPrefix(hdr.Linkname, "/"))) {
				return fmt.Errorf("hard link %s -> %s points outside the context", hdr.Name, hdr.Linkname)
			}
		default:
			delete(links, name)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
