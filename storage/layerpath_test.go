package storage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	itypes "go.podman.io/image/v5/types"
)

func TestCleanLayerPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"etc/passwd", "etc/passwd", true},
		{"/etc/passwd", "etc/passwd", true},
		{"./a", "a", true},
		{"a/../b", "b", true},
		{"a/./b/", "a/b", true},
		{"./", ".", true},
		{"", ".", true},
		{"..", "", false},
		{"../x", "", false},
		{"./../x", "", false},
		{"a/../../x", "", false},
		{"/../x", "", false}, // Clean hides it; joined onto a directory it leads out
		{"a/b/../../../x", "", false},
	} {
		got, ok := cleanLayerPath(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cleanLayerPath(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// entry builds a tar header: kind "f" file, "d" directory, "s" symlink
// to link, "h" hard link to link.
func entry(kind, name, link string) *tar.Header {
	h := &tar.Header{Name: name, Mode: 0o644}
	switch kind {
	case "f":
		h.Typeflag = tar.TypeReg
	case "d":
		h.Typeflag, h.Mode = tar.TypeDir, 0o755
	case "s":
		h.Typeflag, h.Linkname = tar.TypeSymlink, link
	case "h":
		h.Typeflag, h.Linkname = tar.TypeLink, link
	}
	return h
}

func withXattr(h *tar.Header, key string) *tar.Header {
	h.PAXRecords = map[string]string{"SCHILY.xattr." + key: "y"}
	return h
}

func TestLayerChecker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*tar.Header
		refused string // the entry refused, "" for none
		reason  string
	}{
		{"symlink parent /dev", []*tar.Header{entry("s", "esc", "/dev"), entry("f", "esc/zero", "")}, "esc/zero", `under "esc"`},
		{"symlink parent home", []*tar.Header{entry("d", "./", ""), entry("s", "./h", "/home/user"), entry("f", "./h/secret", "")}, "./h/secret", `under "h"`},
		{"symlink parent nested", []*tar.Header{entry("d", "d", ""), entry("s", "d/s", "/"), entry("f", "d/s/etc/x", "")}, "d/s/etc/x", `under "d/s"`},
		{"symlink parent via ..", []*tar.Header{entry("s", "esc", "/dev"), entry("f", "a/../esc/zero", "")}, "a/../esc/zero", `under "esc"`},
		{"symlink then ..", []*tar.Header{entry("s", "esc", "/dev/sub"), entry("f", "esc/../zero", "")}, "esc/../zero", `under "esc"`},
		{"hard link through a symlink and ..", []*tar.Header{entry("f", "f", ""), entry("s", "s", "/x"), entry("h", "l", "s/../f")}, "l", `under "s"`},
		{"dot dot", []*tar.Header{entry("f", "../x", "")}, "../x", "climbs outside the layer"},
		{"dot dot inside", []*tar.Header{entry("f", "a/../../x", "")}, "a/../../x", "climbs outside the layer"},
		{"rooted dot dot", []*tar.Header{entry("f", "/../etc/x", "")}, "/../etc/x", "climbs outside the layer"},
		{"hard link out", []*tar.Header{entry("h", "l", "../../etc/passwd")}, "l", "outside the layer"},
		{"hard link under symlink", []*tar.Header{entry("s", "h", "/etc"), entry("h", "l", "h/passwd")}, "l", `under "h"`},
		{"trusted overlay xattr", []*tar.Header{withXattr(entry("d", "d", ""), "trusted.overlay.opaque")}, "d", "trusted.overlay.opaque"},
		{"user overlay xattr", []*tar.Header{withXattr(entry("f", "f", ""), "user.overlay.redirect")}, "f", "user.overlay.redirect"},

		{"absolute symlink alone", []*tar.Header{entry("s", "lib", "/usr/lib"), entry("f", "hello", "")}, "", ""},
		{"absolute path", []*tar.Header{entry("f", "/abs", "")}, "", ""},
		{"dot dot that stays", []*tar.Header{entry("d", "a", ""), entry("f", "a/../b", "")}, "", ""},
		{"symlink replaced by a directory", []*tar.Header{entry("s", "lib", "/usr/lib"), entry("d", "lib", ""), entry("f", "lib/x", "")}, "", ""},
		{"symlink whited out", []*tar.Header{entry("s", "a", "/x"), entry("f", ".wh.a", ""), entry("f", "a/b", "")}, "", ""},
		{"opaque directory keeps the layer's own", []*tar.Header{entry("s", "d/a", "/x"), entry("f", "d/.wh..wh..opq", ""), entry("f", "d/a/b", "")}, "d/a/b", `under "d/a"`},
		{"hard link to nothing earlier", []*tar.Header{entry("h", "l", "/etc/passwd")}, "l", "no earlier entry"},
		{"hard link to a whited out file", []*tar.Header{entry("f", "f", ""), entry("f", ".wh.f", ""), entry("h", "l", "f")}, "l", "no earlier entry"},
		{"hard link to a directory", []*tar.Header{entry("d", "d", ""), entry("h", "l", "d")}, "l", "no earlier entry"},
		{"hard link to a symlink", []*tar.Header{entry("s", "s", "/etc"), entry("h", "l", "s")}, "", ""},
		{"hard link to a hard link", []*tar.Header{entry("f", "/f", ""), entry("h", "l", "f"), entry("h", "m", "./l")}, "", ""},
		{"hard link inside", []*tar.Header{entry("f", "f", ""), entry("h", "l", "./f")}, "", ""},
		{"other xattrs", []*tar.Header{withXattr(entry("f", "f", ""), "user.foo"), withXattr(entry("f", "g", ""), "security.capability")}, "", ""},
		{"symlink name like a parent", []*tar.Header{entry("s", "ab", "/x"), entry("f", "abc/d", "")}, "", ""},
	} {
		var c layerChecker
		var err error
		for _, h := range tc.entries {
			if err = c.check(h); err != nil {
				break
			}
		}
		if tc.refused == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			continue
		}
		var le *LayerEntryError
		if !errors.As(err, &le) || !errors.Is(err, ErrRefusedLayer) {
			t.Errorf("%s: got %v, want a *LayerEntryError", tc.name, err)
			continue
		}
		if le.Entry != tc.refused || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), `"`+tc.refused+`"`) {
			t.Errorf("%s: got %q (entry %q), want entry %q and %q", tc.name, err, le.Entry, tc.refused, tc.reason)
		}
	}
}

// tarOf writes entries as a tar, regular files holding their own name.
func tarOf(t testing.TB, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		h := *h
		var data []byte
		if h.Typeflag == tar.TypeReg {
			data = []byte("content of " + h.Name)
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestCheckedLayerReader(t *testing.T) {
	good := tarOf(t, entry("d", "bin", ""), entry("s", "lib", "/usr/lib"), entry("f", "bin/sh", ""))
	for name, in := range map[string][]byte{"plain": good, "gzip": gzipped(t, good)} {
		r, err := newCheckedLayerReader(bytes.NewReader(in), "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(out, good) {
			t.Errorf("%s: a good layer did not pass unchanged (err %v, %d bytes of %d)", name, err, len(out), len(good))
		}
	}

	bad := tarOf(t, entry("f", "ok", ""), entry("s", "esc", "/dev"), entry("f", "esc/zero", ""), entry("f", "after", ""))
	r, err := newCheckedLayerReader(bytes.NewReader(bad), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	var le *LayerEntryError
	if !errors.As(err, &le) || le.Entry != "esc/zero" {
		t.Fatalf("got %v, want esc/zero refused", err)
	}
	if r.Refused() == nil {
		t.Error("Refused() is nil after a refusal")
	}
	if bytes.Contains(out, []byte("esc/zero")) || bytes.Contains(out, []byte("after")) {
		t.Error("the refused entry's header reached the reader")
	}
	if !bytes.Contains(out, []byte("content of ok")) {
		t.Error("the entries before the refused one did not pass")
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestCheckedBlob(t *testing.T) {
	good := gzipped(t, tarOf(t, entry("s", "lib", "/usr/lib"), entry("f", "hello", "")))
	bad := gzipped(t, tarOf(t, entry("s", "h", "/etc"), entry("f", "h/passwd", "")))
	layer := func(b []byte) itypes.BlobInfo {
		return itypes.BlobInfo{Digest: digest.FromBytes(b), Size: int64(len(b)), MediaType: v1.MediaTypeImageLayerGzip}
	}

	out, err := io.ReadAll(newCheckedBlob(&closeCounter{Reader: bytes.NewReader(good)}, layer(good), "r"))
	if err != nil || !bytes.Equal(out, good) {
		t.Errorf("good layer: err %v, passed unchanged %v", err, bytes.Equal(out, good))
	}

	_, err = io.ReadAll(newCheckedBlob(&closeCounter{Reader: bytes.NewReader(bad)}, layer(bad), "r"))
	var le *LayerEntryError
	if !errors.As(err, &le) || le.Entry != "h/passwd" || !strings.Contains(err.Error(), shortDigest(digest.FromBytes(bad))) {
		t.Errorf("bad layer: got %v, want h/passwd of its layer refused", err)
	}

	info := layer(good)
	info.Size++
	_, err = io.ReadAll(newCheckedBlob(&closeCounter{Reader: bytes.NewReader(good)}, info, "r"))
	var size *BlobSizeError
	if !errors.As(err, &size) || !errors.Is(err, ErrCorruptBlob) {
		t.Errorf("wrong size: got %v, want a *BlobSizeError", err)
	}

	config := []byte(`{"not":"a tar"}`)
	out, err = io.ReadAll(newCheckedBlob(&closeCounter{Reader: bytes.NewReader(config)}, itypes.BlobInfo{Digest: digest.FromBytes(config), Size: -1, MediaType: v1.MediaTypeImageConfig}, "r"))
	if err != nil || !bytes.Equal(out, config) {
		t.Errorf("config: err %v", err)
	}

	// Closed before the end: the check goroutine ends, the source closes.
	src := &closeCounter{Reader: bytes.NewReader(good)}
	b := newCheckedBlob(src, layer(good), "r")
	b.Read(make([]byte, 10))
	if err := b.Close(); err != nil || src.closed != 1 {
		t.Errorf("close: %v, source closed %d times", err, src.closed)
	}
}

func TestCheckManifestLayers(t *testing.T) {
	man := func(mt string) []byte {
		return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
			`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2},` +
			`"layers":[{"mediaType":"` + mt + `","digest":"sha256:` + strings.Repeat("b", 64) + `","size":3}]}`)
	}
	if err := checkManifestLayers(man(v1.MediaTypeImageLayerGzip), v1.MediaTypeImageManifest); err != nil {
		t.Errorf("gzip layer refused: %v", err)
	}
	err := checkManifestLayers(man("application/x-evil"), v1.MediaTypeImageManifest)
	var mt *LayerMediaTypeError
	if !errors.As(err, &mt) || !strings.Contains(err.Error(), "application/x-evil") {
		t.Errorf("unknown media type: got %v", err)
	}
}
