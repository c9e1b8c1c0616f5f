package storage

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	itypes "go.podman.io/image/v5/types"
)

// Fuzz targets for what box reads from users and files (issue 17's
// standing guards). `go test` runs each seed corpus; scripts/fuzz runs
// them for longer, and a crasher it finds lands in testdata/fuzz/ as a
// seed of its own.

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"busybox", "busybox:1.36", "library/alpine:3.20", "docker.io/library/alpine",
		"127.0.0.1:5000/x/y:t", "localhost/img", "ghcr.io/o/r@sha256:" + strings.Repeat("a", 64),
		"UPPER", "a:b:c", "sha256:" + strings.Repeat("0", 64), strings.Repeat("f", 64), "", "@", ":", "a//b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		named, err := ParseReference(s)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error for %q is not one line: %q", s, msg)
			}
			return
		}
		// What box accepted it can print, and what it prints means the same image.
		again, err := ParseReference(FamiliarString(named))
		if err != nil {
			t.Fatalf("%q parsed to %q, whose familiar form %q does not parse: %v", s, named, FamiliarString(named), err)
		}
		if again.String() != named.String() {
			t.Fatalf("%q: %q and its familiar form's %q differ", s, named, again)
		}
		if reference.IsNameOnly(named) {
			t.Fatalf("%q: %q has neither tag nor digest", s, named)
		}
	})
}

func FuzzRegistriesConf(f *testing.F) {
	f.Add(`unqualified-search-registries = ["docker.io"]
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5000"
insecure = true
`, "busybox")
	f.Add(`[[registry]]
prefix = "example.com/foo"
location = "mirror.local/bar"
blocked = false
`, "example.com/foo/img:1")
	f.Add(`[aliases]
"bb" = "docker.io/library/busybox"
`, "bb")
	f.Add("[[registry]]\nlocation = \"\"\n", "x")
	f.Add("unqualified-search-registries = [", "y")
	f.Fuzz(func(t *testing.T, conf, ref string) {
		named, err := ParseReference(ref)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "registries.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		sys := &itypes.SystemContext{SystemRegistriesConfPath: path, SystemRegistriesConfDirPath: filepath.Join(t.TempDir(), "none")}
		defer sysregistriesv2.InvalidateCache()
		// Whatever the file says, a pull has somewhere to go, and each
		// source gets a system context of its own.
		srcs := pullSources(sys, named)
		if len(srcs) == 0 {
			t.Fatalf("no pull source for %q", named)
		}
		for _, src := range srcs {
			if sourceSystemContext(sys, src) == nil {
				t.Fatalf("no system context for source %q", src.Endpoint.Location)
			}
			_ = endpointHost(src.Endpoint)
		}
		_, _, _ = (&Store{sys: sys}).Registries()
	})
}

// FuzzCheckLayerTar feeds the layer check every pull, load and import
// runs: an entry it lets through never names a path that climbs out of
// the layer.
func FuzzCheckLayerTar(f *testing.F) {
	f.Add(tarOf(f, &tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}, &tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Mode: 0o644}))
	f.Add(tarOf(f, &tar.Header{Name: "../x", Typeflag: tar.TypeReg}))
	f.Add(tarOf(f, &tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "/dev"}, &tar.Header{Name: "esc/zero", Typeflag: tar.TypeReg}))
	f.Add(tarOf(f, &tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}))
	f.Add(tarOf(f, &tar.Header{Name: "x", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.opaque": "y"}}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkLayerTar(bytes.NewReader(data), "fuzz")
		var refused *LayerEntryError
		if err != nil && errors.As(err, &refused) {
			if msg := err.Error(); strings.Contains(msg, "\n") {
				t.Fatalf("refusal is not one line: %q", msg)
			}
			return
		}
		if err != nil {
			return // not a tar: the store says so
		}
		// Accepted: no entry's cleaned name leaves the layer.
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := tr.Next()
			if err != nil {
				return
			}
			if p := filepath.Join("/layer", h.Name); p != "/layer" && !strings.HasPrefix(p, "/layer/") {
				t.Fatalf("accepted entry %q leaves the layer", h.Name)
			}
		}
	})
}

// FuzzScanArchive reads what `box load` reads: whatever the bytes, a
// clear error or a scanned archive, never a panic or a file outside
// tmpDir.
func FuzzScanArchive(f *testing.F) {
	f.Add(tarOf(f, &tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg}))
	f.Add(tarOf(f, &tar.Header{Name: "index.json", Typeflag: tar.TypeReg}, &tar.Header{Name: "oci-layout", Typeflag: tar.TypeReg}))
	f.Add(tarOf(f, &tar.Header{Name: "../escape", Typeflag: tar.TypeReg}))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		a, err := scanArchive(bytes.NewReader(data), tmp)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		defer a.Close()
		_, _ = a.checkDockerArchive()
		_, _ = a.checkOCIArchive()
	})
}
