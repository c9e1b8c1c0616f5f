package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAttachTTY(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "attach-tty-" + u.Mode
		u.MustBox(t, "run", "-dit", "--name", name, "busybox", "sh")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		// Typing reaches the shell; ctrl-p ctrl-q leaves it running.
		s := startOnPty(t, u, "attach", name)
		s.write(t, "echo first-$((1+1))\n")
		s.waitFor(t, "first-2")
		s.write(t, "\x10\x11")
		if code := s.exit(t); code != 0 {
			t.Fatalf("detaching should exit 0, got %d:\n%q", code, s.text())
		}
		wantOut(t, u.MustBox(t, "ps", "--format", "{{.State}}", "--filter", "name="+name), "running")

		// Other keys with --detach-keys; a lone ctrl-p passes through then.
		s = startOnPty(t, u, "attach", "--detach-keys", "ctrl-a,x", name)
		s.write(t, "echo second-$((2+2))\n")
		s.waitFor(t, "second-4")
		s.write(t, "\x01x")
		if code := s.exit(t); code != 0 {
			t.Fatalf("detaching with ctrl-a,x should exit 0, got %d:\n%q", code, s.text())
		}

		// The shell's exit ends the attachment with its code.
		s = startOnPty(t, u, "attach", name)
		s.write(t, "echo third\n")
		s.waitFor(t, "third")
		s.write(t, "exit 4\n")
		if code := s.exit(t); code != 4 {
			t.Fatalf("attach should exit with the container's code 4, got %d:\n%q", code, s.text())
		}
		wantOut(t, u.MustBox(t, "ps", "-a", "--format", "{{.State}}", "--filter", "name="+name), "exited")

		r := u.Box(t, "attach", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "You cannot attach to a stopped container, start it first")
		r = u.Box(t, "attach", "--detach-keys", "ctrl-7", name)
		wantCode(t, r, 125)
		wantOneLineError(t, r, "invalid detach keys")
	})
}

func TestAttachStreams(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// Without a terminal: stdout and stderr arrive apart, stdin goes in.
		name := "attach-streams-" + u.Mode
		u.MustBox(t, "run", "-di", "--name", name, "busybox", "sh", "-c",
			`read line; echo "got $line"; echo "to stderr" >&2; exit 6`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		r := u.BoxWith(t, RunOpts{Stdin: "hello\n", Timeout: 30 * time.Second}, "attach", name)
		if r.Code != 6 || r.Stdout != "got hello\n" || r.Stderr != "to stderr\n" {
			t.Fatalf("attach with input: %s", r)
		}
		// What attach showed is in the log as well.
		wantOut(t, u.MustBox(t, "logs", name), "got hello")

		// Two clients at once both see the output.
		name2 := "attach-two-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name2, "busybox", "sh", "-c",
			`trap "echo ping" USR1; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo both; exit 0`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name2) })
		var outs [2]syncBuffer
		var waits [2]func() error
		for i := range outs {
			cmd := u.BoxCmd("attach", "--no-stdin", name2)
			cmd.Stdout = &outs[i]
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waits[i] = cmd.Wait
		}
		// A client is connected once it shows output: USR1 makes the container print
		// "ping", sent again until both clients have shown one.
		waitFor(t, "both attach clients to connect", 20*time.Second, func() (bool, string) {
			u.MustBox(t, "kill", "-s", "USR1", name2)
			ok := pollUntil(time.Second, func() bool {
				return strings.Contains(outs[0].String(), "ping\n") && strings.Contains(outs[1].String(), "ping\n")
			})
			return ok, fmt.Sprintf("client outputs %q and %q", outs[0].String(), outs[1].String())
		})
		u.MustBox(t, "exec", name2, "touch", "/tmp/go")
		for i, wait := range waits {
			if err := wait(); err != nil || trimLeadingLines(outs[i].String(), "ping") != "both\n" {
				t.Fatalf("attached client %d: %v, output %q", i, err, outs[i].String())
			}
		}
	})
}
