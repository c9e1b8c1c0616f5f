package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func tickCount(t *testing.T, u *User, name string) int {
	t.Helper()
	return strings.Count(u.MustBox(t, "logs", name).Stdout, "tick\n")
}

func TestPause(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "paused-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
			`trap "exit 4" TERM; while :; do echo tick; sleep 0.05; done`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		if u.Mode != "root" {
			// No cgroups for rootless containers on this cgroup v1 host.
			r := u.Box(t, "pause", name)
			wantCode(t, r, 1)
			wantOneLineError(t, r, "cannot pause container "+name, "cgroup v2")
			wantCode(t, u.Box(t, "container", "unpause", name), 1)
			wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.Status}}", name), "running")
			return
		}
		wantOut(t, u.MustBox(t, "pause", name), name)
		r := u.MustBox(t, "ps", "--format", "{{.State}} {{.Status}}", "--filter", "status=paused")
		if !strings.HasPrefix(r.Stdout, "paused Up ") || !strings.HasSuffix(r.Stdout, " (Paused)\n") {
			t.Fatalf("ps of a paused container: %s", r)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", name), "paused true true")
		// What proves the paused container had the time to print: a container running
		// the same loop, not paused, printed five ticks meanwhile through the same kind of
		// monitor and log.
		ref := "ticker-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", ref, "busybox", "sh", "-c", `while :; do echo tick; sleep 0.05; done`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", ref) })
		before := tickCount(t, u, name)
		refBefore := tickCount(t, u, ref)
		waitFor(t, "the unpaused container to tick five times", 20*time.Second, func() (bool, string) {
			n := tickCount(t, u, ref)
			return n >= refBefore+5, fmt.Sprintf("%d ticks, from %d", n, refBefore)
		})
		if after := tickCount(t, u, name); after != before {
			t.Fatalf("a paused container went on printing: %d then %d ticks", before, after)
		}
		r = u.Box(t, "pause", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "already paused")

		wantOut(t, u.MustBox(t, "container", "unpause", name), name)
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", name), "running false")
		before = tickCount(t, u, name)
		deadline := time.Now().Add(10 * time.Second)
		for tickCount(t, u, name) == before {
			if time.Now().After(deadline) {
				t.Fatal("the unpaused container did not go on")
			}
			time.Sleep(50 * time.Millisecond)
		}
		r = u.Box(t, "unpause", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "is not paused")

		// stop reaches a paused container at once: SIGTERM, then thawed.
		u.MustBox(t, "container", "pause", name)
		start := time.Now()
		u.MustBox(t, "stop", name)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stop of a paused container took %s", d)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name), "exited 4")
		r = u.Box(t, "pause", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "is not running")

		// kill and rm -f too.
		u.MustBox(t, "start", name)
		u.MustBox(t, "pause", name)
		u.MustBox(t, "kill", name)
		wantOut(t, u.MustBox(t, "wait", name), "137")
		u.MustBox(t, "start", name)
		u.MustBox(t, "pause", name)
		u.MustBox(t, "rm", "-f", name)
		wantOut(t, u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+name), "")
	})
}
