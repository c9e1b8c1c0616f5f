package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTop(t *testing.T) {
	seconds := map[string]int{"rootless": 7101, "norange": 7201, "root": 7301}
	forEachUser(t, func(t *testing.T, u *User) {
		name := "top-" + u.Mode
		n := seconds[u.Mode]
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
			fmt.Sprintf("sleep %d & sleep %d; true", n, n+1))
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		first := waitForProcess(t, fmt.Sprintf("sleep %d", n), 20*time.Second)
		second := waitForProcess(t, fmt.Sprintf("sleep %d", n+1), 20*time.Second)

		// ps -ef, filtered to the container's three processes, host pids.
		r := u.MustBox(t, "top", name)
		lines := outLines(r.Stdout)
		header := strings.Fields(lines[0])
		if strings.Join(header, " ") != "UID PID PPID C STIME TTY TIME CMD" || len(lines) != 4 {
			t.Fatalf("top should show ps -ef's header and the container's 3 processes: %s", r)
		}
		pids := map[int]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			pid, _ := strconv.Atoi(f[1])
			pids[pid] = strings.Join(f[7:], " ")
		}
		if pids[first] != fmt.Sprintf("sleep %d", n) || pids[second] != fmt.Sprintf("sleep %d", n+1) {
			t.Fatalf("top should list the sleeps by host pid %d and %d: %s", first, second, r)
		}
		if !strings.Contains(r.Stdout, "sh -c sleep") {
			t.Fatalf("top should list the container's shell with its arguments: %s", r)
		}

		// ps options pass through, in both spellings of the verb.
		r = u.MustBox(t, "container", "top", name, "-o", "pid,comm")
		if lines := outLines(r.Stdout); len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "PID COMMAND" {
			t.Fatalf("top -o pid,comm: %s", r)
		}
		r = u.MustBox(t, "top", name, "aux")
		if !strings.HasPrefix(r.Stdout, "USER") || len(outLines(r.Stdout)) != 4 {
			t.Fatalf("top aux: %s", r)
		}
		r = u.Box(t, "top", name, "-o", "comm")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "Couldn't find PID field in ps output")

		u.MustBox(t, "stop", "-t", "0", name)
		r = u.Box(t, "top", name)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "container "+name+" is not running")
		r = u.Box(t, "top", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")
	})
}
