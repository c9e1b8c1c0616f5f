package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}\n$`)

// monitorsOf lists the pids of box processes serving container id.
func monitorsOf(id string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "__monitor") && strings.Contains(string(b), id) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func TestDetachedRunAndLogs(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "detached-" + u.Mode
		start := time.Now()
		r := u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
			`echo out1; echo err1 >&2; echo out2; trap "echo bye; exit 3" TERM; trap "echo ping" USR1; while :; do sleep 0.1; done`)
		if !fullID.MatchString(r.Stdout) {
			t.Fatalf("run -d should print the full id alone: %s", r)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("run -d took %s", d)
		}
		id := strings.TrimSpace(r.Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		wantOut(t, u.MustBox(t, "ps", "-q", "--no-trunc", "--filter", "name="+name), id)
		if len(monitorsOf(id)) != 1 {
			t.Fatalf("want one monitor for %s, have %v", id, monitorsOf(id))
		}

		// Output is logged with stdout and stderr kept apart.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(u.MustBox(t, "logs", name).Stdout, "out2") {
			if time.Now().After(deadline) {
				t.Fatalf("logs never showed the output")
			}
			time.Sleep(50 * time.Millisecond)
		}
		r = u.MustBox(t, "logs", name)
		if r.Stdout != "out1\nout2\n" || r.Stderr != "err1\n" {
			t.Fatalf("logs: %s", r)
		}
		// The last line logged is out2 or err1 (the two streams race).
		r = u.MustBox(t, "logs", "--tail", "1", name)
		if last := r.Stdout + r.Stderr; last != "out2\n" && last != "err1\n" {
			t.Fatalf("logs --tail 1: %s", r)
		}
		r = u.MustBox(t, "logs", "-t", name)
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out1\n\S+ out2\n$`).MatchString(r.Stdout) {
			t.Fatalf("logs -t: %q", r.Stdout)
		}

		// logs -f follows until the container stops.
		follow := u.BoxCmd("logs", "-f", "--tail", "0", name)
		var out syncBuffer
		follow.Stdout = &out
		if err := follow.Start(); err != nil {
			t.Fatal(err)
		}
		// logs -f --tail 0 shows only what is logged once it follows: USR1 makes the
		// container log "ping", sent again until logs -f prints one, so that the stop's
		// last words come while it surely follows.
		waitFor(t, "logs -f to follow the log", 20*time.Second, func() (bool, string) {
			u.MustBox(t, "kill", "-s", "USR1", name)
			ok := pollUntil(time.Second, func() bool { return strings.Contains(out.String(), "ping\n") })
			return ok, fmt.Sprintf("logs -f printed %q", out.String())
		})
		wantOut(t, u.MustBox(t, "stop", name), name)
		done := make(chan error, 1)
		go func() { done <- follow.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = follow.Process.Kill()
			t.Fatal("logs -f did not end when the container stopped")
		}
		if got := trimLeadingLines(out.String(), "ping"); got != "bye\n" {
			t.Fatalf("logs -f printed %q, want the container's last words", out.String())
		}
		r = u.MustBox(t, "ps", "-a", "--format", "{{.Status}}", "--filter", "name="+name)
		if !strings.HasPrefix(r.Stdout, "Exited (3) ") {
			t.Fatalf("after stop: %s", r)
		}
		if m := monitorsOf(id); len(m) != 0 {
			t.Fatalf("the monitor outlived its container: %v", m)
		}
		u.MustBox(t, "rm", name)
	})
}

func TestDetachedRemoveAndErrors(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "gone-" + u.Mode
		r := u.MustBox(t, "run", "-d", "--rm", "--name", name, "busybox", "true")
		id := strings.TrimSpace(r.Stdout)
		deadline := time.Now().Add(10 * time.Second)
		for u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+name).Stdout != "" || len(monitorsOf(id)) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("run -d --rm left the container or its monitor")
			}
			time.Sleep(50 * time.Millisecond)
		}

		r = u.Box(t, "run", "-d", "--name", "nocmd-"+u.Mode, "busybox", "no-such-command")
		wantCode(t, r, 127)
		if r.Stdout != "" || u.MustBox(t, "ps", "-a", "-q", "--filter", "name=nocmd-"+u.Mode).Stdout != "" {
			t.Fatalf("a failed run -d left something: %s", r)
		}
	})
}

// TestResetEndsContainers: system reset ends running containers and their monitors before it
// empties the store, so nothing is left running that box no longer knows about.
func TestResetEndsContainers(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		marker := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
		id := strings.TrimSpace(u.MustBox(t, "run", "-d", "busybox", "sleep", marker).Stdout)
		pid := waitForProcess(t, "sleep "+marker, 30*time.Second)
		u.MustBox(t, "system", "reset", "-f")
		waitMonitorsGone(t, id)
		if err := syscall.Kill(pid, 0); err == nil {
			t.Fatalf("the container's process %d outlived system reset", pid)
		}
		wantOut(t, u.MustBox(t, "ps", "-aq"), "")
		u.MustBox(t, "pull", "-q", "busybox") // as the other tests expect the store
	})
}

// TestDetachedInitKilled: a detached container's init killed from outside is recorded as
// killed (137) by its monitor, which then leaves; under --restart always it comes back, as it
// was not stopped through box.
func TestDetachedInitKilled(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		marker := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
		name := "killed-outside-" + u.Mode
		id := strings.TrimSpace(u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", marker).Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		pid := waitForProcess(t, "sleep "+marker, 30*time.Second)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitMonitorsGone(t, id)
		r := u.MustBox(t, "ps", "-a", "--format", "{{.Status}}", "--filter", "name="+name)
		if !strings.HasPrefix(r.Stdout, "Exited (137) ") {
			t.Fatalf("a container killed from outside: %s", r)
		}

		again := "killed-restarts-" + u.Mode
		marker = fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
		u.MustBox(t, "run", "-d", "--restart", "always", "--name", again, "busybox", "sleep", marker)
		t.Cleanup(func() { u.Box(t, "rm", "-f", again) })
		pid = waitForProcess(t, "sleep "+marker, 30*time.Second)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := u.MustBox(t, "inspect", "--format", "{{.RestartCount}} {{.State.Status}}", again)
			if strings.TrimSpace(r.Stdout) == "1 running" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("--restart always should bring a container killed from outside back: %s", r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
