package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// boxNow starts box as the store's user with args and returns a channel
// that gives its result: for a second box run at the same moment as one
// on the test's goroutine.
func (s *imageStore) boxNow(t *testing.T, args ...string) <-chan Result {
	t.Helper()
	cmd := s.u.BoxCmd(append(append([]string{}, s.args...), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan Result, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start box %s: %v", quoteArgs(args), err)
	}
	go func() {
		_ = cmd.Wait()
		r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		}
		done <- r
	}()
	return done
}

// TestStartRacesLayerReaders starts a stopped container again and again
// while cp, export, diff or commit reads it at the same moment: each start
// must run the container's command on its own files (it once started on
// an empty directory when the reader's unmount detached its mount), each
// reader must succeed, and rm -f must remove the container at the end.
func TestStartRacesLayerReaders(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		s.must(t, "create", "--name", "race", "busybox", "sh", "-c", "test -x /bin/busybox && echo started")
		out := userDir(t, u)
		verbs := []func(i int) []string{
			func(i int) []string {
				return []string{"cp", "race:/bin/busybox", filepath.Join(out, fmt.Sprintf("bb%d", i))}
			},
			func(i int) []string {
				return []string{"export", "-o", filepath.Join(out, fmt.Sprintf("x%d.tar", i)), "race"}
			},
			func(int) []string { return []string{"diff", "race"} },
			func(i int) []string { return []string{"commit", "race", fmt.Sprintf("racecommit:%d", i)} },
		}
		for i := 0; i < 20; i++ {
			args := verbs[i%len(verbs)](i)
			reader := s.boxNow(t, args...)
			start := s.box(t, "start", "-a", "race")
			r := <-reader
			if start.Code != 0 || strings.TrimSpace(start.Stdout) != "started" {
				t.Errorf("round %d: start -a race beside %s: want exit 0 and \"started\", got %s", i, args[0], start)
			}
			if r.Code != 0 {
				t.Errorf("round %d: box %s beside a start: %s", i, quoteArgs(args), r)
				logStagingEvidence(t, s, r.Stderr)
			}
			if t.Failed() {
				break
			}
		}
		s.must(t, "rm", "-f", "race")
		if got := strings.TrimSpace(s.must(t, "ps", "-a", "-q").Stdout); got != "" {
			t.Fatalf("rm -f left containers: %q", got)
		}
	})
}

// logStagingEvidence logs what a failed reader's store holds where
// containers/storage stages new layers (a commit once failed to rename
// its staged layer, "no such file or directory", beside a start): the
// staging directories' entries with their inodes, and whether each path
// of a failed rename, and its directory, exists.
func logStagingEvidence(t *testing.T, s *imageStore, stderr string) {
	t.Helper()
	root := s.args[1]
	for _, d := range []string{"overlay/tempdirs", "overlay-layers/tempdirs"} {
		entries, err := os.ReadDir(filepath.Join(root, d))
		if err != nil {
			t.Logf("evidence: %s: %v", d, err)
			continue
		}
		var names []string
		for _, e := range entries {
			var ino uint64
			if fi, err := e.Info(); err == nil {
				ino = fi.Sys().(*syscall.Stat_t).Ino
			}
			names = append(names, fmt.Sprintf("%s(ino %d)", e.Name(), ino))
		}
		t.Logf("evidence: %s holds %d entries: %s", d, len(names), strings.Join(names, " "))
	}
	for _, f := range strings.Fields(stderr) {
		if !strings.HasPrefix(f, root) {
			continue
		}
		f = strings.TrimRight(f, ":")
		for _, p := range []string{f, filepath.Dir(f)} {
			_, err := os.Lstat(p)
			t.Logf("evidence: %s exists: %v", p, err == nil)
		}
	}
}

// TestRmClearsStrayMountpoint: a container whose layer's mount point holds
// files while nothing is mounted there (what a container that ran on a
// detached mount leaves) is still removed by rm -f; the store's unmount
// could not put its empty directory there ("replacing mount point
// …/merged: directory not empty") and every rm failed.
func TestRmClearsStrayMountpoint(t *testing.T) {
	u := requireRoot(t)
	s := newImageStore(t, u)
	s.pull(t, "busybox")
	id := strings.TrimSpace(s.must(t, "create", "--name", "stray", "busybox", "true").Stdout)
	s.must(t, "start", "-a", "stray")
	root := s.args[1]
	data, err := os.ReadFile(filepath.Join(root, "overlay-containers", "containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ctrs []struct{ ID, Layer string }
	if err := json.Unmarshal(data, &ctrs); err != nil {
		t.Fatal(err)
	}
	layer := ""
	for _, c := range ctrs {
		if c.ID == id {
			layer = c.Layer
		}
	}
	if layer == "" {
		t.Fatalf("container %s not in the store's containers.json", id)
	}
	merged := filepath.Join(root, "overlay", layer, "merged")
	for _, d := range []string{"proc", "dev", "etc"} {
		if err := os.MkdirAll(filepath.Join(merged, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(merged, "etc", "hosts"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.must(t, "rm", "-f", "stray")
	if r := s.box(t, "inspect", "stray"); r.Code == 0 {
		t.Fatalf("rm -f exited 0 but the container is still there: %s", r)
	}
	if _, err := os.Stat(filepath.Join(root, "overlay", layer)); !os.IsNotExist(err) {
		t.Fatalf("the container's layer %s should be gone: %v", layer, err)
	}
}

// TestCpRacesRestarts copies out of a container again and again while its
// restart policy starts it again: the monitor keeps its mount between
// runs, so every run finds its files (a cp used to mount the layers beside
// it and take them away when it ended), every cp succeeds, and rm -f works.
func TestCpRacesRestarts(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		s.must(t, "run", "-d", "--name", "rr", "--restart", "on-failure:4", "busybox", "sh", "-c", "test -x /bin/busybox && echo started; exit 1")
		out := userDir(t, u)
		for i := 0; ; i++ {
			if r := s.box(t, "cp", "rr:/bin/busybox", filepath.Join(out, fmt.Sprintf("bb%d", i))); r.Code != 0 {
				t.Fatalf("cp %d beside a restarting container: %s", i, r)
			}
			// The event that ends the loop: the policy gave up.
			st := strings.TrimSpace(s.must(t, "inspect", "--format", "{{.State.Status}} {{.RestartCount}}", "rr").Stdout)
			if st == "exited 4" {
				break
			}
			if strings.HasPrefix(st, "exited") {
				// The monitor records restarting, never exited, between runs.
				t.Fatalf("the restarts stopped short (%s): a restart could not run; logs %q, cp %d", st, s.must(t, "logs", "rr").Stdout, i)
			}
			if i > 600 {
				t.Fatalf("the container never ended its restarts: %s", st)
			}
		}
		if got := s.must(t, "logs", "rr").Stdout; got != strings.Repeat("started\n", 5) {
			t.Fatalf("every run of the container should find its files: logs %q", got)
		}
		s.must(t, "rm", "-f", "rr")
	})
}
