package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wantCode fails the test unless r exited with code.
func wantCode(t *testing.T, r Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
}

// wantOut fails unless stdout, trimmed, equals want.
func wantOut(t *testing.T, r Result, want string) {
	t.Helper()
	if got := strings.TrimSpace(r.Stdout); got != want {
		t.Fatalf("want stdout %q, got %s", want, r)
	}
}

// wantOneLineError fails unless stderr holds exactly one line containing each part.
// wantOneLineError: the error is one line, which may be followed by one
// "Hint: " line saying how to fix it; parts are looked for in both.
func wantOneLineError(t *testing.T, r Result, parts ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if len(lines) == 2 && strings.HasPrefix(lines[1], "Hint: ") {
		lines = []string{lines[0] + "\n" + lines[1]}
	}
	if len(lines) != 1 {
		t.Fatalf("want a one-line error, got %s", r)
	}
	for _, p := range parts {
		if !strings.Contains(lines[0], p) {
			t.Fatalf("want the error to mention %q, got %s", p, r)
		}
	}
}

func TestRunImplicitPullAndPolicy(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "system", "reset", "-f")
		r := u.MustBox(t, "run", "--rm", "alpine", "cat", "/etc/alpine-release")
		wantOut(t, r, "3.20.3")
		if !strings.Contains(r.Stderr, "Unable to find image 'alpine:latest' locally") {
			t.Fatalf("the first run should say it pulls: %s", r)
		}
		r = u.MustBox(t, "run", "--rm", "alpine", "true")
		if strings.Contains(r.Stderr, "Unable to find image") {
			t.Fatalf("the second run pulled again: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--pull", "never", "busybox:glibc", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "no such image", "busybox:glibc")
		r = u.MustBox(t, "run", "--rm", "--pull=always", "alpine", "true")
		if !strings.Contains(r.Stderr, "Pulling fs layer") && !strings.Contains(r.Stderr, "Already exists") {
			t.Fatalf("--pull always did not pull: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--pull", "sometimes", "alpine", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "sometimes")
		r = u.Box(t, "run", "--rm", "nosuchimage", "true")
		wantCode(t, r, 125)
		// Docker says it looks, then one line of why it failed.
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if len(lines) != 2 || lines[0] != "Unable to find image 'nosuchimage:latest' locally" ||
			!strings.Contains(lines[1], "nosuchimage") || !strings.Contains(lines[1], "not found") {
			t.Fatalf("want the lookup line and a one-line error: %s", r)
		}
	})
}

func TestRunExitCodes(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		wantCode(t, u.Box(t, "run", "--rm", "busybox", "sh", "-c", "exit 3"), 3)
		r := u.Box(t, "run", "--rm", "busybox", "nosuchcommand")
		wantCode(t, r, 127)
		wantOneLineError(t, r, "nosuchcommand", "not found")
		r = u.Box(t, "run", "--rm", "busybox", "/etc/passwd")
		wantCode(t, r, 126)
		wantOneLineError(t, r, "/etc/passwd", "permission denied")
		r = u.Box(t, "run", "--rm", "busybox", "/")
		wantCode(t, r, 126)
		r = u.Box(t, "run", "--rm", "--bogus-flag", "busybox", "true")
		wantCode(t, r, 125)
		r = u.Box(t, "run", "--rm", "-w", "relative", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "relative")
	})
}

// TestRunKilledInit kills the container's init from outside: box reports
// 128+9 as Docker does.
func TestRunKilledInit(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		marker := fmt.Sprintf("%d", time.Now().UnixNano()%100000+100000)
		cmd := u.BoxCmd("run", "--rm", "busybox", "sleep", marker)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()
		pid := waitForProcess(t, "sleep "+marker, 20*time.Second)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill container init %d: %v", pid, err)
		}
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if code != 137 {
			t.Fatalf("want exit 137 after the init was killed, got %d (%v): %s", code, err, out)
		}
	})
}

// waitForProcess finds the pid whose command line is exactly cmdline.
func waitForProcess(t *testing.T, cmdline string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil {
				continue
			}
			if strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ") == cmdline {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no process %q appeared within %s", cmdline, timeout)
	return 0
}

func TestRunSignalsReachContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			script := `trap "echo got TERM; exit 9" TERM; trap "echo got INT; exit 8" INT; echo ready; while :; do sleep 0.1; done`
			cmd := u.BoxCmd("run", "--rm", "busybox", "sh", "-c", script)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rd := bufio.NewReader(stdout)
			line, err := rd.ReadString('\n')
			if err != nil || strings.TrimSpace(line) != "ready" {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("container did not start: %q %v", line, err)
			}
			_ = cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(rd)
			_ = cmd.Wait()
			want, code := "got TERM", 9
			if sig == syscall.SIGINT {
				want, code = "got INT", 8
			}
			if !strings.Contains(string(rest), want) || cmd.ProcessState.ExitCode() != code {
				t.Fatalf("%v: want %q and exit %d, got %q exit %d", sig, want, code, rest, cmd.ProcessState.ExitCode())
			}
		}
	})
}

func TestRunProcessOptions(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		envFile := filepath.Join(tempDir, "envfile-"+u.Mode)
		if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=file value\nOVERRIDE=file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := u.MustBox(t, "run", "--rm", "--env-file", envFile, "-e", "OVERRIDE=flag", "-e", "A=1",
			"busybox", "sh", "-c", `echo "$FROM_FILE|$OVERRIDE|$A|$PATH"`)
		wantOut(t, r, "file value|flag|1|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

		r = u.MustBox(t, "run", "--rm", "-w", "/does/not/exist", "busybox", "pwd")
		wantOut(t, r, "/does/not/exist")

		if u == NoRange {
			// Only the user's own id exists in a single-id namespace.
			r = u.Box(t, "run", "--rm", "-u", "nobody", "busybox", "id")
			wantCode(t, r, 125)
			wantOneLineError(t, r, "not mapped", "usermod --add-subuids")
		} else {
			r = u.MustBox(t, "run", "--rm", "-u", "nobody", "busybox", "id")
			wantOut(t, r, "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)")
			r = u.MustBox(t, "run", "--rm", "-u", "1234:5678", "busybox", "id", "-u")
			wantOut(t, r, "1234")
			r = u.MustBox(t, "run", "--rm", "-u", "nobody:daemon", "busybox", "id", "-g")
			wantOut(t, r, "1")
		}
		r = u.Box(t, "run", "--rm", "-u", "nosuchuser", "busybox", "id")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "nosuchuser")

		r = u.MustBox(t, "run", "--rm", "--entrypoint", "echo", "busybox", "from", "entrypoint")
		wantOut(t, r, "from entrypoint")
		r = u.MustBox(t, "run", "--rm", "--entrypoint", "", "alpine", "echo", "cleared")
		wantOut(t, r, "cleared")

		r = u.MustBox(t, "run", "--rm", "--network", "none", "--hostname", "boxhost", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep boxhost /etc/hosts >/dev/null && echo inhosts")
		wantOut(t, r, "boxhost\nboxhost\ninhosts")
		r = u.Box(t, "run", "--rm", "--network", "host", "--hostname", "x", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "conflicting options")

		// The image's own Cmd, Env and WorkingDir apply (alpine: Cmd /bin/sh).
		r = u.MustBox(t, "run", "--rm", "-i", "alpine")
		if r.Stdout != "" {
			t.Fatalf("sh with empty stdin printed %q", r.Stdout)
		}
		r = u.BoxIn(t, "echo from stdin\n", "run", "--rm", "-i", "alpine")
		wantOut(t, r, "from stdin")
		r = u.BoxIn(t, "not passed\n", "run", "--rm", "busybox", "cat")
		wantOut(t, r, "")
	})
}

func TestRunMounts(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := filepath.Join(tempDir, "bind-"+u.Mode)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dir, 0o777)
		if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := u.MustBox(t, "run", "--rm", "-v", dir+":/data", "busybox", "sh", "-c", "cat /data/in.txt; echo written > /data/out.txt")
		wantOut(t, r, "from host")
		if b, err := os.ReadFile(filepath.Join(dir, "out.txt")); err != nil || string(b) != "written\n" {
			t.Fatalf("write through the bind mount did not reach the host: %q %v", b, err)
		}
		r = u.Box(t, "run", "--rm", "-v", dir+":/data:ro", "busybox", "touch", "/data/nope")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("a :ro volume was writable: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--mount", "type=bind,source="+dir+",target=/m,readonly", "busybox", "sh", "-c", "cat /m/in.txt; touch /m/nope")
		if r.Code == 0 || !strings.Contains(r.Stdout, "from host") {
			t.Fatalf("--mount readonly: %s", r)
		}
		r = u.MustBox(t, "run", "--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3")
		wantOut(t, r, "tmpfs")
		r = u.MustBox(t, "run", "--rm", "--mount", "type=tmpfs,target=/t2", "busybox", "sh", "-c", "grep ' /t2 ' /proc/mounts | cut -d' ' -f3")
		wantOut(t, r, "tmpfs")
		r = u.Box(t, "run", "--rm", "--read-only", "busybox", "touch", "/x")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("--read-only root was writable: %s", r)
		}
		u.MustBox(t, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "busybox", "touch", "/tmp/x")

		for _, bad := range [][]string{
			{"-v", "./relative:/data"},
			{"-v", dir + ":data"},
			{"--mount", "type=bind,target=/x"},
			{"--mount", "type=bind,source=/nonexistent-box-src,target=/x"},
			{"--mount", "type=nosuch,target=/x"},
			{"--tmpfs", "relative"},
		} {
			r := u.Box(t, append(append([]string{"run", "--rm"}, bad...), "busybox", "true")...)
			wantCode(t, r, 125)
			wantOneLineError(t, r)
		}
	})
}

// procStatus returns the container's view of one /proc/self/status field.
func procStatus(t *testing.T, u *User, field string, flags ...string) string {
	t.Helper()
	args := append(append([]string{"run", "--rm"}, flags...), "busybox", "grep", field+":", "/proc/self/status")
	r := u.MustBox(t, args...)
	f := strings.Fields(r.Stdout)
	if len(f) != 2 {
		t.Fatalf("unexpected status line: %s", r)
	}
	return f[1]
}

func TestRunConfinement(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// Docker's default set: chown dac_override fowner fsetid kill setgid setuid
		// setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap.
		if got := procStatus(t, u, "CapEff"); got != "00000000a80425fb" {
			t.Fatalf("default capabilities %s, want Docker's 00000000a80425fb", got)
		}
		if got := procStatus(t, u, "CapBnd"); got != "00000000a80425fb" {
			t.Fatalf("default bounding set %s", got)
		}
		if got := procStatus(t, u, "CapEff", "--cap-drop", "ALL"); got != "0000000000000000" {
			t.Fatalf("--cap-drop ALL left %s", got)
		}
		if got := procStatus(t, u, "CapEff", "--cap-drop", "chown", "--cap-add", "SYS_ADMIN"); got != "00000000a82425fa" {
			t.Fatalf("--cap-drop chown --cap-add SYS_ADMIN gave %s", got)
		}
		if got := procStatus(t, u, "Seccomp"); got != "2" {
			t.Fatalf("default seccomp mode %s, want 2 (filter)", got)
		}
		if got := procStatus(t, u, "Seccomp", "--security-opt", "seccomp=unconfined"); got != "0" {
			t.Fatalf("seccomp=unconfined gave mode %s", got)
		}
		if got := procStatus(t, u, "NoNewPrivs"); got != "0" {
			t.Fatalf("NoNewPrivs %s by default", got)
		}
		if got := procStatus(t, u, "NoNewPrivs", "--security-opt", "no-new-privileges"); got != "1" {
			t.Fatalf("no-new-privileges gave %s", got)
		}
		if got := procStatus(t, u, "CapEff", "--privileged"); got == "00000000a80425fb" || got == "0000000000000000" {
			t.Fatalf("--privileged kept the default set: %s", got)
		}
		// The default seccomp profile refuses what Docker's refuses.
		r := u.Box(t, "run", "--rm", "busybox", "unshare", "-U", "true")
		if r.Code == 0 {
			t.Fatalf("unshare(CLONE_NEWUSER) was allowed under the default profile: %s", r)
		}
		// Masked and read-only paths.
		r = u.MustBox(t, "run", "--rm", "busybox", "sh", "-c", "wc -c < /proc/interrupts; ls /sys/firmware | wc -l")
		wantOut(t, r, "0\n0")
		r = u.Box(t, "run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/vm/drop_caches")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("/proc/sys was writable: %s", r)
		}
		r = u.Box(t, "run", "--rm", "busybox", "touch", "/sys/kernel/x")
		if r.Code == 0 {
			t.Fatalf("/sys was writable: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--security-opt", "bogus=1", "busybox", "true")
		wantCode(t, r, 125)
		r = u.Box(t, "run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "NOT_A_CAP")
	})
}

func TestRunNetworkNone(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net")
		wantOut(t, r, "lo")
		r = u.MustBox(t, "run", "--rm", "--network", "host", "busybox", "sh", "-c", "ls /sys/class/net | wc -l")
		if n, _ := strconv.Atoi(strings.TrimSpace(r.Stdout)); n < 1 {
			t.Fatalf("host network shows no interfaces: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--network", "bridge0", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "bridge0")
	})
}

func TestRunNameConflict(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "conflict-" + u.Mode
		u.MustBox(t, "run", "--name", name, "busybox", "true")
		r := u.Box(t, "run", "--name", name, "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, name, "already in use")
		r = u.Box(t, "run", "--rm", "--name", "bad/name", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "bad/name")
	})
}

// TestRunTTY drives `box run -it` through a real pty with util-linux's
// script: the container sees a terminal of the caller's size, Ctrl-C
// interrupts the foreground command only, and the shell's exit code comes back.
func TestRunTTY(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("util-linux's script is needed for the pty test")
	}
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		boxArgs := []string{boxBin}
		if u.StoreRoot != "" {
			boxArgs = append(boxArgs, "--root", u.StoreRoot, "--runroot", u.StoreRunRoot)
		}
		boxArgs = append(boxArgs, "run", "--rm", "-it", "busybox", "sh")
		cmd := u.Cmd("script", "-qefc", "stty cols 91 rows 17; exec "+strings.Join(boxArgs, " "), "/dev/null")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()
		send := func(s string) {
			if _, err := io.WriteString(stdin, s); err != nil {
				t.Fatalf("typing %q: %v; the terminal shows %q", s, err, out.String())
			}
		}
		// Each line is typed once the shell is there to read it: its output (not the
		// echo of what was typed) has appeared, or the process it started runs.
		screenShows := func(what string, re *regexp.Regexp) {
			t.Helper()
			waitFor(t, what, 30*time.Second, func() (bool, string) {
				return re.MatchString(out.String()), fmt.Sprintf("the terminal shows %q", out.String())
			})
		}
		// busybox's line editor may redraw its prompt once it learns the
		// terminal's size ("/ # \r/ # \x1b[J"): the prompt is there when the
		// screen ends with it and at most some control sequences.
		screenShows("the shell's prompt", regexp.MustCompile(`# (\x1b\[[0-9;?]*[A-Za-z])*$`))
		send("tty; stty size; echo TERM=$TERM\n")
		screenShows("the shell's answers", regexp.MustCompile(`TERM=xterm\r+\n`))
		marker := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
		send("sleep " + marker + "; echo after-sleep\n")
		sleeper := waitForProcess(t, "sleep "+marker, 30*time.Second)
		send("\x03")
		waitFor(t, "Ctrl-C to end the sleep", 30*time.Second, func() (bool, string) {
			return !alive(sleeper), fmt.Sprintf("sleep (pid %d) runs; the terminal shows %q", sleeper, out.String())
		})
		send("echo interrupted\n")
		screenShows("the shell to run the next command", regexp.MustCompile(`\ninterrupted\r+\n`))
		send("exit 7\n")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("box run -it did not end: %s", out.String())
		}
		o := out.String()
		for _, want := range []string{"/dev/pts/0", "17 91", "TERM=xterm", "interrupted"} {
			if !strings.Contains(o, want) {
				t.Fatalf("pty session output lacks %q:\n%s", want, o)
			}
		}
		// Each line ends as a terminal ends it, CR LF, once: a second CR
		// is two terminals translating the same newline.
		if strings.Contains(o, "\r\r\n") || !strings.Contains(o, "17 91\r\n") {
			t.Fatalf("lines do not end in one CR LF:\n%q", o)
		}
		if strings.Contains(o, "\nafter-sleep") {
			t.Fatalf("Ctrl-C did not interrupt the sleep:\n%s", o)
		}
		if code := cmd.ProcessState.ExitCode(); code != 7 {
			t.Fatalf("want exit 7 from the shell, got %d:\n%s", code, o)
		}
	})
}

func TestRunTTYNeedsTerminal(t *testing.T) {
	r := Rootless.Box(t, "run", "--rm", "-it", "busybox", "true")
	wantCode(t, r, 125)
	wantOneLineError(t, r, "not a TTY")
	// -t alone needs none, and its output is a terminal's: CR LF, as
	// Docker's is when read from a pipe.
	if r := Rootless.MustBox(t, "run", "--rm", "-t", "busybox", "echo", "a"); r.Stdout != "a\r\n" {
		t.Fatalf("run -t echo a wrote %q, want %q", r.Stdout, "a\r\n")
	}
}
