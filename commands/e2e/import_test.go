package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImport makes images from a root filesystem tarball, the way the
// README's quickstart brings in Debian's busybox-static without a registry.
func TestImport(t *testing.T) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is needed for the import test: %v", err)
	}
	rootfs, err := makeTar(
		tarEntry{Name: "bin/", Type: tar.TypeDir},
		tarEntry{Name: "bin/busybox", Body: string(bb), Mode: 0o755},
		tarEntry{Name: "bin/sh", Type: tar.TypeSymlink, Linkname: "busybox"},
		tarEntry{Name: "bin/echo", Type: tar.TypeSymlink, Linkname: "busybox"},
		tarEntry{Name: "etc/", Type: tar.TypeDir},
		tarEntry{Name: "etc/motd", Body: "imported\n"},
	)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tempDir, "rootfs.tar")
	if err := os.WriteFile(file, rootfs, 0o644); err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "import", "-c", `CMD ["/bin/sh", "-c", "echo $GREETING; cat /etc/motd"]`,
			"-c", "ENV GREETING=hi PATH=/bin", "-m", "from a test", file, "imported:v1")
		id := strings.TrimSpace(r.Stdout)
		if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
			t.Fatalf("import should print the image id: %s", r)
		}
		wantOut(t, u.MustBox(t, "run", "--rm", "imported:v1"), "hi\nimported")
		wantOut(t, u.MustBox(t, "image", "inspect", "--format", "{{.Id}}", "imported:v1"), id)
		wantOut(t, u.MustBox(t, "history", "--format", "{{.Comment}}", "imported:v1"), "from a test")

		// From stdin, untagged: listed as <none>.
		r = u.BoxWith(t, RunOpts{Stdin: string(rootfs)}, "image", "import", "-")
		wantCode(t, r, 0)
		anon := strings.TrimSpace(r.Stdout)
		if r := u.MustBox(t, "images", "--filter", "dangling=true", "--no-trunc", "-q"); !strings.Contains(r.Stdout, anon) {
			t.Fatalf("the untagged import %s is not listed as dangling: %s", anon, r)
		}
		u.MustBox(t, "rmi", anon)

		r = u.Box(t, "import", "-c", "RUN make", file)
		wantCode(t, r, 125)
		wantOneLineError(t, r, "RUN")
		r = u.Box(t, "import", filepath.Join(tempDir, "no-such.tar"))
		wantCode(t, r, 1)
		wantOneLineError(t, r, "no-such.tar")
		u.MustBox(t, "rmi", "imported:v1")
	})
}

// TestImportAlpineMinirootfs imports Alpine's own minirootfs tarball (gzip) and runs it.
func TestImportAlpineMinirootfs(t *testing.T) {
	tarball := filepath.Join(sharedTestdata, "alpine-3.20.3", "alpine-minirootfs-3.20.3-x86_64.tar.gz")
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.must(t, "import", "-c", `CMD ["cat", "/etc/alpine-release"]`, tarball, "minirootfs:3.20.3")
		wantOut(t, s.must(t, "run", "--rm", "minirootfs:3.20.3"), "3.20.3")
		wantOut(t, s.must(t, "run", "--rm", "minirootfs:3.20.3", "/bin/sh", "-c", "apk --version | cut -d' ' -f1"), "apk-tools")
	})
}
