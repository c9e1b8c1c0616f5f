package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildContext writes a build context of files (name -> content; a name
// ending in "/" is a directory) into a directory the user can read.
func buildContext(t *testing.T, u *User, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(userDir(t, u), "ctx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tarOf is a tar archive of files, for ADD.
func tarOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// gzipOf compresses s.
func gzipOf(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// usingCache counts the steps a build took from the cache.
func usingCache(r Result) int { return strings.Count(r.Stderr, "---> Using cache") }

// TestBuild builds a Dockerfile with most instructions on Alpine and
// checks the image by running it and by inspecting it.
func TestBuild(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": `ARG BASE=alpine
FROM ${BASE}
ARG GREETING=hello OWNER=1000:1000 RUNAS=runner
ENV APP_HOME=/srv/app GREETED=$GREETING
LABEL org.example.name="box test" version=1
WORKDIR $APP_HOME
COPY --chown=$OWNER --chmod=640 greeting.txt ./
COPY dir/ /srv/dir/
COPY *.cfg /etc/conf.d/
ADD bundle.tar /opt/
RUN echo "$GREETING from run" > made.txt && adduser -D -u 1234 runner
USER $RUNAS
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGUSR1
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["id -u; pwd; cat made.txt"]
`,
			"greeting.txt": "hello file\n",
			"dir/sub/f":    "in a dir\n",
			"a.cfg":        "a\n",
			"b.cfg":        "b\n",
			"bundle.tar":   tarOf(t, map[string]string{"inner/x": "from tar\n"}),
		})
		args := []string{"build", "-t", "built:v1", "-t", "built:v2", "--build-arg", "GREETING=hi", "--label", "extra=yes"}
		uid, owner, runAs := "1234", "1000:1000", "runner"
		if u.Mode == "norange" {
			// Only the user's own id is mapped: the image keeps to root.
			uid, owner, runAs = "0", "0:0", "0"
			args = append(args, "--build-arg", "OWNER=0:0", "--build-arg", "RUNAS=0")
		}
		r := s.must(t, append(args, ctx)...)
		for _, want := range []string{"Step 1/17 : FROM ${BASE}", "Step 10/17 : RUN echo", "---> Running in ", "Successfully built ", "Successfully tagged built:v1", "Successfully tagged built:v2"} {
			if !strings.Contains(r.Stderr, want) {
				t.Fatalf("build output should have %q: %s", want, r)
			}
		}
		if usingCache(r) != 0 {
			t.Fatalf("a first build takes nothing from the cache: %s", r)
		}
		if s.imageID(t, "built:v1") != s.imageID(t, "built:v2") {
			t.Fatal("both tags should name the built image")
		}
		wantOut(t, s.must(t, "run", "--rm", "built:v1"), uid+"\n/srv/app\nhi from run")
		wantOut(t, s.must(t, "run", "--rm", "--user", "0", "built:v1",
			`stat -c '%u:%g %a' greeting.txt; cat /srv/dir/sub/f; ls /etc/conf.d | grep cfg; cat /opt/inner/x; echo $APP_HOME $GREETED; stat -c %a /etc /srv`),
			owner+" 640\nin a dir\na.cfg\nb.cfg\nfrom tar\n/srv/app hi\n755\n755")
		wantOut(t, s.must(t, "image", "inspect", "--format",
			`{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{index .Config.Labels "org.example.name"}}|{{.Config.Labels.version}}|{{.Config.Labels.extra}}|{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}|{{.Config.StopSignal}}`, "built:v1"),
			runAs+`|/srv/app|["/bin/sh","-c"]|["id -u; pwd; cat made.txt"]|box test|1|yes|{"53/udp":{},"8080/tcp":{}}|{"/data":{}}|SIGUSR1`)
		// Alpine's one layer, then WORKDIR (a new directory), three COPYs, ADD and RUN.
		base := len(outLines(s.must(t, "image", "inspect", "--format", `{{range .RootFS.Layers}}{{println .}}{{end}}`, "alpine").Stdout))
		layers := len(outLines(s.must(t, "image", "inspect", "--format", `{{range .RootFS.Layers}}{{println .}}{{end}}`, "built:v1").Stdout))
		if layers != base+6 {
			t.Fatalf("want %d layers, one per step that changes files, have %d", base+6, layers)
		}
		hist := s.must(t, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "built:v1")
		if !strings.Contains(hist.Stdout, "ENV APP_HOME=/srv/app GREETED=$GREETING\n") || !strings.Contains(hist.Stdout, "RUN /bin/sh -c echo") {
			t.Fatalf("history should list the steps, metadata ones empty: %s", hist)
		}
		// Intermediate images stay out of images, and no container is left.
		if r := s.must(t, "images", "-q", "--filter", "dangling=true"); strings.TrimSpace(r.Stdout) != "" {
			t.Fatalf("the build's step images should be listed with -a only: %s", r)
		}
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")

		// -f - from stdin, -q, --iidfile and the image build spelling.
		iid := filepath.Join(userDir(t, u), "iid")
		r = s.u.BoxIn(t, "FROM alpine\nCMD [\"echo\", \"from stdin\"]\n", append(append([]string{}, s.args...), "image", "build", "-q", "-f", "-", "--iidfile", iid, "-t", "stdin:latest", ctx)...)
		wantCode(t, r, 0)
		id := s.imageID(t, "stdin")
		wantOut(t, r, id)
		if data, err := os.ReadFile(iid); err != nil || string(data) != id {
			t.Fatalf("--iidfile should hold %s: %q %v", id, data, err)
		}
		if strings.Contains(r.Stderr, "Step") {
			t.Fatalf("-q prints no progress: %s", r)
		}
		wantOut(t, s.must(t, "run", "--rm", "stdin"), "from stdin")

		// The context as a tar stream on stdin, its Dockerfile named inside it.
		stream := tarOf(t, map[string]string{"sub/Build.file": "FROM alpine\nCOPY hello /\nCMD [\"cat\", \"/hello\"]\n", "hello": "from a tar context\n"})
		r = s.u.BoxIn(t, stream, append(append([]string{}, s.args...), "build", "-q", "-f", "sub/Build.file", "-t", "tarctx", "-")...)
		wantCode(t, r, 0)
		wantOut(t, s.must(t, "run", "--rm", "tarctx"), "from a tar context")
		wantCode(t, s.box(t, "build", "-f", "-", "-"), 125)
	})
}

// TestBuildCache rebuilds from the cache and, after one copied file
// changed, from that step on only.
func TestBuildCache(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nRUN echo hi > /x\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nRUN cat /x /a.txt /b.txt > /all\nCMD [\"cat\", \"/all\"]\n",
			"a.txt":      "a1\n",
			"b.txt":      "b1\n",
		})
		r := s.must(t, "build", "-t", "cached", ctx)
		first := s.imageID(t, "cached")
		if usingCache(r) != 0 {
			t.Fatalf("a first build takes nothing from the cache: %s", r)
		}
		wantOut(t, s.must(t, "run", "--rm", "cached"), "hi\na1\nb1")

		r = s.must(t, "build", "-t", "cached", ctx)
		if usingCache(r) != 4 || strings.Contains(r.Stderr, "Running in") {
			t.Fatalf("an unchanged rebuild takes all four steps from the cache: %s", r)
		}
		if s.imageID(t, "cached") != first {
			t.Fatalf("a fully cached build gives the same image: %s", r)
		}

		if err := os.WriteFile(filepath.Join(ctx, "b.txt"), []byte("b2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r = s.must(t, "build", "-t", "cached", ctx)
		if usingCache(r) != 2 || strings.Count(r.Stderr, "Running in") != 1 {
			t.Fatalf("with b.txt changed, RUN and the COPY of a.txt come from the cache, the rest runs: %s", r)
		}
		wantOut(t, s.must(t, "run", "--rm", "cached"), "hi\na1\nb2")

		r = s.must(t, "build", "--no-cache", "-t", "cached", ctx)
		if usingCache(r) != 0 || strings.Count(r.Stderr, "Running in") != 2 {
			t.Fatalf("--no-cache runs every step: %s", r)
		}
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")
	})
}

// TestBuildMultiStage copies from an earlier stage by name and by number,
// and builds only up to --target.
func TestBuildMultiStage(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox", "alpine")
		ctx := buildContext(t, u, map[string]string{
			"Containerfile": `FROM busybox AS builder
RUN mkdir /out && echo built > /out/artifact
FROM builder AS tested
RUN test -e /out/artifact
FROM alpine
COPY --from=builder /out/artifact /artifact
COPY --from=0 /out /out2
FROM scratch AS bare
COPY --from=builder /out/artifact /
`,
		})
		wantCode(t, s.box(t, "build", "-t", "multi", "--target", "nosuch", ctx), 1)
		s.must(t, "build", "-t", "multi", "--target", "tested", ctx)
		wantOut(t, s.must(t, "run", "--rm", "multi", "cat", "/out/artifact"), "built")
		s.must(t, "build", "-t", "multi", ctx)
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{len .RootFS.Layers}}", "multi"), "1")
		s.must(t, "build", "-t", "multi-final", "--target", "bare", ctx)
		ctx2 := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox AS builder\nRUN mkdir /out && echo built > /out/artifact\nFROM alpine\nCOPY --from=builder /out/artifact /artifact\nCOPY --from=0 /out /out2\nCOPY --from=busybox /bin/busybox /bbdir/\nADD gz.tar.gz /gz/\nMAINTAINER Box Tester\nHEALTHCHECK --interval=5s --retries=2 CMD true\n",
			"gz.tar.gz":  gzipOf(t, tarOf(t, map[string]string{"z": "from gzip\n"})),
		})
		s.must(t, "build", "-t", "multi2", ctx2)
		wantOut(t, s.must(t, "run", "--rm", "multi2", "sh", "-c", "cat /artifact /out2/artifact /etc/alpine-release /gz/z; /bbdir/busybox echo bb"), "built\nbuilt\n3.20.3\nfrom gzip\nbb")
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{.Author}}|{{json .Config.Healthcheck}}", "multi2"),
			`Box Tester|{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2}`)
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")
	})
}

// TestBuildIgnore keeps what .dockerignore excludes out of the image.
func TestBuildIgnore(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile":    "FROM busybox\nCOPY . /ctx/\n",
			".dockerignore": "secret*\n**/*.key\n!keep.key\n",
			"secret.txt":    "top secret\n",
			"public.txt":    "public\n",
			"sub/id.key":    "private key\n",
			"sub/ok.txt":    "ok\n",
			"keep.key":      "kept\n",
		})
		s.must(t, "build", "-t", "ignored", ctx)
		wantOut(t, s.must(t, "run", "--rm", "ignored", "sh", "-c", "cd /ctx && find . -type f | sort"),
			"./.dockerignore\n./Dockerfile\n./keep.key\n./public.txt\n./sub/ok.txt")
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nCOPY secret.txt /\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := s.box(t, "build", "-t", "leak", ctx)
		wantCode(t, r, 1)
		if !strings.Contains(r.Stderr, "secret.txt: not found in the build context or excluded by .dockerignore") {
			t.Fatalf("an excluded source is not found: %s", r)
		}
	})
}

// TestBuildFailures: a failing RUN and bad Dockerfiles exit 1 with the
// reason and leave no image and no container; bad flags exit 125.
func TestBuildFailures(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo before\nRUN echo failing; exit 3\n"})
		r := s.box(t, "build", "-t", "failing", ctx)
		wantCode(t, r, 1)
		for _, want := range []string{"Step 3/3 : RUN echo failing; exit 3", "failing\n", "The command '/bin/sh -c echo failing; exit 3' returned a non-zero code: 3"} {
			if !strings.Contains(r.Stderr, want) {
				t.Fatalf("a failing RUN shows %q: %s", want, r)
			}
		}
		wantCode(t, s.box(t, "image", "inspect", "failing"), 1)
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")

		for _, c := range []struct {
			dockerfile string
			want       []string
		}{
			{"FROM busybox\nFOO bar\n", []string{"line 2", "unknown instruction: FOO"}},
			{"", []string{"cannot be empty"}},
			{"# only a comment\n", []string{"no instructions"}},
			{"FROM busybox\nCOPY ../outside /x\n", []string{"outside the build context", "../outside"}},
			{"FROM busybox\nCOPY missing.txt /x\n", []string{"missing.txt: not found in the build context"}},
			{"FROM busybox\nCOPY Dockerfile Docker* /x\n", []string{"must be a directory and end with a /"}},
			{"FROM busybox\nENV\n", []string{"line 2", "ENV"}},
			{"FROM busybox\nADD ftp://example.com/x.tar /x\n", []string{"ADD from ftp://example.com/x.tar", "not supported"}},
		} {
			dir := buildContext(t, u, map[string]string{"Dockerfile": c.dockerfile})
			r := s.box(t, "build", "-q", "-t", "bad", dir)
			wantCode(t, r, 1)
			wantOneLineError(t, r, c.want...)
		}
		wantCode(t, s.box(t, "image", "inspect", "bad"), 1)
		wantCode(t, s.box(t, "build", "--bogus", ctx), 125)
		wantCode(t, s.box(t, "build"), 125)
		wantCode(t, s.box(t, "build", filepath.Join(ctx, "nosuchdir")), 125)
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")
	})
}

// TestBuildInterrupted: Ctrl-C during a RUN ends the build with 130 and
// leaves no container and no image.
func TestBuildInterrupted(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n"})
		cmd := s.u.BoxCmd(append(append([]string{}, s.args...), "build", "-t", "interrupted", ctx)...)
		errPipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(errPipe)
			once := false
			for sc.Scan() {
				if sc.Text() == "started" && !once {
					once = true
					close(started)
				}
			}
		}()
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the RUN step never started")
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if code := pullExitCode(t, cmd, 30*time.Second); code != 130 {
			t.Fatalf("a build interrupted by SIGINT exited %d, want 130", code)
		}
		if d := time.Since(begin); d > 10*time.Second {
			t.Fatalf("the build took %s to stop after SIGINT", d)
		}
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")
		wantCode(t, s.box(t, "image", "inspect", "interrupted"), 1)
	})
}

// manifestType is the media type the local registry serves for ref's manifest.
func manifestType(t *testing.T, repo, tag string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+registryAddr+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET manifest of %s:%s: %s", repo, tag, resp.Status)
	}
	return resp.Header.Get("Content-Type")
}

// TestBuildHeredocFormatsAndPush: RUN heredocs, BuildKit's platform ARGs,
// --format oci and docker, and the images pushed, pulled back and run.
func TestBuildHeredocFormatsAndPush(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": `# syntax=docker/dockerfile:1
FROM busybox
ARG TARGETARCH
RUN <<EOF
echo "arch $TARGETARCH" > /arch
echo two >> /arch
EOF
RUN cat <<EOT > /greet
hello heredoc
EOT
CMD ["cat", "/arch", "/greet"]
`,
		})
		want := "arch " + runtime.GOARCH + "\ntwo\nhello heredoc"
		for _, format := range []string{"oci", "docker"} {
			repo := "buildtest/" + u.Mode + "-" + format + "-" + pullUnique(t)
			s.must(t, "build", "--format", format, "--pull", "--platform", "linux/"+runtime.GOARCH, "--progress", "plain", "-t", regRef(repo), ctx)
			wantOut(t, s.must(t, "run", "--rm", regRef(repo)), want)
			s.must(t, "push", regRef(repo))
			mt := manifestType(t, repo, "latest")
			if wantType := map[string]string{"oci": "application/vnd.oci.image.manifest.v1+json", "docker": "application/vnd.docker.distribution.manifest.v2+json"}[format]; mt != wantType {
				t.Fatalf("--format %s pushed a manifest of type %s, want %s", format, mt, wantType)
			}
			clean := newImageStore(t, u)
			clean.must(t, "pull", "-q", regRef(repo))
			wantOut(t, clean.must(t, "run", "--rm", regRef(repo)), want)
			if u.Mode == "rootless" {
				// Another tool takes the pushed image as it is.
				requirePodman(t)
				pm := newPodman(t, u)
				pm.must(t, "pull", "-q", "--tls-verify=false", regRef(repo))
				wantOut(t, pm.must(t, "run", "--rm", "--network", "none", regRef(repo)), want)
			}
		}
		wantCode(t, s.box(t, "build", "--format", "tar", ctx), 125)
		wantCode(t, s.box(t, "build", "--platform", "linux/s390x", ctx), 125)
		wantCode(t, s.box(t, "build", "--progress", "fancy", ctx), 125)
	})
}

// TestBuildOnbuildAndProxy: ONBUILD triggers are stored and run by a
// child build; a proxy build-arg reaches RUN but not the image.
func TestBuildOnbuildAndProxy(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		parent := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nONBUILD COPY trig.txt /trig\nONBUILD RUN echo triggered > /t2\n",
		})
		s.must(t, "build", "-t", "parent:1", parent)
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{json .Config.OnBuild}}", "parent:1"),
			`["COPY trig.txt /trig","RUN echo triggered > /t2"]`)
		before := s.must(t, "images", "-a", "-q", "--no-trunc").Stdout
		child := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM parent:1\nRUN echo \"$HTTP_PROXY\" > /proxy\n",
			"trig.txt":   "from the child's context\n",
		})
		r := s.must(t, "build", "--build-arg", "HTTP_PROXY=http://proxy.example:3128", "-t", "child:1", child)
		if !strings.Contains(r.Stderr, "# Executing 2 build triggers") || strings.Contains(r.Stderr, "not consumed") {
			t.Fatalf("the child build runs the parent's two triggers and uses the proxy arg: %s", r)
		}
		wantOut(t, s.must(t, "run", "--rm", "child:1", "sh", "-c", "cat /trig /t2 /proxy; env | grep -ci proxy || true"),
			"from the child's context\ntriggered\nhttp://proxy.example:3128\n0")
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{json .Config.OnBuild}}", "child:1"), "null")

		// rmi takes the build's step images along, as Docker's does: the
		// image is its last step's (RUN), below it the triggers' two.
		r = s.must(t, "rmi", "child:1")
		if n := strings.Count(r.Stdout, "Deleted: "); n != 3 {
			t.Fatalf("rmi should delete the image (its last step's) and the two step images below it: %s", r)
		}
		if after := s.must(t, "images", "-a", "-q", "--no-trunc").Stdout; after != before {
			t.Fatalf("after rmi, images -a should be as before the build:\n%s\nwas\n%s", after, before)
		}
	})
}

// TestBuildAddURL downloads ADD's http sources: named after the URL,
// mode 0600, not unpacked, checked against --checksum.
func TestBuildAddURL(t *testing.T) {
	archive := tarOf(t, map[string]string{"inner": "x"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/files/data.txt":
			w.Header().Set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
			io.WriteString(w, "downloaded\n")
		case "/files/a.tar":
			io.WriteString(w, archive)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	sum := sha256.Sum256([]byte("downloaded\n"))
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nADD --checksum=sha256:" + hex.EncodeToString(sum[:]) + " " + srv.URL + "/files/data.txt /srv/\nADD " + srv.URL + "/files/a.tar /srv/\n",
		})
		s.must(t, "build", "-t", "added", ctx)
		wantOut(t, s.must(t, "run", "--rm", "added", "sh", "-c", "cat /srv/data.txt; stat -c '%a %Y' /srv/data.txt; test -f /srv/a.tar && echo kept as a file"),
			"downloaded\n600 1445412480\nkept as a file")
		bad := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nADD --checksum=sha256:" + strings.Repeat("0", 64) + " " + srv.URL + "/files/data.txt /srv/\n",
		})
		r := s.box(t, "build", "-q", "-t", "bad", bad)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "checksum mismatch")
		missing := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nADD " + srv.URL + "/nothing.txt /srv/\n"})
		r = s.box(t, "build", "-q", "-t", "bad", missing)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "404")
	})
}

// TestBuildNetworkAndUnreadable: --network none gives RUN only a loopback;
// a context file box cannot read fails the COPY (rootless: a file of
// another user; root reads every file).
func TestBuildNetworkAndUnreadable(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nRUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /ifaces\n",
		})
		s.must(t, "build", "--network", "none", "-t", "nonet", ctx)
		wantOut(t, s.must(t, "run", "--rm", "nonet", "cat", "/ifaces"), "lo")
		wantCode(t, s.box(t, "build", "--network", "bridge0", ctx), 125)

		secret := filepath.Join(ctx, "private.txt")
		if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(secret, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nCOPY private.txt /\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := s.box(t, "build", "-q", "-t", "unreadable", ctx)
		if u.Mode == "root" {
			wantCode(t, r, 0)
			return
		}
		wantCode(t, r, 1)
		wantOneLineError(t, r, "private.txt", "permission denied")
		wantCode(t, s.box(t, "image", "inspect", "unreadable"), 1)
	})
}

// TestBuildHeredocFiles: a RUN heredoc that starts with #! runs as a
// script through its own interpreter; COPY and ADD heredocs become
// files, with variables expanded unless the delimiter is quoted, with
// --chmod and --chown, and in the cache key by their content.
func TestBuildHeredocFiles(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		owner := "1000:1000"
		if u.Mode == "norange" {
			owner = "0:0" // only the user's own id is mapped
		}
		dockerfile := func(greeting, script string) string {
			return `FROM busybox
ARG WHO=builder OWNER
ENV GREET=hi
RUN <<EOF
#!/bin/sh
echo ` + script + ` > /out
EOF
RUN <<EOF
#!/bin/awk -f
BEGIN { print "from awk, not sh" > "/awk.out" }
EOF
COPY <<EOF /etc/greeting
$GREET from ${WHO} "quoted" \$GREET
EOF
COPY --chmod=600 --chown=$OWNER <<a.txt <<'b.txt' /dir/
a says $GREET
a.txt
b says $GREET
b.txt
ADD <<EOF /added
` + greeting + ` $WHO
EOF
`
		}
		ctx := buildContext(t, u, map[string]string{"Dockerfile": dockerfile("added by", "from-script")})
		s.must(t, "build", "--build-arg", "OWNER="+owner, "-t", "heredocs", ctx)
		show := []string{"run", "--rm", "heredocs", "sh", "-c",
			"cat /out /awk.out /etc/greeting /dir/a.txt /dir/b.txt /added; stat -c '%a %u:%g %n' /etc/greeting /dir/a.txt /dir/b.txt /added"}
		wantOut(t, s.must(t, show...),
			"from-script\nfrom awk, not sh\nhi from builder \"quoted\" $GREET\na says hi\nb says $GREET\nadded by builder\n"+
				"644 0:0 /etc/greeting\n600 "+owner+" /dir/a.txt\n600 "+owner+" /dir/b.txt\n644 0:0 /added")

		r := s.must(t, "build", "--build-arg", "OWNER="+owner, "-t", "heredocs", ctx)
		if usingCache(r) != 5 {
			t.Fatalf("an unchanged rebuild takes the five file steps from the cache: %s", r)
		}
		// Another heredoc file: its step is built again.
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile("changed", "from-script")), 0o644); err != nil {
			t.Fatal(err)
		}
		r = s.must(t, "build", "--build-arg", "OWNER="+owner, "-t", "heredocs", ctx)
		if n := usingCache(r); n != 4 {
			t.Fatalf("a changed heredoc file is copied again, %d steps came from the cache: %s", n, r)
		}
		wantOut(t, s.must(t, "run", "--rm", "heredocs", "cat", "/added"), "changed builder")
		// Another script, run the same way: it runs again, and so every step after it.
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile("changed", "script-changed")), 0o644); err != nil {
			t.Fatal(err)
		}
		r = s.must(t, "build", "--build-arg", "OWNER="+owner, "-t", "heredocs", ctx)
		if n := usingCache(r); n != 0 {
			t.Fatalf("a changed script runs again, %d steps came from the cache: %s", n, r)
		}
		wantOut(t, s.must(t, "run", "--rm", "heredocs", "cat", "/out"), "script-changed")

		if u.Mode == "norange" {
			return // no id but the user's own to run a step as
		}
		// A script run by another user than root; a heredoc beside a context file.
		if err := os.WriteFile(filepath.Join(ctx, "a.txt"), []byte("from the context\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		user := filepath.Join(ctx, "Dockerfile.user")
		if err := os.WriteFile(user, []byte(`FROM busybox
COPY --chown=1000:1000 a.txt <<EOF /home/
from a heredoc
EOF
USER 1000
RUN <<EOF
#!/bin/sh
id -u > /tmp/uid
stat -c '%u %n' /home/a.txt /home/EOF >> /tmp/uid
cat /home/a.txt /home/EOF >> /tmp/uid
EOF
`), 0o644); err != nil {
			t.Fatal(err)
		}
		s.must(t, "build", "-f", user, "-t", "heredocs:user", ctx)
		wantOut(t, s.must(t, "run", "--rm", "heredocs:user", "cat", "/tmp/uid"),
			"1000\n1000 /home/a.txt\n1000 /home/EOF\nfrom the context\nfrom a heredoc")
	})
}

// TestBuildProgressTTY: on a terminal, --progress=tty shows BuildKit's
// live view: each step one line with its time, CACHED where cached, the
// running step's output redrawn beneath it, and a last status; a failed
// step keeps its output. --progress=auto off a terminal is plain.
func TestBuildProgressTTY(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo one > /one\n"})
		s.must(t, "build", "-q", ctx)
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(`FROM busybox
RUN echo one > /one
RUN i=0; while [ $i -lt 12 ]; do echo progress-line-$i; i=$((i+1)); sleep 0.05; done
CMD ["cat", "/one"]
`), 0o644); err != nil {
			t.Fatal(err)
		}
		pty := startOnPty(t, u, append(append([]string{}, s.args...), "build", "--progress=tty", "-t", "ttybuilt", ctx)...)
		code := pty.exit(t)
		screen := pty.text()
		if code != 0 {
			t.Fatalf("build on a terminal: exit %d\n%q", code, screen)
		}
		for _, want := range []string{" => [1/4] FROM busybox", " => CACHED [2/4] RUN echo one > /one", " => [3/4] RUN i=0;",
			" => => # progress-line-", " => [4/4] CMD [\"cat\", \"/one\"]", " => writing image sha256:", " => naming to ttybuilt:latest",
			"[+] Building ", "(4/4) FINISHED", "\x1b[2K", "\x1b[J"} {
			if !strings.Contains(screen, want) {
				t.Fatalf("the terminal should show %q:\n%q", want, screen)
			}
		}
		if strings.Contains(screen, "Step 1/4") || strings.Contains(screen, "---> Running in") {
			t.Fatalf("the live view replaces the plain lines:\n%q", screen)
		}
		wantOut(t, s.must(t, "run", "--rm", "ttybuilt"), "one")
		// auto on a terminal is the live view too; now all from the cache.
		pty = startOnPty(t, u, append(append([]string{}, s.args...), "build", "--progress=auto", "-t", "ttybuilt", ctx)...)
		if code := pty.exit(t); code != 0 || !strings.Contains(pty.text(), " => CACHED [3/4] RUN i=0;") || !strings.Contains(pty.text(), "(4/4) FINISHED") {
			t.Fatalf("--progress=auto on a terminal: exit %d\n%q", code, pty.text())
		}

		// A failed step: its line says ERROR and its output stays, whole.
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nRUN for i in 1 2 3 4 5 6 7 8; do echo failing-$i; done; exit 3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pty = startOnPty(t, u, append(append([]string{}, s.args...), "build", "--progress=tty", ctx)...)
		code = pty.exit(t)
		screen = pty.text()
		if code != 1 {
			t.Fatalf("a failed build on a terminal: exit %d, want 1\n%q", code, screen)
		}
		for _, want := range []string{" => ERROR [2/2] RUN for i in", " > [2/2] RUN for i in", "failing-1\r\n", "failing-8\r\n", "------", "(1/2) ERROR", "returned a non-zero code: 3"} {
			if !strings.Contains(screen, want) {
				t.Fatalf("the failed build should show %q:\n%q", want, screen)
			}
		}

		// Interrupted: the view ends, says so, and nothing is left.
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nRUN echo started-tty; sleep 60\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pty = startOnPty(t, u, append(append([]string{}, s.args...), "build", "--progress=tty", ctx)...)
		pty.waitFor(t, " => => # started-tty")
		if err := pty.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		code = pty.exit(t)
		if ws, ok := pty.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if code != 130 || !strings.Contains(pty.text(), "(1/2) CANCELED") {
			t.Fatalf("an interrupted build on a terminal: exit %d, want 130\n%q", code, pty.text())
		}
		wantOut(t, s.must(t, "ps", "-a", "-q"), "")

		// auto with stderr on no terminal: Docker's plain lines.
		r := s.must(t, "build", "--progress=auto", "-t", "ttybuilt", buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo plain-output\n"}))
		if !strings.Contains(r.Stderr, "Step 2/2 : RUN echo plain-output\n") || !strings.Contains(r.Stderr, "\nplain-output\n") || strings.Contains(r.Stderr, "\x1b[") {
			t.Fatalf("--progress=auto off a terminal is plain:\n%s", r)
		}
	})
}
