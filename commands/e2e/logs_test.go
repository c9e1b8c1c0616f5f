package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// wantSequence fails unless out is "line FROM\n" ... "line TO\n".
func wantSequence(t *testing.T, out string, from, to int) {
	t.Helper()
	var want strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if out != want.String() {
		lines := outLines(out)
		first, last := "", ""
		if len(lines) > 0 {
			first, last = lines[0], lines[len(lines)-1]
		}
		t.Fatalf("want lines %d to %d, got %d lines from %q to %q", from, to, len(lines), first, last)
	}
}

// firstLine is the number N of the first "line N" in out.
func firstLine(t *testing.T, out string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(out, "line %d\n", &n); err != nil {
		t.Fatalf("no numbered first line in %.200q", out)
	}
	return n
}

func TestLogRotation(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// 2000 lines of about 75 bytes each in json-file: 150 kB, rotated
		// every 10 kB with 3 files kept.
		name := "rotated-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "--log-opt", "max-size=10k", "--log-opt", "max-file=3",
			"busybox", "sh", "-c", `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; sleep 600`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		var r Result
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if r = u.MustBox(t, "logs", name); strings.HasSuffix(r.Stdout, "line 1999\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the container never finished printing: %s", r)
			}
		}
		// Read again now that the writing has stopped: a read that overlapped
		// rotations follows them and may hold more than the files keep.
		r = u.MustBox(t, "logs", name)
		first := firstLine(t, r.Stdout)
		wantSequence(t, r.Stdout, first, 1999)
		if kept := 2000 - first; kept < 250 || kept > 450 {
			t.Fatalf("logs kept %d lines; 3 files of 10 kB hold about 400", kept)
		}
		r = u.MustBox(t, "logs", "--tail", "3", name)
		wantSequence(t, r.Stdout, 1997, 1999)
		wantOut(t, u.MustBox(t, "inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}", name), "json-file 10k")

		// logs -f follows the log across rotations, missing nothing; with
		// max-file=1 each rotation drops the whole file under the reader.
		followed := "followed-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", followed, "--log-opt", "max-size=5k",
			"busybox", "sh", "-c", `sleep 1; i=0; while [ $i -lt 1500 ]; do echo "line $i"; i=$((i+1)); [ $((i % 50)) = 0 ] && sleep 0.1; done; true`)
		t.Cleanup(func() { u.Box(t, "rm", "-f", followed) })
		follow := u.BoxCmd("logs", "-f", followed)
		var out strings.Builder
		follow.Stdout = &out
		if err := follow.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- follow.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = follow.Process.Kill()
			t.Fatal("logs -f did not end when the container did")
		}
		wantSequence(t, out.String(), 0, 1499)
		// What a later logs shows is the last file only.
		r = u.MustBox(t, "logs", followed)
		wantSequence(t, r.Stdout, firstLine(t, r.Stdout), 1499)
		if len(r.Stdout) > 6000 {
			t.Fatalf("max-size=5k with one file kept %d bytes of output", len(r.Stdout))
		}
	})
}

func TestLogDriverNoneAndBadOptions(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "unlogged-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "--log-driver", "none", "busybox", "sh", "-c", "echo hello; sleep 600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		r := u.Box(t, "logs", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "configured logging driver does not support reading")
		wantOut(t, u.MustBox(t, "ps", "--format", "{{.Names}}", "--filter", "name="+name), name)
		wantOut(t, u.MustBox(t, "inspect", "--format", "{{.HostConfig.LogConfig.Type}}", name), "none")

		for _, bad := range [][]string{
			{"--log-driver", "syslog"},
			{"--log-opt", "max-size=big"},
			{"--log-opt", "max-file=0", "--log-opt", "max-size=1m"},
			{"--log-opt", "colour=red"},
			{"--log-opt", "max-size"},
		} {
			args := append(append([]string{"run", "-d", "--name", "badlog-" + u.Mode}, bad...), "busybox", "true")
			r := u.Box(t, args...)
			wantCode(t, r, 125)
			wantOneLineError(t, r, "invalid --log-")
			if out := u.MustBox(t, "ps", "-a", "-q", "--filter", "name=badlog-"+u.Mode).Stdout; out != "" {
				t.Fatalf("box run %v left a container", bad)
			}
		}
	})
}
