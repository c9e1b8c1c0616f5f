package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullDisk mounts a tmpfs of its own for u's store and run state, and
// returns u with --root and --runroot there. shrink then cuts the tmpfs
// down to what it holds plus free bytes.
func fullDisk(t *testing.T, u *User) (*User, func(free int64)) {
	t.Helper()
	dir := filepath.Join(tempDir, "full-"+u.Mode)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		t.Fatalf("mount a tmpfs for the full disk: %v", err)
	}
	fu := *u
	fu.StoreRoot, fu.StoreRunRoot = filepath.Join(dir, "root"), filepath.Join(dir, "run")
	t.Cleanup(func() {
		// Containers first: their mounts (rootful: in the host's namespace)
		// keep the tmpfs busy.
		for _, id := range outLines(fu.Box(t, "ps", "-a", "-q").Stdout) {
			fu.Box(t, "rm", "-f", id)
		}
		// The default bridge's network holder, whose files are in the
		// run root here, ends just after its last container.
		waitHolderGone(t, &fu)
		unmountUnder(dir)
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the full disk: %v", err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	shrink := func(free int64) {
		t.Helper()
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		used := int64(st.Blocks-st.Bfree) * st.Bsize
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d", used+free)); err != nil {
			t.Fatalf("shrink the tmpfs: %v", err)
		}
	}
	return &fu, shrink
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// TestDiskFullWhileLogging fills the store's disk with a container's
// output: the container keeps running and box keeps working on it.
func TestDiskFullWhileLogging(t *testing.T) {
	u, shrink := fullDisk(t, requireRoot(t))
	u.MustBox(t, "pull", "-q", "busybox")
	shrink(1 << 20)

	// 50000 lines of about 90 bytes logged: 4.5 MB for 1 MB of room.
	name := "flood"
	u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
		`trap "exit 7" TERM; echo start; yes 0123456789012345678901234567890123456789 | head -n 50000; echo end; sleep 6001 & wait`)
	waitForProcess(t, "sleep 6001", 60*time.Second)
	if free := freeBytes(t, u.StoreRoot); free > 64<<10 {
		t.Fatalf("the disk still has %d bytes free: the output did not fill it", free)
	}
	r := u.MustBox(t, "ps", "--format", "{{.Names}} {{.Status}}")
	if !strings.HasPrefix(r.Stdout, name+" Up ") {
		t.Fatalf("with the disk full the container should still run: %s", r)
	}
	// What fitted is there, whole lines only (a short last line may
	// still fit in the last page).
	r = u.MustBox(t, "logs", name)
	lines := outLines(r.Stdout)
	if len(lines) < 1000 || len(lines) > 20000 || lines[0] != "start" {
		t.Fatalf("logs should show the first of the output: %d lines", len(lines))
	}
	for _, l := range lines[1 : len(lines)-1] {
		if l != "0123456789012345678901234567890123456789" {
			t.Fatalf("a damaged line in the log: %q", l)
		}
	}
	wantOut(t, u.MustBox(t, "inspect", "--format", "{{.State.Status}}", name), "running")

	// A new container cannot be made; that fails cleanly.
	r = u.Box(t, "run", "-d", "--name", "another", "busybox", "true")
	wantCode(t, r, 125)
	wantOneLineError(t, r, "no space left on device")
	if out := u.MustBox(t, "ps", "-a", "--format", "{{.Names}}").Stdout; out != name+"\n" {
		t.Fatalf("the failed run left something: %q", out)
	}

	start := time.Now()
	wantOut(t, u.MustBox(t, "stop", name), name)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stop took %s", d)
	}
	r = u.MustBox(t, "ps", "-a", "--format", "{{.Status}}")
	if !strings.HasPrefix(r.Stdout, "Exited (7) ") {
		t.Fatalf("the exit code should be recorded on the full disk: %s", r)
	}
	u.MustBox(t, "rm", name)
	if free := freeBytes(t, u.StoreRoot); free < 900<<10 {
		t.Fatalf("rm freed only up to %d bytes", free)
	}
	if out := u.MustBox(t, "ps", "-a", "-q").Stdout; out != "" {
		t.Fatalf("rm left %q", out)
	}
	// Space is back: a container runs again.
	wantOut(t, u.MustBox(t, "run", "--rm", "busybox", "echo", "ok"), "ok")
}
