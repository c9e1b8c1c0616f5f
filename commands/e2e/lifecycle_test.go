package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// startScript runs `box run --name NAME busybox sh -c SCRIPT` in the
// foreground and waits until ps lists it as running.
func startScript(t *testing.T, u *User, name, script string) *fgRun {
	t.Helper()
	cmd := u.BoxCmd("run", "--name", name, "busybox", "sh", "-c", script)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := u.MustBox(t, "ps", "-q", "--filter", "name="+name, "--filter", "status=running")
		if strings.TrimSpace(r.Stdout) != "" {
			return &fgRun{cmd: cmd, out: &out}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %s", name, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStopKillWait(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// stop sends SIGTERM; a container that handles it ends at once.
		name := "polite-" + u.Mode
		fg := startScript(t, u, name, `trap "exit 5" TERM; while :; do sleep 0.1; done`)
		start := time.Now()
		wantOut(t, u.MustBox(t, "stop", name), name)
		if code := fg.wait(t); code != 5 {
			t.Fatalf("the stopped container's run exited %d, want 5: %s", code, fg.out)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stop of a container that handles SIGTERM took %s", d)
		}
		wantOut(t, u.MustBox(t, "wait", name), "5")
		wantOut(t, u.MustBox(t, "stop", name), name) // already stopped: no error, as Docker
		r := u.Box(t, "kill", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "is not running")

		// A container that ignores SIGTERM is killed after -t seconds.
		name = "stubborn-" + u.Mode
		fg = startScript(t, u, name, `trap "" TERM; while :; do sleep 0.1; done`)
		start = time.Now()
		u.MustBox(t, "stop", "-t", "1", name)
		d := time.Since(start)
		if code := fg.wait(t); code != 137 {
			t.Fatalf("stop -t 1 of a container ignoring SIGTERM: exit %d: %s", code, fg.out)
		}
		if d < time.Second || d > 6*time.Second {
			t.Fatalf("stop -t 1 took %s, want about a second", d)
		}

		// kill -s delivers the signal; wait returns the exit code.
		name = "signalled-" + u.Mode
		fg = startScript(t, u, name, `trap "exit 12" USR1; while :; do sleep 0.1; done`)
		waited := make(chan Result, 1)
		go func() { waited <- u.Box(t, "wait", name) }()
		wantOut(t, u.MustBox(t, "kill", "-s", "USR1", name), name)
		if code := fg.wait(t); code != 12 {
			t.Fatalf("kill -s USR1: exit %d", code)
		}
		select {
		case r := <-waited:
			wantOut(t, r, strconv.Itoa(12))
		case <-time.After(20 * time.Second):
			t.Fatal("box wait did not return when the container ended")
		}
		r = u.Box(t, "kill", "-s", "NOPE", name)
		wantCode(t, r, 125)
		r = u.Box(t, "stop", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")
	})
}
