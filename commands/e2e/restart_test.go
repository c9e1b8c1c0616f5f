package e2e

import (
	"strings"
	"testing"
	"time"
)

// waitState waits until ps shows the container in state.
func waitState(t *testing.T, u *User, name, state string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := u.MustBox(t, "ps", "-a", "--format", "{{.State}}", "--filter", "name="+name)
		if strings.TrimSpace(r.Stdout) == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached state %s; it is %q", name, state, strings.TrimSpace(r.Stdout))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRestartPolicy(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// on-failure:2 runs a failing container exactly three times.
		name := "onfail-" + u.Mode
		id := strings.TrimSpace(u.MustBox(t, "run", "-d", "--restart", "on-failure:2", "--name", name, "busybox", "sh", "-c", "echo ran; exit 3").Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		waitState(t, u, name, "exited", 30*time.Second)
		if got := u.MustBox(t, "logs", name).Stdout; got != "ran\nran\nran\n" {
			t.Fatalf("on-failure:2 should run three times; the log shows %q", got)
		}
		r := u.MustBox(t, "inspect", "--format", "{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", name)
		wantOut(t, r, "2 3 on-failure:2")
		if m := monitorsOf(id); len(m) != 0 {
			t.Fatalf("the monitor should be gone after the last run, have %v", m)
		}

		// on-failure leaves a clean exit alone.
		clean := "onfail-clean-" + u.Mode
		id = strings.TrimSpace(u.MustBox(t, "run", "-d", "--restart", "on-failure", "--name", clean, "busybox", "echo", "once").Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", clean) })
		// Once the monitor has ended, nothing can run the container again.
		waitExitedForGood(t, u, clean, id, 30*time.Second)
		wantOut(t, u.MustBox(t, "logs", clean), "once")
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.RestartCount}} {{.State.ExitCode}}", clean), "0 0")

		// always restarts a clean exit too, until box stops it; stopped by
		// hand, it stays stopped.
		always := "always-" + u.Mode
		id = strings.TrimSpace(u.MustBox(t, "run", "-d", "--restart", "always", "--name", always, "busybox", "sh", "-c", "echo up; sleep 0.2").Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", always) })
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(u.MustBox(t, "logs", always).Stdout, "up") < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("--restart always never ran three times: %q", u.MustBox(t, "logs", always).Stdout)
			}
			time.Sleep(50 * time.Millisecond)
		}
		wantOut(t, u.MustBox(t, "stop", "-t", "1", always), always)
		waitState(t, u, always, "exited", 10*time.Second)
		before := u.MustBox(t, "logs", always).Stdout
		// The monitor applies the policy: once it has ended, with the container still
		// recorded as exited, the policy had its chance and did not restart it.
		waitExitedForGood(t, u, always, id, 10*time.Second)
		if after := u.MustBox(t, "logs", always).Stdout; after != before {
			t.Fatalf("a stopped --restart always container ran again: %q then %q", before, after)
		}
		// start brings the policy back; kill ends it again.
		wantOut(t, u.MustBox(t, "start", always), always)
		waitState(t, u, always, "running", 10*time.Second)
		u.MustBox(t, "kill", always)
		waitState(t, u, always, "exited", 10*time.Second)

		// A container that fails at once is seen restarting; rm -f ends it
		// and its monitor, plain rm refuses.
		flap := "flap-" + u.Mode
		id = strings.TrimSpace(u.MustBox(t, "run", "-d", "--restart", "always", "--name", flap, "busybox", "sh", "-c", "exit 1").Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", flap) })
		waitState(t, u, flap, "restarting", 30*time.Second)
		r = u.MustBox(t, "ps", "--format", "{{.Status}}", "--filter", "name="+flap)
		if !strings.HasPrefix(r.Stdout, "Restarting (1) ") {
			t.Fatalf("ps should show a restarting container as Docker does: %s", r)
		}
		r = u.Box(t, "rm", flap)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "container is restarting")
		wantOut(t, u.MustBox(t, "rm", "-f", flap), flap)
		waitMonitorsGone(t, id)

		// Bad input: nothing is created.
		bad := "bad-restart-" + u.Mode
		for _, args := range [][]string{
			{"-d", "--restart", "sometimes"},
			{"-d", "--restart", "on-failure:x"},
			{"-d", "--restart", "always", "--rm"},
			{"--restart", "always"}, // without -d
		} {
			r := u.Box(t, append(append([]string{"run"}, args...), "--name", bad, "busybox", "true")...)
			wantCode(t, r, 125)
			wantOneLineError(t, r, "restart")
			if out := u.MustBox(t, "ps", "-aq", "--filter", "name="+bad).Stdout; out != "" {
				t.Fatalf("a refused run left a container: %q", out)
			}
		}
	})
}

func waitMonitorsGone(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(monitorsOf(id)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("monitors of %s still run: %v", id, monitorsOf(id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
