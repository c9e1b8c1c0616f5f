package usernet

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLockNotHeldByChild: a child that shares the lock's open file (as a
// child forked while the lock is held does, until it execs) does not keep
// the lock once its parent lets go, so another process takes it at once.
func TestLockNotHeldByChild(t *testing.T) {
	if dir := os.Getenv("BOX_TEST_LOCK_DIR"); dir != "" {
		unlock, err := Lock(dir)
		if err != nil {
			os.Exit(3)
		}
		unlock()
		os.Exit(0)
	}
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The lock's descriptor, left open across exec for the child.
	fd := -1
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l == filepath.Join(dir, LockFile) {
			fd, _ = strconv.Atoi(e.Name())
		}
	}
	if fd < 0 {
		t.Fatal("the lock file is not open")
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
	})
	unix.CloseOnExec(fd)
	unlock()

	other := exec.Command(os.Args[0], "-test.run=^TestLockNotHeldByChild$")
	other.Env = append(os.Environ(), "BOX_TEST_LOCK_DIR="+dir)
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- other.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("another process could not take the lock: %v", err)
		}
	case <-time.After(10 * time.Second):
		other.Process.Kill()
		<-done
		t.Fatal("another process still waits for the lock 10 s after its holder let go: the child holds it")
	}
}
