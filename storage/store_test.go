package storage

import (
	"os"
	"strconv"
	"strings"
	"testing"
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
