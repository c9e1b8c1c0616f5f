package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFidelityAttachedRunLogs: as Docker's json-file driver, box logs the
// output of every container, attached or not: after a foreground run,
// after start -a and with a terminal, with --log-opt honoured and
// --log-driver none keeping nothing. What the caller sees is unchanged.
func TestFidelityAttachedRunLogs(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-logs-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		script := `echo out; echo err >&2; printf last`
		r := u.MustBox(t, "run", "--name", name, "busybox", "sh", "-c", script)
		if r.Stdout != "out\nlast" || withoutWarnings(r.Stderr) != "err\n" {
			t.Fatalf("the attached run's own output changed: %s", r)
		}
		r = u.MustBox(t, "logs", name)
		if r.Stdout != "out\nlast" || withoutWarnings(r.Stderr) != "err\n" {
			t.Fatalf("logs after an attached run: %s", r)
		}
		// logs -f of a finished container prints and ends.
		r = u.BoxWith(t, RunOpts{Timeout: 20 * time.Second}, "logs", "-f", name)
		if r.Code != 0 || r.Stdout != "out\nlast" {
			t.Fatalf("logs -f of an exited container: %s", r)
		}

		// start -a logs too, after what the first run logged.
		r = u.MustBox(t, "start", "-a", name)
		if r.Stdout != "out\nlast" || withoutWarnings(r.Stderr) != "err\n" {
			t.Fatalf("start -a output: %s", r)
		}
		r = u.MustBox(t, "logs", name)
		if r.Stdout != "out\nlastout\nlast" || withoutWarnings(r.Stderr) != "err\nerr\n" {
			t.Fatalf("logs after start -a: %s", r)
		}

		// Rotation options hold for attached runs; the caller still gets
		// every line, the last ones included.
		rotated := "fid-rotated-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", rotated) })
		r = u.MustBox(t, "run", "--name", rotated, "--log-opt", "max-size=2k", "busybox", "sh", "-c",
			`i=0; while [ $i -lt 600 ]; do echo "line $i"; i=$((i+1)); done`)
		wantSequence(t, r.Stdout, 0, 599)
		r = u.MustBox(t, "logs", rotated)
		first := firstLine(t, r.Stdout)
		wantSequence(t, r.Stdout, first, 599)
		if first == 0 || len(r.Stdout) > 3000 {
			t.Fatalf("max-size=2k with one file kept lines %d to 599 (%d bytes)", first, len(r.Stdout))
		}

		// --log-driver none keeps nothing, attached as detached.
		unlogged := "fid-unlogged-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", unlogged) })
		wantOut(t, u.MustBox(t, "run", "--name", unlogged, "--log-driver", "none", "busybox", "echo", "quiet"), "quiet")
		r = u.Box(t, "logs", unlogged)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "configured logging driver does not support reading")

		// With a terminal the log holds the terminal's output, as stdout.
		tty := "fid-tty-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", tty) })
		s := startOnPty(t, u, "run", "-it", "--name", tty, "busybox", "sh", "-c", "echo tty-$((6*7))")
		s.waitFor(t, "tty-42")
		if code := s.exit(t); code != 0 {
			t.Fatalf("run -it exited %d:\n%q", code, s.text())
		}
		r = u.MustBox(t, "logs", tty)
		if !strings.Contains(r.Stdout, "tty-42") || withoutWarnings(r.Stderr) != "" {
			t.Fatalf("logs of a run -it: %s", r)
		}
	})
}

// withoutWarnings drops box's own warnings (a user without a subordinate
// range gets one) from a command's stderr.
func withoutWarnings(stderr string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(l, "box: warning:") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestFidelityFollowAttachedRun: logs -f follows a container that runs in
// another box's foreground, and ends when it does.
func TestFidelityFollowAttachedRun(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-follow-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		run := u.BoxCmd("run", "--name", name, "busybox", "sh", "-c",
			`echo one; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo two`)
		var runOut strings.Builder
		run.Stdout = &runOut
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		runDone := make(chan error, 1)
		go func() { runDone <- run.Wait() }()
		t.Cleanup(func() {
			_ = run.Process.Kill()
			<-runDone
		})
		for deadline := time.Now().Add(30 * time.Second); u.Box(t, "logs", name).Stdout != "one\n"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the attached run's first line never reached its log")
			}
		}
		follow := u.BoxCmd("logs", "-f", name)
		var followed strings.Builder
		follow.Stdout = &followed
		if err := follow.Start(); err != nil {
			t.Fatal(err)
		}
		followDone := make(chan error, 1)
		go func() { followDone <- follow.Wait() }()
		t.Cleanup(func() {
			_ = follow.Process.Kill()
			<-followDone
		})
		u.MustBox(t, "exec", name, "touch", "/tmp/go")
		for _, w := range []struct {
			what string
			done chan error
		}{{"run", runDone}, {"logs -f", followDone}} {
			select {
			case err := <-w.done:
				w.done <- err // for the cleanup
				if err != nil {
					t.Fatalf("%s: %v", w.what, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s did not end with the container", w.what)
			}
		}
		if runOut.String() != "one\ntwo\n" || followed.String() != "one\ntwo\n" {
			t.Fatalf("run printed %q, logs -f %q", runOut.String(), followed.String())
		}
	})
}

// TestFidelityFollowUntil: logs -f --until T ends the stream at T, as
// Docker's follow does, though the container goes on.
func TestFidelityFollowUntil(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-until-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "while true; do echo tick; sleep 0.1; done")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		until := time.Now().Add(2 * time.Second)
		r := u.BoxWith(t, RunOpts{Timeout: 20 * time.Second}, "logs", "-f", "-t", "--until", until.UTC().Format(time.RFC3339Nano), name)
		if r.Code != 0 || !strings.Contains(r.Stdout, "tick") {
			t.Fatalf("logs -f --until: %s", r)
		}
		for _, line := range outLines(r.Stdout) {
			stamp, _, _ := strings.Cut(line, " ")
			if ts, err := time.Parse(time.RFC3339Nano, stamp); err != nil || ts.After(until) {
				t.Fatalf("logs -f --until %s printed %q", until.UTC().Format(time.RFC3339Nano), line)
			}
		}
		wantOut(t, u.MustBox(t, "ps", "--format", "{{.State}}", "--filter", "name="+name), "running")
	})
}

// TestFidelityMissingCommand: Docker's create takes a command that does
// not exist; start fails (exit 1, attached or not), leaving the container
// created with exit code 127 and the reason. Run and exec say what runc
// says: a path "stat PATH: no such file or directory", a bare name
// "executable file not found in $PATH".
func TestFidelityMissingCommand(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		missing := `exec: "/no/such/command": stat /no/such/command: no such file or directory`
		name := "fid-nocmd-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		id := strings.TrimSpace(u.MustBox(t, "create", "--name", name, "busybox", "/no/such/command").Stdout)
		if len(id) != 64 {
			t.Fatalf("create printed %q, want the id", id)
		}
		status := func() string {
			return u.MustBox(t, "ps", "-a", "--format", "{{.Status}}", "--filter", "name="+name).Stdout
		}
		if s := status(); s != "Created\n" {
			t.Fatalf("after create: %q", s)
		}
		for _, start := range [][]string{{"start", name}, {"start", "-a", name}} {
			r := u.Box(t, start...)
			wantCode(t, r, 1)
			if !strings.Contains(r.Stderr, missing) {
				t.Fatalf("box %s: %s", strings.Join(start, " "), r)
			}
			if s := status(); s != "Created\n" {
				t.Fatalf("after a failed %s: %q", strings.Join(start, " "), s)
			}
			r = u.MustBox(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", name)
			if !strings.HasPrefix(r.Stdout, "created 127 ") || !strings.Contains(r.Stdout, missing) {
				t.Fatalf("inspect after a failed start: %s", r)
			}
		}
		// Not executable: 126 and permission denied, recorded the same way.
		denied := "fid-denied-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", denied) })
		u.MustBox(t, "create", "--name", denied, "busybox", "/etc/passwd")
		wantCode(t, u.Box(t, "start", denied), 1)
		wantOut(t, u.MustBox(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", denied), "created 126")

		// A --rm container goes when its start fails, as Docker's AutoRemove.
		gone := "fid-rm-" + u.Mode
		u.MustBox(t, "create", "--rm", "--name", gone, "busybox", "no-such-command")
		r := u.Box(t, "start", gone)
		wantCode(t, r, 1)
		if !strings.Contains(r.Stderr, `exec: "no-such-command": executable file not found in $PATH`) {
			t.Fatalf("start of a bare missing name: %s", r)
		}
		if out := u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+gone).Stdout; out != "" {
			t.Fatalf("a --rm container outlived its failed start: %q", out)
		}

		// run and exec: 127 and Docker's words.
		r = u.Box(t, "run", "--rm", "busybox", "/no/such/command")
		wantCode(t, r, 127)
		wantOneLineError(t, r, missing)
		running := "fid-exec-" + u.Mode
		marker := fmt.Sprintf("%d", time.Now().UnixNano()%100000+300000)
		u.MustBox(t, "run", "-d", "--name", running, "busybox", "sleep", marker)
		t.Cleanup(func() { u.Box(t, "rm", "-f", running) })
		r = u.Box(t, "exec", running, "/no/such/command")
		wantCode(t, r, 127)
		wantOneLineError(t, r, missing)
		r = u.Box(t, "exec", running, "/etc")
		wantCode(t, r, 126)
		wantOneLineError(t, r, `exec: "/etc": is a directory`)
	})
}
