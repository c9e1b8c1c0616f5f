package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"box/rootless"
)

func TestDefaultPaths(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_DATA_HOME", "/data")
	t.Setenv("XDG_RUNTIME_DIR", rt)
	root, run, err := DefaultPaths(true, 4242)
	if err != nil || root != "/data/box/storage" || run != rt+"/box" {
		t.Fatalf("got %q %q %v", root, run, err)
	}
	root, run, _ = DefaultPaths(false, 0)
	if root != "/var/lib/box" || run != "/run/box" {
		t.Fatalf("rootful: %q %q", root, run)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	_, run, _ = DefaultPaths(true, os.Getuid())
	if !strings.HasSuffix(run, "/box-run-"+strconv.Itoa(os.Getuid())) {
		t.Fatalf("fallback run root %q", run)
	}
	if strings.HasPrefix(run, "/dev/shm/") {
		if st, err := os.Stat(run); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("the /dev/shm run root is not private: %v %v", st, err)
		}
		_ = os.Remove(run)
	}
}

// TestConstructorRunRootAgrees: the C constructor looks for the network
// holder in the run root the Go side uses, with and without
// XDG_RUNTIME_DIR and TMPDIR, and with --runroot in either spelling.
func TestConstructorRunRootAgrees(t *testing.T) {
	uid := os.Getuid()
	rt, tmp := t.TempDir(), t.TempDir()
	for _, env := range []struct{ xdg, tmpdir string }{
		{rt, ""}, {"", ""}, {filepath.Join(rt, "gone"), tmp}, {"", tmp},
	} {
		t.Setenv("XDG_RUNTIME_DIR", env.xdg)
		t.Setenv("TMPDIR", env.tmpdir)
		t.Setenv("HOME", "/home/someone")
		_, want, err := DefaultPaths(true, uid)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(want, "/dev/shm/") {
			t.Cleanup(func() { _ = os.Remove(want) }) // made if missing; kept if in use
		}
		for _, args := range [][]string{
			{"box", "ps"}, {"box", "--root", "/r", "ps", "--runroot", "/not/global"}, {"box", "--log-level", "debug", "images"},
		} {
			if got := rootless.ConstructorRunRoot(args, uid); got != want {
				t.Errorf("%+v %q: the constructor's run root is %q, the store's %q", env, args, got, want)
			}
		}
		for _, args := range [][]string{
			{"box", "--runroot", "/given", "ps"}, {"box", "--root", "/r", "--runroot=/given", "ps"},
		} {
			if got := rootless.ConstructorRunRoot(args, uid); got != "/given" {
				t.Errorf("%+v %q: the constructor's run root is %q, want --runroot's", env, args, got)
			}
		}
	}
}
