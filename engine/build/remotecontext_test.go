package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsGitURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/repo.git":               true,
		"http://example.com/repo.git#main":           true,
		"https://example.com/repo.git#v1:sub/dir":    true,
		"https://example.com/a.git/?x=1#main":        false,
		"https://example.com/ctx.tar.gz":             false,
		"https://example.com/repo":                   false,
		"git://example.com/repo":                     true,
		"git@example.com:org/repo":                   true,
		"ssh://git@example.com/org/repo":             true,
		"github.com/org/repo":                        true,
		"./repo.git":                                 false,
		"file:///srv/repo.git":                       false,
		"http://example.com/Dockerfile":              false,
		"https://example.com/repo.git#refs/pull/1/h": true,
	} {
		if got := IsGitURL(s); got != want {
			t.Errorf("IsGitURL(%q) = %v, want %v", s, got, want)
		}
	}
	if !IsURL("http://x/y") || !IsURL("https://x") || IsURL("git://x") || IsURL("ftp://x") {
		t.Error("IsURL takes http and https only")
	}
}

func TestParseGitURL(t *testing.T) {
	for s, want := range map[string]gitSource{
		"https://h/r.git":             {remote: "https://h/r.git"},
		"https://h/r.git#main":        {remote: "https://h/r.git", ref: "main"},
		"https://h/r.git#v1:sub/dir":  {remote: "https://h/r.git", ref: "v1", subdir: "sub/dir"},
		"https://h/r.git#:sub":        {remote: "https://h/r.git", subdir: "sub"},
		"git@h:org/r.git#feature:ctx": {remote: "git@h:org/r.git", ref: "feature", subdir: "ctx"},
		"github.com/org/r":            {remote: "https://github.com/org/r"},
		"ssh://git@h/r#0123abc":       {remote: "ssh://git@h/r", ref: "0123abc"},
	} {
		got, err := parseGitURL(s)
		if err != nil || got != want {
			t.Errorf("parseGitURL(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	if _, err := parseGitURL("https://h/r.git#--upload-pack=x"); err == nil {
		t.Error("a ref that looks like an option must be refused")
	}
}

type tarEntry struct {
	hdr  tar.Header
	data string
}

func tarStream(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadContext(t *testing.T) {
	tmp := t.TempDir()
	plain := tarStream(t, tarEntry{tar.Header{Name: "Dockerfile"}, "FROM scratch\n"}, tarEntry{tar.Header{Name: "sub/a"}, "a\n"},
		tarEntry{tar.Header{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: "/etc/hostname"}, ""})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for name, data := range map[string][]byte{"plain": plain, "gzip": gz.Bytes()} {
		p, err := readContext(tmp, bytes.NewReader(data), "", "", true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, err := os.ReadFile(filepath.Join(p.dir, "sub/a")); err != nil || string(b) != "a\n" || p.content != nil {
			t.Fatalf("%s: the archive should be unpacked: %q %v", name, b, err)
		}
		os.RemoveAll(p.dir)
	}

	// A Dockerfile: no context.
	p, err := readContext(tmp, strings.NewReader("FROM busybox\n"), "", "text/plain", true)
	if err != nil || string(p.content) != "FROM busybox\n" {
		t.Fatalf("a Dockerfile should be read as one: %+v %v", p, err)
	}
	os.RemoveAll(p.dir)
	if _, err := readContext(tmp, strings.NewReader("FROM busybox\n"), "Dockerfile.other", "", false); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Fatalf("a Dockerfile context with -f: %v", err)
	}
	for _, page := range []struct{ body, mediaType string }{{"<!DOCTYPE html><html></html>", ""}, {"FROM x", "text/html"}} {
		if _, err := readContext(tmp, strings.NewReader(page.body), "", page.mediaType, true); err == nil || !strings.Contains(err.Error(), "HTML page") {
			t.Fatalf("an HTML page should be refused: %v", err)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("nothing should be left in tmp: %v", left)
	}
}

// TestExtractContextEscapes: no entry of a context archive is written
// outside the directory it is unpacked in.
func TestExtractContextEscapes(t *testing.T) {
	outside := t.TempDir()
	for name, data := range map[string][]byte{
		"dotdot":           tarStream(t, tarEntry{tar.Header{Name: "../escaped"}, "x"}),
		"nested dotdot":    tarStream(t, tarEntry{tar.Header{Name: "a/../../escaped"}, "x"}),
		"relative symlink": tarStream(t, tarEntry{tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "../../.."}, ""}),
		"through absolute symlink": tarStream(t,
			tarEntry{tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: outside}, ""},
			tarEntry{tar.Header{Name: "l/escaped"}, "x"}),
		"hard link": tarStream(t, tarEntry{tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}, ""}),
	} {
		dir := filepath.Join(t.TempDir(), "ctx")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		err := extractContext(bytes.NewReader(data), dir)
		if err == nil {
			t.Errorf("%s: the archive should be refused", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error should be one line: %q", name, err)
		}
		for _, p := range []string{filepath.Join(filepath.Dir(dir), "escaped"), filepath.Join(outside, "escaped")} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s: %s was written outside the context", name, p)
			}
		}
	}
}

func TestGitReason(t *testing.T) {
	for out, want := range map[string]string{
		"ssh: Could not resolve hostname example.com: Name or service not known\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n": "ssh: Could not resolve hostname example.com: Name or service not known",
		"remote: Counting objects: 3\rremote: Counting objects: 100%\nfatal: couldn't find remote ref nosuch\n":                                                                                                        "couldn't find remote ref nosuch",
		"something odd\n": "something odd",
	} {
		o := &gitOutput{}
		o.Write([]byte(out))
		if got := o.reason(); got != want {
			t.Errorf("reason of %q = %q, want %q", out, got, want)
		}
	}
}

func TestCommitish(t *testing.T) {
	for ref, want := range map[string]bool{
		"abc1234": true, "abc123": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
		"ABC1234": false, "main": false, "v1.2.3": false, "abc123g": false,
	} {
		if got := commitish(ref); got != want {
			t.Errorf("commitish(%q) = %v, want %v", ref, got, want)
		}
	}
}
