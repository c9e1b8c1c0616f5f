package monitor

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commEnv makes the test binary a child that names itself and exits.
const commEnv = "BOX_MONITOR_TEST_COMM"

// init, not TestMain: the name is the calling thread's, and only during
// init is the main goroutine sure to run on the main thread, whose name
// /proc/PID/stat shows.
func init() {
	if name := os.Getenv(commEnv); name != "" {
		p, err := unix.BytePtrFromString(name)
		if err != nil || unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0) != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
}

// zombie starts a child that names itself name and exits, and waits
// until it is a zombie of this process.
func zombie(t *testing.T, name string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), commEnv+"="+name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, state, got, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
		if ok && state == 'Z' && string(got) == name {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never became a zombie named %s (state %c, name %s)", pid, name, state, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReapStrays: the zombies a failed exec leaves are reaped; a stage-0,
// which libcontainer waits for itself, and any other child are not.
func TestReapStrays(t *testing.T) {
	child := zombie(t, "runc:[1:CHILD]")
	init := zombie(t, "runc:[2:INIT]")
	parent := zombie(t, "runc:[0:PARENT]")
	other := zombie(t, "sh")
	if n := reapStrays(); n != 2 {
		t.Errorf("reaped %d zombies, want 2", n)
	}
	for _, pid := range []int{child, init} {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("stray %d is still there", pid)
		}
	}
	for _, pid := range []int{parent, other} {
		var ws unix.WaitStatus
		if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err != nil || got != pid {
			t.Errorf("child %d was reaped by reapStrays: wait4 = %d, %v", pid, got, err)
		}
	}
}

func TestReadStat(t *testing.T) {
	pid, ppid, state, name, ok := readStat("/proc/self/stat")
	if !ok || pid != os.Getpid() || ppid != os.Getppid() || state == 0 || len(name) == 0 {
		t.Fatalf("readStat(/proc/self/stat) = %d %d %c %q %v", pid, ppid, state, name, ok)
	}
	path := t.TempDir() + "/stat"
	if err := os.WriteFile(path, []byte("42 (a) b (c)) S 7 42 42 0"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pid, ppid, state, name, ok := readStat(path); !ok || pid != 42 || ppid != 7 || state != 'S' || string(name) != "a) b (c)" {
		t.Fatalf("a name with parentheses: %d %d %c %q %v", pid, ppid, state, name, ok)
	}
}
