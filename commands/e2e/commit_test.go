package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitForFile waits until a file exists in a running container.
func (s *imageStore) waitForFile(t *testing.T, ctr, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r := s.box(t, "exec", ctr, "test", "-e", path); r.Code == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never appeared in container %s", path, ctr)
}

// TestCommit commits a running container's changes and runs the new image; rootless, the
// container is committed without pausing (there is no freezer), root pauses it.
func TestCommit(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine")
		s.must(t, "run", "-d", "--name", "changing", "alpine", "sh", "-c",
			"echo changed > /etc/motd; rm /etc/issue; mkdir /newdir; echo x > /newdir/f; touch /ready; exec sleep 300")
		t.Cleanup(func() { s.box(t, "rm", "-f", "changing") })
		s.waitForFile(t, "changing", "/ready")

		r := s.must(t, "commit", "-c", `CMD ["cat", "/etc/motd"]`, "-c", "ENV STAGE=committed",
			"-m", "a test commit", "-a", "Box Tester <box@example.com>", "changing", "committed:v1")
		id := strings.TrimSpace(r.Stdout)
		if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
			t.Fatalf("commit should print the new image id: %s", r)
		}
		if got := s.imageID(t, "committed:v1"); got != id {
			t.Fatalf("committed:v1 is %s, commit printed %s", got, id)
		}
		// The container runs on, unpaused.
		wantOut(t, s.must(t, "inspect", "--format", "{{.State.Status}} {{.State.Paused}}", "changing"), "running false")

		wantOut(t, s.must(t, "run", "--rm", "committed:v1"), "changed")
		wantOut(t, s.must(t, "run", "--rm", "committed:v1", "sh", "-c",
			"test ! -e /etc/issue && cat /newdir/f && echo $STAGE && test ! -e /ready -o -e /ready"), "x\ncommitted")
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{.Author}}|{{.Comment}}|{{.Config.Cmd}}|{{.RepoDigests}}", "committed:v1"),
			"Box Tester <box@example.com>|a test commit|[cat /etc/motd]|[]")
		r = s.must(t, "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Comment}}", "committed:v1")
		first := outLines(r.Stdout)[0]
		if !strings.HasPrefix(first, id+"|sh -c echo changed > /etc/motd") || !strings.HasSuffix(first, "|a test commit") {
			t.Fatalf("history's top row should be the commit: %s", r)
		}
		if n, base := len(outLines(r.Stdout)), len(outLines(s.must(t, "history", "-q", "alpine").Stdout)); n != base+1 {
			t.Fatalf("the commit should add one history row to alpine's %d, have %d", base, n)
		}

		// Untagged, of a stopped container, and with nothing changed.
		s.must(t, "run", "--name", "same", "alpine", "true")
		r = s.must(t, "container", "commit", "same")
		anon := strings.TrimSpace(r.Stdout)
		if r := s.must(t, "images", "--filter", "dangling=true", "-q", "--no-trunc"); !strings.Contains(r.Stdout, anon) {
			t.Fatalf("an untagged commit is dangling: %s", r)
		}
		wantOut(t, s.must(t, "run", "--rm", anon, "cat", "/etc/alpine-release"), "3.20.3")

		// The committed image survives save and load.
		dir := userDir(t, u)
		archive := filepath.Join(dir, "committed.tar")
		s.must(t, "save", "-o", archive, "committed:v1")
		s.must(t, "rm", "-f", "changing", "same")
		s.must(t, "rmi", "committed:v1", anon)
		wantOut(t, s.must(t, "load", "-i", archive), "Loaded image: committed:v1")
		if got := s.imageID(t, "committed:v1"); got != id {
			t.Fatalf("the committed image's id changed through save and load: %s, was %s", got, id)
		}
		wantOut(t, s.must(t, "run", "--rm", "committed:v1"), "changed")

		r = s.box(t, "commit", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")
		r = s.box(t, "commit", "-c", "RUN make", "nosuch")
		wantCode(t, r, 125)
	})
}
