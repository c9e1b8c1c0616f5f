package e2e

import (
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// contextServer serves build contexts on 127.0.0.1: the bare Git
// repositories under root through git http-backend (Git's smart HTTP
// protocol) at /git/ and as plain files (Git's dumb protocol) at /dumb/,
// fixed files at /files/, and at /hang/ requests it never answers.
type contextServer struct {
	url   string
	root  string
	files map[string]string
}

func newContextServer(t *testing.T) *contextServer {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("the Git context tests need git: %v", err)
	}
	s := &contextServer{root: t.TempDir(), files: map[string]string{}}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/git/", &cgi.Handler{
		Path: gitBin, Root: "/git", Args: []string{"http-backend"},
		Env:    []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"},
		Stderr: io.Discard,
	})
	mux.Handle("/dumb/", http.StripPrefix("/dumb/", http.FileServer(http.Dir(s.root))))
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/files/")
		body, ok := s.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(name, ".html") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write([]byte(body))
	})
	mux.HandleFunc("/hang/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: the hanging handlers return
	s.url = srv.URL
	return s
}

// git runs git in dir with an identity and no user or system config.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=box test", "-c", "user.email=box@example.com", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{cleanPath, "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// publish makes a bare copy of the work repository served as name.git.
func (s *contextServer) publish(t *testing.T, work, name string) {
	t.Helper()
	bare := filepath.Join(s.root, name+".git")
	os.RemoveAll(bare)
	gitRun(t, s.root, "clone", "-q", "--bare", work, bare)
	gitRun(t, bare, "update-server-info")
}

// gitRepos makes the repositories the tests build from and returns the
// id of the first commit. repo.git: main (HEAD) at its second commit,
// which adds the submodule lib (lib.git, over HTTP); tag v1 at the first
// commit; branch feature after main. Every commit's Dockerfile copies the
// context to /ctx and prints /ctx/hello; sub/ is a context of its own.
func (s *contextServer) gitRepos(t *testing.T) string {
	t.Helper()
	lib := filepath.Join(t.TempDir(), "lib")
	os.MkdirAll(lib, 0o755)
	gitRun(t, lib, "init", "-q")
	writeFiles(t, lib, map[string]string{"libfile": "from the submodule\n"})
	gitRun(t, lib, "add", ".")
	gitRun(t, lib, "commit", "-q", "-m", "lib")
	s.publish(t, lib, "lib")

	work := filepath.Join(t.TempDir(), "work")
	os.MkdirAll(work, 0o755)
	gitRun(t, work, "init", "-q")
	writeFiles(t, work, map[string]string{
		"Dockerfile":     "FROM busybox\nCOPY . /ctx/\nCMD [\"cat\", \"/ctx/hello\"]\n",
		"hello":          "first\n",
		"sub/Dockerfile": "FROM busybox\nCOPY . /sub/\nCMD [\"cat\", \"/sub/note\"]\n",
		"sub/note":       "sub at v1\n",
	})
	gitRun(t, work, "add", ".")
	gitRun(t, work, "commit", "-q", "-m", "first")
	first := gitRun(t, work, "rev-parse", "HEAD")
	gitRun(t, work, "tag", "v1")
	writeFiles(t, work, map[string]string{"hello": "second\n", "sub/note": "sub later\n"})
	gitRun(t, work, "submodule", "add", "-q", s.url+"/git/lib.git", "lib")
	gitRun(t, work, "add", ".")
	gitRun(t, work, "commit", "-q", "-m", "second")
	gitRun(t, work, "checkout", "-q", "-b", "feature")
	writeFiles(t, work, map[string]string{"hello": "feature\n"})
	gitRun(t, work, "commit", "-q", "-am", "feature")
	gitRun(t, work, "checkout", "-q", "main")
	s.publish(t, work, "repo")
	return first
}

// wantContextRefused checks a build that must fail before it starts:
// exit 125, one line naming the URL and the reason, no image tagged and
// no temporary directory left in the store.
func wantContextRefused(t *testing.T, s *imageStore, r Result, url, reason string) {
	t.Helper()
	wantCode(t, r, 125)
	msg := strings.TrimSpace(r.Stderr)
	if strings.Contains(msg, "\n") || !strings.Contains(msg, url) || !strings.Contains(msg, reason) {
		t.Fatalf("want one line naming %s and %q, got %s", url, reason, r)
	}
	if r := s.box(t, "image", "inspect", "refused"); r.Code == 0 {
		t.Fatalf("a refused build must tag nothing: %s", r)
	}
	for _, dir := range []string{"tmp", "work-tmp"} {
		if left, _ := os.ReadDir(filepath.Join(s.root(), dir)); len(left) != 0 {
			t.Fatalf("a refused build must leave no temporary directory: %s: %v", dir, left)
		}
	}
}

// TestBuildContextGit builds from a Git repository served over HTTP: the
// default branch with its submodule, a branch, a tag's subdirectory, a
// commit, the dumb protocol, and ADD of a repository with and without
// its .git; an unknown ref, a missing repository and a server that never
// answers are refused.
func TestBuildContextGit(t *testing.T) {
	srv := newContextServer(t)
	first := srv.gitRepos(t)
	repo := srv.url + "/git/repo.git"
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")

		s.must(t, "build", "-t", "g-head", repo)
		wantOut(t, s.must(t, "run", "--rm", "g-head"), "second")
		wantOut(t, s.must(t, "run", "--rm", "g-head", "sh", "-c", "cat /ctx/lib/libfile; ls -a /ctx /ctx/lib | grep -c '^.git$' || true"), "from the submodule\n0")

		s.must(t, "build", "-t", "g-branch", repo+"#feature")
		wantOut(t, s.must(t, "run", "--rm", "g-branch"), "feature")
		s.must(t, "build", "-t", "g-tag", repo+"#v1:sub")
		wantOut(t, s.must(t, "run", "--rm", "g-tag"), "sub at v1")
		s.must(t, "build", "-t", "g-commit", repo+"#"+first)
		wantOut(t, s.must(t, "run", "--rm", "g-commit"), "first")
		s.must(t, "build", "-t", "g-short", repo+"#"+first[:10])
		wantOut(t, s.must(t, "run", "--rm", "g-short"), "first")
		s.must(t, "build", "-t", "g-dumb", srv.url+"/dumb/repo.git#feature")
		wantOut(t, s.must(t, "run", "--rm", "g-dumb"), "feature")

		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\n" +
			"ADD " + repo + "#v1:sub /src\n" +
			"ADD --keep-git-dir=true " + repo + "#feature /withgit\n" +
			"RUN test ! -e /src/.git && test -d /withgit/.git && cat /src/note /withgit/hello /withgit/lib/libfile > /out\n" +
			"CMD [\"cat\", \"/out\"]\n"})
		s.must(t, "build", "-t", "g-add", ctx)
		wantOut(t, s.must(t, "run", "--rm", "g-add"), "sub at v1\nfeature\nfrom the submodule")

		wantContextRefused(t, s, s.box(t, "build", "-t", "refused", repo+"#nosuch"), repo+"#nosuch", "couldn't find remote ref nosuch")
		wantContextRefused(t, s, s.box(t, "build", "-t", "refused", srv.url+"/git/nope.git"), srv.url+"/git/nope.git", "not found")
		wantContextRefused(t, s, s.box(t, "build", "-t", "refused", repo+"#v1:nodir"), repo+"#v1:nodir", "no directory nodir")
		hang := srv.url + "/hang/repo.git"
		wantContextRefused(t, s, s.u.BoxWith(t, RunOpts{Env: []string{"BOX_BUILD_CONTEXT_TIMEOUT=2s"}},
			append(append([]string{}, s.args...), "build", "-t", "refused", hang)...), hang, "timed out")
	})
}

// TestBuildContextURL builds from a tarball URL (gzip and plain), a
// Dockerfile URL, and a Dockerfile or a tar on stdin; a 404, an HTML page,
// an archive that reaches outside itself, an unreachable host and a
// server that never answers are refused.
func TestBuildContextURL(t *testing.T) {
	srv := newContextServer(t)
	ctxTar := tarOf(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY msg /msg\nCMD [\"cat\", \"/msg\"]\n",
		"msg":        "from a tarball\n",
	})
	srv.files["ctx.tar.gz"] = gzipOf(t, ctxTar)
	srv.files["ctx.tar"] = ctxTar
	srv.files["Dockerfile"] = "FROM busybox\nCMD [\"echo\", \"from a Dockerfile URL\"]\n"
	srv.files["page.html"] = "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"
	srv.files["evil.tar"] = tarOf(t, map[string]string{"Dockerfile": "FROM busybox\n", "../evil": "x"})
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")

		s.must(t, "build", "-t", "u-gz", srv.url+"/files/ctx.tar.gz")
		wantOut(t, s.must(t, "run", "--rm", "u-gz"), "from a tarball")
		s.must(t, "build", "-t", "u-tar", srv.url+"/files/ctx.tar")
		wantOut(t, s.must(t, "run", "--rm", "u-tar"), "from a tarball")
		s.must(t, "build", "-t", "u-file", srv.url+"/files/Dockerfile")
		wantOut(t, s.must(t, "run", "--rm", "u-file"), "from a Dockerfile URL")

		r := s.u.BoxIn(t, "FROM busybox\nCMD [\"echo\", \"from stdin\"]\n", append(append([]string{}, s.args...), "build", "-t", "u-stdin", "-")...)
		wantCode(t, r, 0)
		wantOut(t, s.must(t, "run", "--rm", "u-stdin"), "from stdin")
		r = s.u.BoxIn(t, gzipOf(t, ctxTar), append(append([]string{}, s.args...), "build", "-t", "u-stdin-tar", "-")...)
		wantCode(t, r, 0)
		wantOut(t, s.must(t, "run", "--rm", "u-stdin-tar"), "from a tarball")

		for _, c := range []struct{ url, reason string }{
			{srv.url + "/files/missing.tar.gz", "404 Not Found"},
			{srv.url + "/files/page.html", "HTML page"},
			{srv.url + "/files/evil.tar", "../evil is outside the context"},
			{"http://127.0.0.1:1/ctx.tar", "connection refused"},
		} {
			wantContextRefused(t, s, s.box(t, "build", "-t", "refused", c.url), c.url, c.reason)
		}
		hang := srv.url + "/hang/ctx.tar"
		wantContextRefused(t, s, s.u.BoxWith(t, RunOpts{Env: []string{"BOX_BUILD_CONTEXT_TIMEOUT=2s"}},
			append(append([]string{}, s.args...), "build", "-t", "refused", hang)...), hang, "timed out")
	})
}
