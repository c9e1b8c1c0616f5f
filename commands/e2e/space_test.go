package e2e

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallStore mounts a tmpfs of size bytes, owned by u, and returns u with
// its store there: rootful through --root and --runroot, rootless through
// XDG_DATA_HOME (the run state stays in XDG_RUNTIME_DIR, off the disk).
// The tmpfs goes at the end of the test with whatever is on it.
func smallStore(t *testing.T, u *User, size int64) *User {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "small-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("size=%d,mode=0700,uid=%d,gid=%d", size, u.UID, u.GID)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Fatalf("mount a tmpfs for a small store: %v", err)
	}
	fu := *u
	if u.StoreRoot != "" {
		fu.StoreRoot, fu.StoreRunRoot = filepath.Join(dir, "root"), filepath.Join(dir, "run")
	} else {
		fu.DataDir = dir
	}
	t.Cleanup(func() {
		for _, id := range outLines(fu.Box(t, "ps", "-a", "-q").Stdout) {
			fu.Box(t, "rm", "-f", id)
		}
		unmountUnder(dir)
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the small store: %v", err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return &fu
}

// storeDir is the directory u's store lives in.
func (u *User) storeDir() string {
	if u.StoreRoot != "" {
		return u.StoreRoot
	}
	return filepath.Join(u.DataDir, "box", "storage")
}

// fill runs a container that writes 50 MB to a 20 MB store, then checks
// the disk is full.
func fill(t *testing.T, u *User, name string) {
	t.Helper()
	r := u.Box(t, "run", "--name", name, "busybox", "sh", "-c",
		"dd if=/dev/zero of=/f bs=1M count=50; dd if=/dev/zero of=/g bs=4k count=1000")
	if r.Code == 0 {
		t.Fatalf("writing 50 MB to a 20 MB store should fail: %s", r)
	}
	if free := freeBytes(t, u.storeDir()); free > 64<<10 {
		t.Fatalf("the store's disk still has %d bytes free", free)
	}
}

// TestDiskFullDeletesFree fills a small store with a container's file,
// then each way of deleting it works and gives the space back.
func TestDiskFullDeletesFree(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u = smallStore(t, u, 20<<20)
		u.MustBox(t, "pull", "-q", "busybox")
		for _, verb := range [][]string{
			{"rm", "fill"},
			{"rm", "-f", "fill"},
			{"container", "prune", "-f"},
			{"system", "prune", "-f"},
		} {
			fill(t, u, "fill")
			r := u.Box(t, verb...)
			if r.Code != 0 {
				t.Fatalf("box %s on a full disk: %s", strings.Join(verb, " "), r)
			}
			if free := freeBytes(t, u.storeDir()); free < 10<<20 {
				t.Fatalf("box %s freed only up to %d bytes", strings.Join(verb, " "), free)
			}
			if out := u.MustBox(t, "ps", "-a", "-q").Stdout; out != "" {
				t.Fatalf("box %s left %q", strings.Join(verb, " "), out)
			}
		}
		// rmi -f of the image a full container uses, then the container.
		fill(t, u, "fill")
		u.MustBox(t, "rmi", "-f", "busybox")
		u.MustBox(t, "rm", "fill")
		if free := freeBytes(t, u.storeDir()); free < 15<<20 {
			t.Fatalf("rmi -f and rm freed only up to %d bytes", free)
		}
		// And reset, which says it did its job.
		u.MustBox(t, "pull", "-q", "busybox")
		fill(t, u, "fill")
		u.MustBox(t, "system", "reset", "-f")
		if out := u.MustBox(t, "images", "-q").Stdout; out != "" {
			t.Fatalf("reset left images: %q", out)
		}
	})
}

// TestRunKilledEarlyLeavesNoHalfContainer kills `run -d` at random
// points of its first 100 ms: whatever it leaves, every container `ps -a`
// shows can be inspected, started and removed, and the store keeps no
// container that `ps -a` does not show.
func TestRunKilledEarlyLeavesNoHalfContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		for i := 0; i < 20; i++ {
			cmd := u.BoxCmd("run", "-d", "busybox", "sleep", "1000")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The kill point, not a wait for anything: 0 to 100 ms in.
			time.Sleep(time.Duration(rand.Intn(100)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
		ids := outLines(u.MustBox(t, "ps", "-a", "-q", "--no-trunc").Stdout)
		store := filepath.Join(u.storeDir(), "overlay-containers")
		entries, err := os.ReadDir(store)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		var kept []string
		for _, e := range entries {
			if e.IsDir() {
				kept = append(kept, e.Name())
			}
		}
		if len(kept) != len(ids) {
			t.Fatalf("ps -a shows %d containers, the store holds %d: %v vs %v", len(ids), len(kept), ids, kept)
		}
		for _, id := range ids {
			u.MustBox(t, "inspect", "--format", "{{.State.Status}}", id)
			if st := strings.TrimSpace(u.MustBox(t, "inspect", "--format", "{{.State.Status}}", id).Stdout); st == "created" {
				u.MustBox(t, "start", id)
			}
			u.MustBox(t, "rm", "-f", id)
		}
		if out := u.MustBox(t, "ps", "-a", "-q").Stdout; out != "" {
			t.Fatalf("rm -f left %q", out)
		}
	})
}
