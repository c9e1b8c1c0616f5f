package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// healthView is what inspect says of a container's healthcheck.
type healthView struct {
	State struct {
		StartedAt time.Time
		Health    *struct {
			Status        string
			FailingStreak int
			Log           []struct {
				Start, End time.Time
				ExitCode   int
				Output     string
			}
		}
	}
	RestartCount int
	Config       struct {
		Healthcheck json.RawMessage
	}
}

// inspectHealth reads inspect's view of the container's health.
func inspectHealth(t *testing.T, box func(*testing.T, ...string) Result, name string) healthView {
	t.Helper()
	r := box(t, "inspect", name)
	var v []healthView
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect %s: %v\n%s", name, err, r)
	}
	return v[0]
}

// waitHealth polls inspect until the container's health status is want
// and ok (when given) holds of it, and returns what inspect said.
func waitHealth(t *testing.T, box func(*testing.T, ...string) Result, name, want string, ok func(healthView) bool) healthView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := inspectHealth(t, box, name)
		if h := v.State.Health; h != nil && h.Status == want && (ok == nil || ok(v)) {
			return v
		}
		if time.Now().After(deadline) {
			got, _ := json.Marshal(v.State.Health)
			t.Fatalf("%s never became %s; its health is %s", name, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// psStatus is ps's STATUS column for the named container.
func psStatus(t *testing.T, box func(*testing.T, ...string) Result, name string) string {
	t.Helper()
	for _, line := range strings.Split(box(t, "ps", "-a", "--format", "{{.Names}}\t{{.Status}}").Stdout, "\n") {
		if n, st, _ := strings.Cut(line, "\t"); n == name {
			return st
		}
	}
	t.Fatalf("ps -a does not list %s", name)
	return ""
}

// psHealth lists the names ps --filter health=status shows.
func psHealth(t *testing.T, box func(*testing.T, ...string) Result, status string) []string {
	t.Helper()
	out := strings.TrimSpace(box(t, "ps", "-a", "--filter", "health="+status, "--format", "{{.Names}}").Stdout)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestHealthcheck follows a check through starting, healthy and
// unhealthy as ps and inspect show them, across stop and start.
func TestHealthcheck(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "health-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-retries", "2", "busybox", "sleep", "300")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		// Starting until a check passes; the monitor records it before run returns.
		if st := psStatus(t, u.MustBox, name); !regexp.MustCompile(`^Up .+ \(health: starting\)$`).MatchString(st) {
			t.Fatalf("a new container's STATUS is %q, want Up ... (health: starting)", st)
		}
		if !contains(psHealth(t, u.MustBox, "starting"), name) {
			t.Fatal("ps --filter health=starting leaves the starting container out")
		}
		wantOut(t, u.MustBox(t, "inspect", "--format", "{{json .Config.Healthcheck}}", name),
			`{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":1000000000,"Retries":2}`)

		u.MustBox(t, "exec", name, "touch", "/tmp/ok")
		v := waitHealth(t, u.MustBox, name, "healthy", nil)
		if h := v.State.Health; h.FailingStreak != 0 || h.Log[len(h.Log)-1].ExitCode != 0 || h.Log[len(h.Log)-1].End.Before(h.Log[len(h.Log)-1].Start) {
			t.Fatalf("a healthy container's state: %+v", h)
		}
		if st := psStatus(t, u.MustBox, name); !regexp.MustCompile(`^Up .+ \(healthy\)$`).MatchString(st) {
			t.Fatalf("a healthy container's STATUS is %q, want Up ... (healthy)", st)
		}
		if !contains(psHealth(t, u.MustBox, "healthy"), name) || contains(psHealth(t, u.MustBox, "starting"), name) || contains(psHealth(t, u.MustBox, "none"), name) {
			t.Fatal("ps --filter health= does not follow the healthy container")
		}

		u.MustBox(t, "exec", name, "rm", "/tmp/ok")
		v = waitHealth(t, u.MustBox, name, "unhealthy", nil)
		if h := v.State.Health; h.FailingStreak < 2 || h.Log[len(h.Log)-1].ExitCode != 1 {
			t.Fatalf("an unhealthy container's state: %+v", h)
		}
		if st := psStatus(t, u.MustBox, name); !regexp.MustCompile(`^Up .+ \(unhealthy\)$`).MatchString(st) {
			t.Fatalf("an unhealthy container's STATUS is %q, want Up ... (unhealthy)", st)
		}
		if !contains(psHealth(t, u.MustBox, "unhealthy"), name) || contains(psHealth(t, u.MustBox, "healthy"), name) {
			t.Fatal("ps --filter health= does not follow the unhealthy container")
		}
		// Five results at most are kept.
		waitHealth(t, u.MustBox, name, "unhealthy", func(v healthView) bool { return v.State.Health.FailingStreak >= 6 })
		if n := len(inspectHealth(t, u.MustBox, name).State.Health.Log); n != 5 {
			t.Fatalf("the health log has %d results, want 5", n)
		}

		// Stopped, it keeps its last state as Docker does (unhealthy: no
		// check runs); started again, it is checked again from starting.
		u.MustBox(t, "exec", name, "touch", "/tmp/ok")
		waitHealth(t, u.MustBox, name, "healthy", nil)
		u.MustBox(t, "stop", "-t", "1", name)
		if h := inspectHealth(t, u.MustBox, name).State.Health; h == nil || h.Status != "unhealthy" || len(h.Log) == 0 {
			t.Fatalf("a stopped container's health is %+v, want unhealthy with its log", h)
		}
		if st := psStatus(t, u.MustBox, name); !strings.HasPrefix(st, "Exited (") || strings.Contains(st, "health") {
			t.Fatalf("a stopped container's STATUS is %q", st)
		}
		u.MustBox(t, "start", name)
		waitHealth(t, u.MustBox, name, "healthy", func(v healthView) bool {
			h := v.State.Health
			return h.Log[len(h.Log)-1].Start.After(v.State.StartedAt)
		})
	})
}

// TestHealthcheckTimeout: a check that hangs past --health-timeout is
// killed, with what it started, and counts as failed.
func TestHealthcheckTimeout(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "health-hang-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "--health-cmd", "sleep 101; echo woke", "--health-timeout", "1s",
			"--health-interval", "1s", "--health-retries", "1", "busybox", "sleep", "300")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		v := waitHealth(t, u.MustBox, name, "unhealthy", func(v healthView) bool { return v.State.Health.FailingStreak >= 3 })
		for _, r := range v.State.Health.Log {
			if r.ExitCode != -1 || r.Output != "Health check exceeded timeout (1s)" {
				t.Fatalf("a hung check's result: %+v", r)
			}
			if took := r.End.Sub(r.Start); took < time.Second || took > 10*time.Second {
				t.Fatalf("a hung check ran %v, want about its 1s timeout", took)
			}
		}
		// Three checks timed out; at most the one running now is left.
		if n := len(processesWithCmdline("sleep\x00101\x00")); n > 1 {
			t.Fatalf("%d 'sleep 101' processes are left from timed-out checks", n)
		}
	})
}

// processesWithCmdline lists the host's processes whose command line is cmdline.
func processesWithCmdline(cmdline string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && string(b) == cmdline {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestHealthcheckImage: an image's HEALTHCHECK, from box build, runs
// without flags; flags override it field by field; --no-healthcheck
// turns it off.
func TestHealthcheckImage(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD test -f /etc/passwd\n",
		})
		s.must(t, "build", "-t", "checked", ctx)
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", "checked"),
			`{"Test":["CMD-SHELL","test -f /etc/passwd"],"Interval":1000000000,"Retries":1}`)

		s.must(t, "run", "-d", "--name", "img", "checked", "sleep", "300")
		t.Cleanup(func() { s.box(t, "rm", "-f", "img") })
		waitHealth(t, s.must, "img", "healthy", nil)

		// --health-cmd replaces the image's test; its interval and retries stay.
		s.must(t, "run", "-d", "--name", "over", "--health-cmd", "exit 2", "checked", "sleep", "300")
		t.Cleanup(func() { s.box(t, "rm", "-f", "over") })
		wantOut(t, s.must(t, "inspect", "--format", "{{json .Config.Healthcheck}}", "over"),
			`{"Test":["CMD-SHELL","exit 2"],"Interval":1000000000,"Retries":1}`)
		v := waitHealth(t, s.must, "over", "unhealthy", nil)
		if h := v.State.Health; h.FailingStreak != 1 || h.Log[0].ExitCode != 2 {
			t.Fatalf("a check exiting 2: %+v", h)
		}

		s.must(t, "run", "-d", "--name", "off", "--no-healthcheck", "checked", "sleep", "300")
		t.Cleanup(func() { s.box(t, "rm", "-f", "off") })
		// Docker merges NONE like any test: the image's other fields stay.
		wantOut(t, s.must(t, "inspect", "--format", "{{json .Config.Healthcheck}}", "off"), `{"Test":["NONE"],"Interval":1000000000,"Retries":1}`)
		if st := psStatus(t, s.must, "off"); !regexp.MustCompile(`^Up [^(]+$`).MatchString(st) {
			t.Fatalf("without a healthcheck STATUS is %q", st)
		}
		if !contains(psHealth(t, s.must, "none"), "off") || contains(psHealth(t, s.must, "none"), "img") {
			t.Fatal("ps --filter health=none does not list just the container without a check")
		}
		if h := inspectHealth(t, s.must, "off").State.Health; h != nil {
			t.Fatalf("a container without a check has health %+v", h)
		}

		r := s.box(t, "run", "--rm", "--no-healthcheck", "--health-interval", "1s", "checked", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "--no-healthcheck conflicts with --health-* options")
		wantCode(t, s.box(t, "ps", "--filter", "health=sick"), 125)
	})
}

// TestHealthcheckForegroundAndRestart: a foreground run is checked by
// its own monitor, and a restarted container's check restarts with it.
func TestHealthcheckForegroundAndRestart(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		fg := "health-fg-" + u.Mode
		cmd := u.BoxCmd("run", "--rm", "--name", fg, "--health-cmd", "true", "--health-interval", "200ms", "busybox", "sleep", "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", fg)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
			}
		})
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(u.Box(t, "ps", "--format", "{{.Names}}").Stdout, fg) {
			if time.Now().After(deadline) {
				t.Fatal("the foreground container never showed in ps")
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitHealth(t, u.MustBox, fg, "healthy", nil)
		u.MustBox(t, "stop", "-t", "1", fg)

		rs := "health-restart-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", rs, "--restart", "always", "--health-cmd", "true", "--health-interval", "200ms",
			"busybox", "sh", "-c", "sleep 2; exit 1")
		t.Cleanup(func() { u.Box(t, "rm", "-f", rs) })
		waitHealth(t, u.MustBox, rs, "healthy", nil)
		waitHealth(t, u.MustBox, rs, "healthy", func(v healthView) bool {
			h := v.State.Health
			return v.RestartCount >= 1 && h.Log[len(h.Log)-1].Start.After(v.State.StartedAt)
		})
	})
}

// TestExecRacingExit: checks that start while a container's init ends
// must not keep it from ending. An exec that fails half-way leaves runc's
// helpers as zombies of the monitor; one that had entered the container's
// pid namespace holds the ending init until it is reaped, and a monitor
// that never reaps it waits for its container forever (about one in ten
// containers here, before the monitor reaped them).
func TestExecRacingExit(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		var names []string
		for i := range 10 {
			name := "exit-race-" + u.Mode + "-" + string(rune('a'+i))
			names = append(names, name)
			t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
			u.MustBox(t, "run", "-d", "--name", name, "--network", "none", "--health-cmd", "true", "--health-interval", "5ms",
				"busybox", "sh", "-c", "sleep 0.5; exit 3")
		}
		for _, name := range names {
			cmd := u.BoxCmd("wait", name)
			cmd.WaitDelay = time.Second
			out, err := runWithin(cmd, 20*time.Second)
			if err != nil || strings.TrimSpace(out) != "3" {
				st := u.Box(t, "inspect", "-f", "{{.State.Status}} {{.State.Pid}} {{json .State.Health}}", name).Stdout
				t.Fatalf("%s, checked every 5 ms, did not end with its init: wait said %q, %v; inspect: %s", name, out, err, st)
			}
		}
	})
}

// runWithin runs cmd and returns its output, killing its process group
// (BoxCmd gives it one) if it has not ended within d.
func runWithin(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(d, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	if !timer.Stop() {
		err = fmt.Errorf("still waiting after %s", d)
	}
	return out.String(), err
}
