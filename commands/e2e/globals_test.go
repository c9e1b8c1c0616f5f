package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
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

// cgroupLayout says, from /proc/self/mountinfo, how this machine mounts cgroups, in the words
// of box info: "v2" when /sys/fs/cgroup is the unified hierarchy itself, "v1 (hybrid)" when
// it holds v1 hierarchies and a cgroup2 one below it (systemd's /sys/fs/cgroup/unified),
// else "v1".
func cgroupLayout(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	top, below := "", false
	for _, line := range strings.Split(string(data), "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) {
			continue
		}
		point, fstype := unescapeMountPath(f[4]), f[sep+1]
		switch {
		case point == "/sys/fs/cgroup":
			top = fstype // the last mount there is the one seen
		case strings.HasPrefix(point, "/sys/fs/cgroup/") && fstype == "cgroup2":
			below = true
		}
	}
	switch {
	case top == "cgroup2":
		return "v2"
	case below:
		return "v1 (hybrid)"
	default:
		return "v1"
	}
}

func TestInfoAndVersion(t *testing.T) {
	cgroups := cgroupLayout(t)
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	var kernel strings.Builder
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		kernel.WriteByte(byte(c))
	}
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "info")
		for _, want := range []string{
			" Storage Driver: overlay\n",
			" Cgroup Layout: " + cgroups + "\n",
			" Kernel Version: " + kernel.String() + "\n",
			" OSType: " + runtime.GOOS + "\n",
			"127.0.0.1:", "docker.io",
		} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("box info lacks %q:\n%s", want, r.Stdout)
			}
		}
		wantRootless := u != Root
		if strings.Contains(r.Stdout, " Rootless: true\n") != wantRootless {
			t.Fatalf("box info says the wrong mode:\n%s", r.Stdout)
		}
		r = u.MustBox(t, "version", "--format", "{{.Client.Os}}/{{.Client.Arch}}")
		wantOut(t, r, runtime.GOOS+"/"+runtime.GOARCH)
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
