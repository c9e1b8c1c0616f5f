package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestInit(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// PID 1 is box's init, mounted read-only on /dev's tmpfs, running
		// the command; what the user asked for is still Path and Args.
		r := u.MustBox(t, "run", "--rm", "--init", "busybox", "cat", "/proc/1/cmdline")
		// (started through the host's dynamic loader, mounted beside it,
		// when box is linked dynamically)
		if !strings.HasSuffix(r.Stdout, "/dev/init\x00__init\x00--\x00cat\x00/proc/1/cmdline\x00") {
			t.Fatalf("PID 1 with --init: %q", r.Stdout)
		}
		r = u.Box(t, "run", "--rm", "--init", "busybox", "sh", "-c", "echo x > /dev/init")
		if r.Code == 0 {
			t.Fatalf("the init should be read-only in the container: %s", r)
		}
		// Exit codes pass through, signals as 128+N.
		wantCode(t, u.Box(t, "run", "--rm", "--init", "busybox", "sh", "-c", "exit 3"), 3)
		wantCode(t, u.Box(t, "run", "--rm", "--init", "busybox", "sh", "-c", "kill -9 $$"), 137)
		wantCode(t, u.Box(t, "run", "--rm", "--init", "busybox", "no-such-command"), 127)
		// As another user too: the init must not try to enter box's own
		// user namespace from inside the container. (Without a subuid
		// range only root is mapped.)
		if u.Mode != "norange" {
			wantOut(t, u.MustBox(t, "run", "--rm", "--init", "-u", "1000", "busybox", "id", "-u"), "1000")
		}

		// An orphan is reaped; SIGTERM reaches the command (a plain sleep
		// as PID 1 would ignore it); the exit code is recorded.
		name := "init-" + u.Mode
		u.MustBox(t, "run", "-d", "--init", "--name", name, "busybox", "sh", "-c",
			`sh -c "sleep 0.2 &"; exec sleep 1000`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.Path}} {{.Args}} {{.HostConfig.Init}} {{len .Mounts}}", name),
			"sh [-c sh -c \"sleep 0.2 &\"; exec sleep 1000] true 0")
		deadline := time.Now().Add(10 * time.Second)
		for {
			r = u.MustBox(t, "top", name, "-o", "pid,stat,args")
			lines := outLines(r.Stdout)
			zombie := strings.Contains(r.Stdout, " Z")
			if len(lines) == 3 && !zombie && strings.Contains(r.Stdout, "sleep 1000") {
				break // the init and the sleep, nothing else
			}
			if time.Now().After(deadline) {
				t.Fatalf("the orphan was not reaped: %s", r)
			}
			time.Sleep(100 * time.Millisecond)
		}
		start := time.Now()
		u.MustBox(t, "stop", name)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stop with --init took %s: SIGTERM was not passed on", d)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.ExitCode}}", name), "143")
		// Without --init, HostConfig.Init is null, as in Docker.
		u.MustBox(t, "create", "--name", "noinit-"+u.Mode, "busybox", "true")
		t.Cleanup(func() { u.Box(t, "rm", "-f", "noinit-"+u.Mode) })
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .HostConfig.Init}}", "noinit-"+u.Mode), "null")
	})
}
