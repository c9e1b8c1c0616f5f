package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPsAndRm(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "exited-" + u.Mode
		wantCode(t, u.Box(t, "run", "--name", name, "busybox", "sh", "-c", "exit 3"), 3)
		if r := u.MustBox(t, "ps"); strings.Contains(r.Stdout, name) {
			t.Fatalf("ps without -a lists an exited container: %s", r)
		}
		r := u.MustBox(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Names}}|{{.Status}}|{{.Command}}|{{.Image}}")
		if !strings.HasPrefix(r.Stdout, name+"|Exited (3) ") || !strings.Contains(r.Stdout, `|"sh -c exit 3"|busybox`) {
			t.Fatalf("ps -a row: %s", r)
		}
		id := strings.TrimSpace(u.MustBox(t, "ps", "-a", "-q", "--no-trunc", "--filter", "name="+name).Stdout)
		if len(id) != 64 {
			t.Fatalf("ps -q --no-trunc: %q", id)
		}
		wantOut(t, u.MustBox(t, "ps", "-a", "-q", "--filter", "exited=3", "--filter", "id="+id[:8]), id[:12])
		wantOut(t, u.MustBox(t, "ps", "-a", "-q", "--filter", "status=running", "--filter", "name="+name), "")
		r = u.MustBox(t, "container", "ls", "-a", "--format", "json", "--filter", "name="+name)
		var row map[string]any // Platform is an object, as Docker's
		if err := json.Unmarshal([]byte(r.Stdout), &row); err != nil || row["Names"] != name || row["State"] != "exited" {
			t.Fatalf("ps --format json: %v %s", err, r)
		}
		wantOut(t, u.MustBox(t, "ps", "-l", "-q"), id[:12])
		r = u.Box(t, "ps", "--filter", "colour=red")
		wantCode(t, r, 125)

		// The image a container was made from stays until the container goes.
		r = u.Box(t, "rmi", "busybox")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "conflict", "is using its referenced image")

		r = u.Box(t, "rm", id[:10], "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOut(t, r, id[:10])
		wantOneLineError(t, r, "No such container: nosuch-"+u.Mode)
		if r := u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+name); r.Stdout != "" {
			t.Fatalf("rm left the container: %s", r)
		}
		if r := u.Box(t, "rm", name); r.Code != 1 {
			t.Fatalf("rm of a removed container: %s", r)
		}
	})
}

// fgRun is a `box run` in the foreground, started by a test.
type fgRun struct {
	cmd *exec.Cmd
	out *strings.Builder
}

// wait waits for box and returns its exit code (128+N for signal N).
func (f *fgRun) wait(t *testing.T) int {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("box run did not end: %s", f.out)
	}
	if ws, ok := f.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return f.cmd.ProcessState.ExitCode()
}

// startForeground starts `box run` with a unique sleep and waits for the
// container's process to run; it returns the box process and that pid.
func startForeground(t *testing.T, u *User, args ...string) (*fgRun, int) {
	t.Helper()
	marker := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
	cmd := u.BoxCmd(append(append([]string{"run"}, args...), "busybox", "sleep", marker)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// An orphaned container keeps box's stdout open after box is gone.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The container's processes are in a session of their own: rm -f
		// ends them if the test did not.
		u.Box(t, "rm", "-f", args[len(args)-1])
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	return &fgRun{cmd: cmd, out: &out}, waitForProcess(t, "sleep "+marker, 30*time.Second)
}

func TestRmRunningContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "live-" + u.Mode
		fg, _ := startForeground(t, u, "--name", name)
		r := u.MustBox(t, "ps", "--format", "{{.Names}} {{.State}}", "--filter", "name="+name)
		if !strings.HasPrefix(r.Stdout, name+" running") {
			t.Fatalf("a running foreground container is not listed as running: %s", r)
		}
		r = u.Box(t, "rm", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "container is running", "force")
		wantOut(t, u.MustBox(t, "rm", "-f", name), name)
		if code := fg.wait(t); code != 137 {
			t.Fatalf("the foreground run of a force-removed container exited %d: %s", code, fg.out)
		}
		if r := u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+name); r.Stdout != "" {
			t.Fatalf("rm -f left the container: %s", r)
		}
	})
}

// TestMonitorKilled kills a container's monitor with SIGKILL, a foreground
// run's box and a detached container's monitor process (issue 17): the
// container dies with it rather than living on orphaned, ps shows it exited,
// start runs it again (libcontainer's leftover state released), exec and
// rm -f work, and a rootful container's cgroup goes.
func TestMonitorKilled(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "orphan-" + u.Mode
		fg, pid := startForeground(t, u, "--name", name)
		_ = syscall.Kill(fg.cmd.Process.Pid, syscall.SIGKILL)
		fg.wait(t)
		waitEnded(t, pid, "the container of a killed foreground run")
		wantMonitorDeathTruth(t, u, name)

		name2 := "orphan-d-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name2) })
		u.MustBox(t, "run", "-d", "--name", name2, "busybox", "sleep", "600")
		pid2 := inspectPid(t, u, name2)
		mon := parentOf(t, pid2)
		if err := syscall.Kill(mon, syscall.SIGKILL); err != nil {
			t.Fatalf("kill the monitor %d: %v", mon, err)
		}
		waitEnded(t, pid2, "the container of a killed detached monitor")
		wantMonitorDeathTruth(t, u, name2)
	})
}

// TestKilledAutoRemove: a --rm run or a build killed with its container
// leaves no container behind; the next listing removes what the killed
// process would have.
func TestKilledAutoRemove(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "rm-killed-" + u.Mode
		fg, pid := startForeground(t, u, "--rm", "--name", name)
		_ = syscall.Kill(fg.cmd.Process.Pid, syscall.SIGKILL)
		fg.wait(t)
		waitEnded(t, pid, "the container of a killed run --rm")
		if r := u.MustBox(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "name="+name); r.Stdout != "" {
			t.Fatalf("a killed run --rm left its container: %s", r)
		}

		marker := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep " + marker + "\n"})
		cmd := u.BoxCmd("build", "-t", "killed-build-"+u.Mode, ctx)
		cmd.WaitDelay = time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		step := waitForProcess(t, "sleep "+marker, 60*time.Second)
		work := filepath.Join(u.storeDir(), "work-tmp")
		if entries, _ := os.ReadDir(work); len(entries) != 2 {
			t.Fatalf("a running build has no locked working directory in %s: %v", work, entries)
		}
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		waitEnded(t, step, "the RUN step of a killed build")
		if r := u.MustBox(t, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"); strings.Contains(r.Stdout, marker) {
			t.Fatalf("a killed build left its RUN container: %s", r)
		}
		if entries, _ := os.ReadDir(work); len(entries) != 0 {
			t.Fatalf("the next box left the killed build's working directory: %v", entries)
		}
		if r := u.Box(t, "image", "inspect", "killed-build-"+u.Mode); r.Code == 0 {
			t.Fatalf("a killed build tagged its image: %s", r)
		}
	})
}

// wantMonitorDeathTruth checks every verb on a container whose monitor was
// killed, and removes it.
func wantMonitorDeathTruth(t *testing.T, u *User, name string) {
	t.Helper()
	r := u.MustBox(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "name="+name)
	if !strings.HasPrefix(r.Stdout, name+" Exited (255)") {
		t.Fatalf("a container whose monitor died: %s", r)
	}
	if r := u.Box(t, "exec", name, "true"); r.Code == 0 {
		t.Errorf("exec into a container whose monitor died succeeded: %s", r)
	}
	u.MustBox(t, "start", name)
	if r := u.MustBox(t, "inspect", "-f", "{{.State.Status}}", name); strings.TrimSpace(r.Stdout) != "running" {
		t.Fatalf("start after the monitor died: %s", r)
	}
	u.MustBox(t, "exec", name, "true")
	pid := inspectPid(t, u, name)
	id := strings.TrimSpace(u.MustBox(t, "ps", "-a", "-q", "--no-trunc", "--filter", "name="+name).Stdout)
	wantOut(t, u.MustBox(t, "rm", "-f", name), name)
	waitEnded(t, pid, "a container removed with rm -f")
	if u == Root {
		if _, err := os.Stat("/sys/fs/cgroup/pids/box/" + id); err == nil {
			t.Fatalf("rm -f left the cgroup of %s", id)
		}
	}
}

func inspectPid(t *testing.T, u *User, name string) int {
	t.Helper()
	out := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.State.Pid}}", name).Stdout)
	pid, err := strconv.Atoi(out)
	if err != nil || pid <= 0 {
		t.Fatalf("inspect %s: pid %q", name, out)
	}
	return pid
}

// parentOf is pid's parent, from /proc/PID/stat.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("/proc/%d/stat: %s", pid, b)
	}
	return ppid
}

// waitEnded waits until pid has ended: gone, or a zombie (this machine's
// PID 1 reaps orphans late). It fails with the process's state otherwise.
func waitEnded(t *testing.T, pid int, what string) {
	t.Helper()
	state := func() string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return ""
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] != "Z" {
			return s
		}
		return ""
	}
	deadline := time.Now().Add(10 * time.Second)
	for state() != "" {
		if time.Now().After(deadline) {
			t.Fatalf("%s: process %d still runs: %s", what, pid, state())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
