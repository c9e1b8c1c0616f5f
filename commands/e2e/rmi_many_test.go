package e2e

// rmi of an image with thousands of names: containers/storage rewrites an image's
// name history for every write that adds or removes names, so removing names one
// write at a time grew with the cube of their number (2,000 tags ran for longer
// than 12 minutes).

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// retag rewrites a docker-archive's manifest so that its image carries tags.
func retag(t *testing.T, archive []byte, tags []string) []byte {
	t.Helper()
	var entries []tarEntry
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.json" {
			var m []map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m[0]["RepoTags"] = tags
			if body, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
		entries = append(entries, tarEntry{Name: h.Name, Type: h.Typeflag, Body: string(body), Mode: h.Mode})
	}
	return mustTar(t, entries...)
}

// TestRmiThousandsOfTags loads one image under 2,000 names, then removes all of
// them and an unknown name in one rmi: every name is reported in order, the image
// goes with its last name, the unknown one is an error, and the store is empty.
func TestRmiThousandsOfTags(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	s := newImageStore(t, u)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var tags []string
	for i := range n {
		tags = append(tags, fmt.Sprintf("many:%d", i))
	}
	archive := retag(t, dockerArchive(t, "many:0",
		mustTar(t, tarEntry{Name: "bin/", Type: tar.TypeDir}, tarEntry{Name: "bin/busybox", Body: string(bb), Mode: 0o755})), tags)
	path := filepath.Join(userDir(t, u), "many.tar")
	if err := os.WriteFile(path, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	s.must(t, "load", "-i", path)
	if got := strings.Count(s.must(t, "images", "many").Stdout, "\nmany "); got != n {
		t.Fatalf("images lists %d names of the loaded image, want %d", got, n)
	}
	id := strings.TrimSpace(s.must(t, "images", "-q", "--no-trunc", "many:0").Stdout)

	args := append([]string{"rmi"}, tags[:n/2]...)
	args = append(args, "nosuch:1")
	args = append(args, tags[n/2:]...)
	r := s.box(t, args...)
	wantCode(t, r, 1)
	wantOneLineError(t, r, "No such image: nosuch:1")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != n+1 {
		t.Fatalf("rmi printed %d lines, want %d Untagged and one Deleted; last: %q", len(lines), n, lines[len(lines)-1])
	}
	for i, tag := range tags {
		if want := "Untagged: " + tag; lines[i] != want {
			t.Fatalf("line %d: %q, want %q", i+1, lines[i], want)
		}
	}
	if want := "Deleted: " + id; lines[n] != want {
		t.Fatalf("last line %q, want %q", lines[n], want)
	}
	if left := s.must(t, "images", "-a", "-q").Stdout; left != "" {
		t.Fatalf("images left after removing every name:\n%s", left)
	}
}
