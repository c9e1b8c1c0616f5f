package e2e

// `box push` and `box image push`: to the name's registry and to an explicit destination,
// digests kept end to end, layers the registry has skipped, --all-tags, -q, --tls-verify,
// RepoDigests after a push, a local name that does not exist, and pushes interrupted midway.

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pushDigestLine matches the line a push prints on stdout: "TAG: digest: sha256:... size: N".
var pushDigestLine = regexp.MustCompile(`^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$`)

// pushDigest checks a successful push's stdout (one digest line for tag) and returns the digest.
func pushDigest(t *testing.T, r Result, tag string) string {
	t.Helper()
	m := pushDigestLine.FindStringSubmatch(strings.TrimSpace(r.Stdout))
	if m == nil || m[1] != tag {
		t.Fatalf("push printed %q on stdout, want %q: digest: ... size: N", r.Stdout, tag)
	}
	return m[2]
}

// pushWantLines checks that every line of a push's stderr is one Docker prints.
func pushWantLines(t *testing.T, stderr string) {
	t.Helper()
	ok := regexp.MustCompile(`^(The push refers to repository \[\S+\]|Using default tag: latest|[0-9a-f]{12}: (Preparing|Pushing|Pushed|Layer already exists)|box: warning: .*)$`)
	for _, l := range pullLines(stderr) {
		if !ok.MatchString(l) {
			t.Errorf("unexpected line on the stderr of a push: %q", l)
		}
	}
}

// TestPush: an image pulled, tagged and pushed keeps its manifest digest; a clean store pulls
// it back by that digest and runs it; a second push sends nothing; RepoDigests show the pushed
// repository; explicit destinations, -q, --all-tags and --tls-verify; a missing local name.
func TestPush(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		s.must(t, "pull", "-q", "busybox:musl")
		repo := regRef("pushtest/" + u.Mode + "-" + pullUnique(t))
		s.must(t, "tag", "busybox:musl", repo+":v1")

		r := s.must(t, "push", repo+":v1")
		if d := pushDigest(t, r, "v1"); d != busyboxMuslDigest {
			t.Errorf("pushed digest %s, want the pulled image's %s", d, busyboxMuslDigest)
		}
		pullWantContains(t, "stderr of the first push", r.Stderr, "The push refers to repository ["+repo+"]\n", ": Preparing\n")
		pushWantLines(t, r.Stderr)

		r = s.must(t, "image", "push", repo+":v1")
		if d := pushDigest(t, r, "v1"); d != busyboxMuslDigest {
			t.Errorf("second push: digest %s, want %s", d, busyboxMuslDigest)
		}
		pullWantContains(t, "stderr of the second push", r.Stderr, ": Layer already exists\n")
		pullWantNotContains(t, "stderr of the second push", r.Stderr, ": Pushed")

		inspect := s.must(t, "image", "inspect", "--format", "{{json .RepoDigests}}", repo+":v1")
		pullWantContains(t, "RepoDigests after the push", inspect.Stdout, `"`+repo+"@"+busyboxMuslDigest+`"`)

		// A clean store pulls it back with the same digest and runs it.
		clean := newPullStore(t, u)
		r = clean.must(t, "pull", repo+":v1")
		pullWantContains(t, "stderr of the pull back", r.Stderr, "Digest: "+busyboxMuslDigest+"\n")
		if run := clean.must(t, "run", "--rm", "--pull=never", repo+":v1", "echo", "pushed"); run.Stdout != "pushed\n" {
			t.Errorf("the image pulled back prints %q", run.Stdout)
		}

		// An explicit destination, quietly: the reference alone on stdout.
		dest := regRef("pushtest/" + u.Mode + "-dest-" + pullUnique(t) + ":copy")
		r = s.must(t, "push", "-q", repo+":v1", dest)
		if r.Stdout != dest+"\n" || r.Stderr != "" {
			t.Errorf("push -q to a destination: %s", r)
		}
		r = clean.must(t, "pull", dest)
		pullWantContains(t, "stderr of the pull of the destination", r.Stderr, "Digest: "+busyboxMuslDigest+"\n")

		// --all-tags pushes every local tag of the repository.
		s.must(t, "pull", "-q", "busybox:glibc")
		s.must(t, "tag", "busybox:glibc", repo+":v2")
		r = s.must(t, "push", "--all-tags", repo)
		var tags []string
		for _, l := range pullLines(r.Stdout) {
			m := pushDigestLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("push --all-tags printed %q", r.Stdout)
			}
			tags = append(tags, m[1]+"="+m[2])
		}
		if want := "v1=" + busyboxMuslDigest + " v2=" + busyboxGlibcDigest; strings.Join(tags, " ") != want {
			t.Errorf("push --all-tags: %q, want %s", tags, want)
		}
		r = s.box(t, "push", "-a", repo+":v1")
		pullWantError(t, r, 1, "tag can't be used with --all-tags/-a")

		// localhost, which registries.conf does not call insecure, is insecure all the
		// same, as in Docker: HTTPS is tried, then plain HTTP (pull_mirror_test.go has
		// the rest); --tls-verify=false says so explicitly.
		port := strings.TrimPrefix(registryAddr, "127.0.0.1:")
		local := "localhost:" + port + "/pushtest/" + u.Mode + "-tls:v1"
		s.must(t, "tag", "busybox:musl", local)
		r = s.must(t, "push", local)
		pushDigest(t, r, "v1")
		r = s.must(t, "push", "--tls-verify=false", local)
		pushDigest(t, r, "v1")

		// Names no local image carries.
		r = s.box(t, "push", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		if lines := pullLines(r.Stderr); len(lines) == 0 || lines[len(lines)-1] != "Error: An image does not exist locally with the tag: nosuch-"+u.Mode {
			t.Errorf("push of a missing image: %s", r)
		}
		if r.Stdout != "" {
			t.Errorf("a failed push printed on stdout: %q", r.Stdout)
		}
		r = s.box(t, "push", "Bad:Name")
		wantCode(t, r, 1)
		pullWantContains(t, "stderr of a push of a bad name", r.Stderr, "invalid reference format")
	})
}

// pushThrottle is a TCP proxy to upstream that passes at most rate bytes a second from the
// client to upstream on each connection: a push through it lasts long enough to be caught.
func pushThrottle(t *testing.T, upstream string, rate int) string {
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
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite() }()
			go func() {
				defer up.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := up.Write(buf[:n]); werr != nil {
							return
						}
						time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
					}
					if err != nil {
						return
					}
				}
			}()
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

// TestPushInterrupted: a push stopped by SIGINT exits 130, one killed by SIGKILL leaves
// nothing behind that trips the next push, which completes; the image pulled back runs.
func TestPushInterrupted(t *testing.T) {
	repo, _ := pullBigImage(t)
	slow := pushThrottle(t, registryAddr, 12<<20)
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + pullRegistriesConf(t, slow)}
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		s.must(t, "pull", "-q", regRef(repo))
		dstRepo := "pushtest/big-" + u.Mode + "-" + pullUnique(t)
		dst := slow + "/" + dstRepo + ":latest"
		s.must(t, "tag", regRef(repo), dst)

		cmd, lines, stdout := pullStart(t, s, env, "push", dst)
		waitPushing(t, lines)
		waitUploadMidway(t, dstRepo)
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		rest := pullDrain(lines)
		if code := pullExitCode(t, cmd, 30*time.Second); code != 130 {
			t.Errorf("push interrupted by SIGINT exited %d, want 130; stderr after the signal: %q", code, rest)
		}
		if stdout.Len() != 0 {
			t.Fatalf("the push finished before SIGINT could stop it (%q): the throttle is too fast", stdout)
		}
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("an interrupted push left %q in the store's transfer directory", left)
		}

		cmd, lines, _ = pullStart(t, s, env, "push", dst)
		waitPushing(t, lines)
		waitUploadMidway(t, dstRepo)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		rest = pullDrain(lines)
		if code := pullExitCode(t, cmd, 30*time.Second); code != 128+9 {
			t.Errorf("push killed by SIGKILL exited %d", code)
		}
		for _, l := range rest {
			if strings.Contains(l, "digest:") {
				t.Fatalf("the push finished before SIGKILL (%q): the throttle is too fast", rest)
			}
		}

		r := s.boxWith(t, RunOpts{Env: env, Timeout: 3 * time.Minute}, "push", dst)
		if r.Code != 0 {
			t.Fatalf("push after a killed one: %s", r)
		}
		d := pushDigest(t, r, "latest")
		if left := s.pullTempEntries(t); len(left) != 0 {
			t.Errorf("the killed push's leftovers %q were not cleaned by the next transfer", left)
		}
		clean := newPullStore(t, u)
		back := clean.boxWith(t, RunOpts{Env: env}, "pull", dst)
		if back.Code != 0 {
			t.Fatalf("pull back: %s", back)
		}
		pullWantContains(t, "stderr of the pull back", back.Stderr, "Digest: "+d+"\n")
		if run := clean.must(t, "run", "--rm", "--pull=never", dst, "sh", "-c", "cat /marker; wc -c < /big"); run.Stdout != fmt.Sprintf("ok\n%d\n", 60<<20) {
			t.Errorf("the pushed image pulled back prints %q", run.Stdout)
		}
	})
}

// waitUploadMidway waits until the registry holds part of an upload to repo (a path such as
// "pushtest/big-root-1234"): from then on the push is caught mid-upload.
func waitUploadMidway(t *testing.T, repo string) {
	t.Helper()
	dir := filepath.Join(tempDir, "registry", "storage", "docker", "registry", "v2", "repositories", repo, "_uploads")
	waitFor(t, "the registry to receive part of a layer", time.Minute, func() (bool, string) {
		var n int64
		filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && d.Name() == "data" {
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			}
			return nil
		})
		return n >= 1<<20, fmt.Sprintf("%d bytes in %s", n, dir)
	})
}

// waitPushing waits until a push reports that a layer's upload began.
func waitPushing(t *testing.T, lines <-chan string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("box ended before any layer was pushing")
			}
			if strings.HasSuffix(l, ": Pushing") {
				return
			}
		case <-deadline:
			t.Fatal("no layer was pushing within a minute")
		}
	}
}
