package fscopy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestContainedTree: in a contained tree every path resolves within the
// root, whatever its symlinks say, and a path that asserts a directory
// fails on a file.
func TestContainedTree(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc", "secret"), []byte("container"), 0o644))
	must(os.Symlink("/", filepath.Join(root, "toroot")))
	must(os.Symlink("../../../../../../..", filepath.Join(root, "up")))
	must(os.Symlink(outside, filepath.Join(root, "abs")))
	must(os.WriteFile(filepath.Join(root, "file"), nil, 0o644))
	f, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	must(err)
	defer f.Close()
	tr := Contained(f)

	for _, p := range []string{"/etc/secret", "/toroot/etc/secret", "/up/etc/secret", "../../etc/secret"} {
		g, err := tr.Open(p, unix.O_RDONLY)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		b := make([]byte, 16)
		n, _ := g.Read(b)
		g.Close()
		if string(b[:n]) != "container" {
			t.Errorf("%s read %q, want the container's file", p, b[:n])
		}
	}
	if g, err := tr.Open("/abs/secret", unix.O_RDONLY); err == nil {
		g.Close()
		t.Errorf("/abs/secret resolved to the host's file")
	} else if !errors.Is(err, unix.ENOENT) {
		t.Errorf("/abs/secret: %v, want ENOENT within the root", err)
	}
	for _, p := range []string{"/file/", "/file/."} {
		if _, err := tr.Open(p, unix.O_PATH); !errors.Is(err, unix.ENOTDIR) {
			t.Errorf("open %s: %v, want ENOTDIR", p, err)
		}
	}
	if g, err := tr.Open("/toroot", unix.O_PATH|unix.O_NOFOLLOW); err != nil {
		t.Errorf("open /toroot without following: %v", err)
	} else {
		var st unix.Stat_t
		_ = unix.Fstat(int(g.Fd()), &st)
		g.Close()
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			t.Errorf("O_NOFOLLOW followed the link")
		}
	}
}
