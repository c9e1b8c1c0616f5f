package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
)

// ptySession is box running on a terminal the test holds: what box prints
// collects in screen, and write types on the keyboard.
type ptySession struct {
	cmd    *exec.Cmd
	master console.Console
	mu     sync.Mutex
	screen strings.Builder
	copied chan struct{}
}

func startOnPty(t *testing.T, u *User, args ...string) *ptySession {
	t.Helper()
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Fatal(err)
	}
	if err := master.Resize(console.WinSize{Height: 40, Width: 100}); err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := &ptySession{cmd: u.BoxCmd(args...), master: master, copied: make(chan struct{})}
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = slave, slave, slave
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		defer close(s.copied)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.screen.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		master.Close()
	})
	return s
}

func (s *ptySession) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.String()
}

func (s *ptySession) write(t *testing.T, keys string) {
	t.Helper()
	if _, err := s.master.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until the screen shows want.
func (s *ptySession) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.text(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows:\n%q", want, s.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits for box to end and returns its exit code.
func (s *ptySession) exit(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		// What box wrote last may still be in the terminal's buffer.
		select {
		case <-s.copied:
		case <-time.After(2 * time.Second):
		}
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("box did not end; the terminal shows:\n%q", s.text())
	}
	return -1
}

func TestExec(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "exec-" + u.Mode
		id := strings.TrimSpace(u.MustBox(t, "run", "-d", "--name", name, "-e", "FROM_RUN=yes", "busybox", "sleep", "600").Stdout)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		// Output and exit codes come back as from run, streams apart.
		r := u.Box(t, "exec", name, "sh", "-c", "echo out; echo err >&2; exit 3")
		if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" {
			t.Fatalf("exec with exit 3: %s", r)
		}
		// The container's environment, processes and files are the exec's.
		u.MustBox(t, "exec", name, "sh", "-c", "echo mark > /tmp/mark")
		r = u.MustBox(t, "exec", name, "sh", "-c", `echo "$FROM_RUN $(cat /tmp/mark) $(cat /proc/1/cmdline | tr '\0' ' ')"`)
		wantOut(t, r, "yes mark sleep 600")
		// By unique id prefix, with -e, --env-file and -w.
		envFile := filepath.Join(u.Home, "exec.env")
		if err := os.WriteFile(envFile, []byte("FROM_FILE=f\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r = u.MustBox(t, "exec", "-e", "A=1", "-e", "FROM_RUN=over", "--env-file", envFile, "-w", "/etc", id[:8], "sh", "-c", `echo "$A $FROM_RUN $FROM_FILE $(pwd)"`)
		wantOut(t, r, "1 over f /etc")
		// -i passes stdin on; without -i the process reads nothing.
		r = u.BoxWith(t, RunOpts{Stdin: "typed\n"}, "exec", "-i", name, "cat")
		wantOut(t, r, "typed")
		r = u.BoxWith(t, RunOpts{Stdin: "typed\n"}, "exec", name, "cat")
		if r.Code != 0 || r.Stdout != "" {
			t.Fatalf("exec without -i should not pass stdin: %s", r)
		}
		// -u: another user, by number and by name.
		if u.Mode != "norange" {
			wantOut(t, u.MustBox(t, "exec", "-u", "1000:1000", name, "id"), "uid=1000 gid=1000 groups=1000")
			wantOut(t, u.MustBox(t, "exec", "-u", "nobody", name, "id", "-un"), "nobody")
		} else {
			r = u.Box(t, "exec", "-u", "1000", name, "id")
			wantCode(t, r, 125)
			wantOneLineError(t, r, "not mapped", "usermod")
		}
		// --privileged gives every capability; a plain exec has Docker's set.
		plain := u.MustBox(t, "exec", name, "grep", "CapEff", "/proc/self/status").Stdout
		priv := u.MustBox(t, "exec", "--privileged", name, "grep", "CapEff", "/proc/self/status").Stdout
		if plain == priv || !strings.HasPrefix(plain, "CapEff:\t00000000a80425fb") {
			t.Fatalf("capabilities: plain %q, privileged %q", plain, priv)
		}

		// -d returns at once; the process goes on in the container.
		start := time.Now()
		r = u.MustBox(t, "exec", "-d", name, "sh", "-c", "sleep 1; echo done > /tmp/detached")
		if r.Stdout != "" || time.Since(start) > 900*time.Millisecond {
			t.Fatalf("exec -d should return at once and print nothing (took %s): %s", time.Since(start), r)
		}
		deadline := time.Now().Add(10 * time.Second)
		for u.Box(t, "exec", name, "cat", "/tmp/detached").Stdout != "done\n" {
			if time.Now().After(deadline) {
				t.Fatal("the detached exec never finished its work")
			}
			time.Sleep(100 * time.Millisecond)
		}

		// Commands that cannot run: 127 and 126, as for run.
		r = u.Box(t, "exec", name, "no-such-command")
		wantCode(t, r, 127)
		wantOneLineError(t, r, `"no-such-command"`, "not found")
		r = u.Box(t, "exec", name, "/etc/passwd")
		wantCode(t, r, 126)
		wantOneLineError(t, r, "permission denied")
		r = u.Box(t, "exec", "-w", "relative", name, "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "absolute path")
		r = u.Box(t, "exec", name)
		wantCode(t, r, 125)
		if !strings.HasPrefix(r.Stderr, `Error: "box exec" requires at least 2 arguments.`) {
			t.Fatalf("exec without a command: %s", r)
		}

		// A signal to `box exec` reaches the process.
		cmd := u.BoxCmd("exec", name, "sh", "-c", `trap "echo got TERM; exit 9" TERM; echo ready; while :; do sleep 0.1; done`)
		var out syncBuffer
		cmd.Stdout = &out
		// Should box die with the process still holding its stdout, fail in seconds,
		// not when the container ends.
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// "ready" comes after the trap is set: from then on TERM is the shell's to handle.
		waitFor(t, "the exec'd shell to say ready", 10*time.Second, func() (bool, string) {
			return strings.Contains(out.String(), "ready"), fmt.Sprintf("output %q", out.String())
		})
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 9 || out.String() != "ready\ngot TERM\n" {
			t.Fatalf("SIGTERM to exec: exit %d (%v), output %q", code, err, out.String())
		}

		// Not running, not there.
		u.MustBox(t, "stop", "-t", "0", name)
		r = u.Box(t, "exec", name, "true")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "container "+name+" is not running")
		r = u.Box(t, "exec", "no-such-container", "true")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container: no-such-container")
	})
}

// TestExecForeground: a container run in the foreground of one box takes
// exec from another.
func TestExecForeground(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "exec-fg-" + u.Mode
		startForeground(t, u, "--name", name)
		wantOut(t, u.MustBox(t, "exec", name, "echo", "from the side"), "from the side")
	})
}

func TestExecTTY(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "exec-tty-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", "600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		s := startOnPty(t, u, "exec", "-it", name, "sh")
		s.write(t, "tty; echo \"term=$TERM size=$(stty size)\"\n")
		s.waitFor(t, "size=40 100")
		s.write(t, "echo sum-$((40+2)); exit 7\n")
		if code := s.exit(t); code != 7 {
			t.Fatalf("exec -it exited %d, want 7; screen:\n%q", code, s.text())
		}
		screen := s.text()
		for _, want := range []string{"/dev/pts/", "term=xterm", "sum-42"} {
			if !strings.Contains(screen, want) {
				t.Fatalf("the terminal should show %q:\n%q", want, screen)
			}
		}

		// ctrl-p ctrl-q leaves the exec'd shell running in the container.
		s = startOnPty(t, u, "exec", "-it", name, "sh")
		s.write(t, "echo detach-$((3+4))\n")
		s.waitFor(t, "detach-7")
		s.write(t, "\x10\x11")
		if code := s.exit(t); code != 0 {
			t.Fatalf("detaching from exec -it should exit 0, got %d:\n%q", code, s.text())
		}
		ps := u.MustBox(t, "exec", name, "ps").Stdout
		if !regexp.MustCompile(`(?m) sh$`).MatchString(ps) {
			t.Fatalf("the detached shell should still run:\n%s", ps)
		}

		// -it without a terminal is refused.
		r := u.BoxIn(t, "x", "exec", "-it", name, "sh")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "the input device is not a TTY")
	})
}

// TestDetachedAlpine: the same verbs against an Alpine (musl) container.
func TestDetachedAlpine(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "alpine-d-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "alpine", "sh", "-c", "echo started; exec sleep 600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		wantOut(t, u.MustBox(t, "exec", name, "cat", "/etc/alpine-release"), "3.20.3")
		waitForLog(t, u, name, "started\n")
		user := "nobody"
		if u.Mode == "norange" {
			user = "root" // the only id a namespace without a range has
		}
		s := startOnPty(t, u, "exec", "-it", "-u", user, name, "sh")
		s.write(t, "echo \"me=$(id -un)\"; exit\n")
		if code := s.exit(t); code != 0 || !strings.Contains(s.text(), "me="+user) {
			t.Fatalf("exec -it -u %s: exit %d:\n%q", user, code, s.text())
		}
		start := time.Now()
		wantOut(t, u.MustBox(t, "stop", "-t", "1", name), name)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stop took %s", d)
		}
		if r := u.MustBox(t, "ps", "-a", "--format", "{{.Status}}", "--filter", "name="+name); !strings.HasPrefix(r.Stdout, "Exited (137) ") {
			t.Fatalf("sleep ignores SIGTERM and is killed: %s", r)
		}
	})
}
