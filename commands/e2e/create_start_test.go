package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestCreateStartRestart(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "created-" + u.Mode
		r := u.MustBox(t, "create", "--name", name, "busybox", "sh", "-c", `echo started; trap "exit 4" TERM; while :; do sleep 0.1; done`)
		if !fullID.MatchString(r.Stdout) {
			t.Fatalf("create should print the id: %s", r)
		}
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		wantOut(t, u.MustBox(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Status}}"), "Created")

		wantOut(t, u.MustBox(t, "start", name), name)
		wantOut(t, u.MustBox(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"), "running")
		waitForLog(t, u, name, "started\n")
		wantOut(t, u.MustBox(t, "start", name), name) // already running: nothing to do

		wantOut(t, u.MustBox(t, "restart", "-t", "5", name), name)
		wantOut(t, u.MustBox(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"), "running")
		waitForLog(t, u, name, "started\nstarted\n")
		u.MustBox(t, "stop", name)
		wantOut(t, u.MustBox(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.State}}"), "exited")

		// start -a runs it attached and exits with its code.
		other := "attached-" + u.Mode
		u.MustBox(t, "create", "--name", other, "busybox", "sh", "-c", "echo hello; exit 6")
		t.Cleanup(func() { u.Box(t, "rm", "-f", other) })
		r = u.Box(t, "start", "-a", other)
		wantCode(t, r, 6)
		wantOut(t, r, "hello")
		r = u.Box(t, "start", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")
	})
}

// waitForLog waits until the container's log is exactly want.
func waitForLog(t *testing.T, u *User, name, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := u.MustBox(t, "logs", name)
		if r.Stdout == want {
			return
		}
		if time.Now().After(deadline) || !strings.HasPrefix(want, r.Stdout) {
			t.Fatalf("logs of %s: want %q, got %q", name, want, r.Stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
