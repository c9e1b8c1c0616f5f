package e2e

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnpackOwnerOutsideRange imports and loads a layer with a file owned
// by an id beyond the rootless user's subordinate range: the error is
// box's, one line, says what is wrong and how to fix it (a larger range
// in /etc/subuid and /etc/subgid), and never sends the user to Podman.
func TestUnpackOwnerOutsideRange(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	s := newImageStore(t, u)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := "far away\n"
	if err := tw.WriteHeader(&tar.Header{Name: "far", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), Uid: 900000, Gid: 900000, ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(body))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := userDir(t, u)
	path := filepath.Join(dir, "far.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "far-archive.tar")
	if err := os.WriteFile(archive, dockerArchive(t, "far:1", buf.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	s.pull(t, "busybox")
	ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nADD far.tar /\n", "far.tar": buf.String()})
	for _, r := range []Result{s.box(t, "import", path, "far:1"), s.box(t, "load", "-i", archive), s.box(t, "build", "-q", ctx)} {
		if r.Code == 0 {
			t.Fatalf("a file owned by 900000 was stored for a user whose range ends below it: %s", r)
		}
		wantOneLineError(t, r, "900000", "/etc/subuid", u.Name)
		if strings.Contains(r.Stderr, "podman") {
			t.Fatalf("the error should be box's, not Podman's: %s", r)
		}
	}
}

// TestAddRefusesForeignHardlink: ADD of an archive whose hard link points
// at a file the archive did not make (an absolute or ../ target, or none)
// is refused naming the entry and why, not "no such file or directory"
// from the layer's unpacking; a link within the archive works.
func TestAddRefusesForeignHardlink(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	s := newImageStore(t, u)
	s.pull(t, "busybox")
	cases := []struct{ name, link string }{{"abs", "/etc/passwd"}, {"up", "../../../etc/passwd"}, {"none", "nothere"}}
	for _, c := range cases {
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nADD l.tar /x/\n",
			"l.tar":      string(rawTar(t, rawEntry{name: "f", body: "x"}, rawEntry{name: "l", typ: tar.TypeLink, link: c.link})),
		})
		r := s.box(t, "build", "-q", ctx)
		wantCode(t, r, 1)
		wantOneLineError(t, r, `entry "l"`, "hard link to", c.link, "refused")
	}
	ctx := buildContext(t, u, map[string]string{
		"Dockerfile": "FROM busybox\nADD l.tar /x/\n",
		"l.tar":      string(rawTar(t, rawEntry{name: "f", body: "x\n"}, rawEntry{name: "l", typ: tar.TypeLink, link: "f"})),
	})
	s.must(t, "build", "-t", "goodlink", ctx)
	wantOut(t, s.must(t, "run", "--rm", "goodlink", "sh", "-c", "cat /x/l; stat -c %h /x/f"), "x\n2")
}
