package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGlobalFlags(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		root := filepath.Join(tempDir, "vfs-root-"+u.Mode)
		run := filepath.Join(tempDir, "vfs-run-"+u.Mode)
		for _, d := range []string{root, run} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.Chown(d, int(u.UID), int(u.GID))
		}
		// Root's Box adds its own --root/--runroot first; later flags win.
		r := u.MustBox(t, "--root", root, "--runroot", run, "--storage-driver", "vfs", "--log-level", "error",
			"run", "--rm", "busybox", "echo", "on vfs")
		wantOut(t, r, "on vfs")
		r = u.MustBox(t, "--root", root, "--runroot", run, "--storage-driver", "vfs", "info", "--format", "{{.Driver}} {{.GraphRoot}}")
		wantOut(t, r, "vfs "+root)
		if _, err := os.Stat(filepath.Join(root, "vfs")); err != nil {
			t.Fatalf("--root was not used: %v", err)
		}
		u.MustBox(t, "--root", root, "--runroot", run, "--storage-driver", "vfs", "system", "reset", "-f")

		r = u.Box(t, "--log-level", "loud", "info")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "loud")
		r = u.Box(t, "--no-such-global", "info")
		wantCode(t, r, 125)
		r = u.Box(t, "nosuchverb")
		wantCode(t, r, 125)
		if !strings.Contains(r.Stderr, "unknown command") {
			t.Fatalf("unknown verb: %s", r)
		}
	})
}

func TestInfoAndVersion(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "info")
		for _, want := range []string{"Storage Driver:  overlay", "Cgroup Version:  v1 (hybrid)", "127.0.0.1:", "docker.io"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("box info lacks %q:\n%s", want, r.Stdout)
			}
		}
		wantRootless := u != Root
		if strings.Contains(r.Stdout, "Rootless:        true") != wantRootless {
			t.Fatalf("box info says the wrong mode:\n%s", r.Stdout)
		}
		r = u.MustBox(t, "version", "--format", "{{.Client.Os}}/{{.Client.Arch}}")
		wantOut(t, r, "linux/amd64")
	})
}

func TestNounVerbSpellings(t *testing.T) {
	u := Rootless
	wantOut(t, u.MustBox(t, "container", "run", "--rm", "busybox", "echo", "noun"), "noun")
	u.MustBox(t, "image", "pull", "-q", "busybox")
	r := u.MustBox(t, "system", "info", "--format", "{{.Rootless}}")
	wantOut(t, r, "true")
}

// TestFlagsAfterArguments: Docker parses a verb's flags wherever they
// stand (`docker rmi img -f`), except after run's image.
func TestFlagsAfterArguments(t *testing.T) {
	u := Rootless
	u.MustBox(t, "pull", "-q", "busybox")
	ids := u.MustBox(t, "images", "-q", "busybox")
	r := u.MustBox(t, "images", "busybox", "-q")
	if r.Stdout != ids.Stdout || strings.TrimSpace(r.Stdout) == "" {
		t.Fatalf("images busybox -q gave %q, want %q", r.Stdout, ids.Stdout)
	}
	r = u.MustBox(t, "run", "--rm", "busybox", "echo", "-q")
	wantOut(t, r, "-q")
	u.MustBox(t, "tag", "busybox", "flags-after:1")
	u.MustBox(t, "rmi", "flags-after:1", "-f")
	r = u.Box(t, "image", "inspect", "flags-after:1")
	wantCode(t, r, 1)
}
