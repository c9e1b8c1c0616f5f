package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStats reads a container that burns CPU and then forks more, as
// root (from its cgroup) and rootless (from /proc, labelled partial).
func TestStats(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "stats-" + u.Mode
		// A busy loop beside the shell (2 processes), then, once told
		// through the fifo, three sleeps more (5).
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
			"while :; do :; done & mkfifo /tmp/more; read x < /tmp/more; sleep 1001 & sleep 1002 & sleep 1003 & wait")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })

		r := u.MustBox(t, "stats", "--no-stream")
		lines := outLines(r.Stdout)
		if len(lines) < 2 || strings.Join(strings.Fields(lines[0]), " ") != "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" {
			t.Fatalf("stats --no-stream should print Docker's table: %s", r)
		}
		row := ""
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) > 1 && f[1] == name {
				row = l
			}
		}
		f := strings.Fields(row)
		if len(f) != 14 || len(f[0]) != 12 || f[13] != "2" {
			t.Fatalf("stats should list %s by short id with 2 PIDs (shell and loop): %q\n%s", name, row, r)
		}
		if cpu, err := strconv.ParseFloat(strings.TrimSuffix(f[2], "%"), 64); err != nil || cpu <= 0 {
			t.Fatalf("a busy loop should show CPU %% > 0: %q\n%s", row, r)
		}
		if f[3] == "0B" {
			t.Fatalf("a running container uses memory: %q", row)
		}
		partial := strings.Contains(r.Stderr, "partial figures for "+name)
		switch {
		case u.Mode == "root" && partial:
			t.Fatalf("rootful containers have a cgroup: no partial figures: %s", r)
		case u.Mode != "root" && cgroupLayout(t) != "v2" && !partial:
			t.Fatalf("rootless on cgroup v1, stats should say its figures are partial: %s", r)
		}

		u.MustBox(t, "exec", name, "sh", "-c", "echo go > /tmp/more")
		deadline := time.Now().Add(30 * time.Second)
		for {
			r = u.MustBox(t, "container", "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", name)
			if r.Stdout == name+" 5\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after forking three sleeps, stats should count 5 PIDs: %s", r)
			}
		}
		r = u.MustBox(t, "stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}", name)
		if id := strings.TrimSpace(r.Stdout); len(id) != 64 {
			t.Fatalf("--no-trunc should print the whole id: %s", r)
		}

		// On a terminal, stats streams: each frame redraws the screen from
		// its top (Docker's escape codes) until Ctrl-C, which ends it well.
		live := startOnPty(t, u, "stats", name)
		deadline = time.Now().Add(30 * time.Second)
		for strings.Count(live.text(), "\033[H") < 2 || !strings.Contains(live.text(), name) {
			if time.Now().After(deadline) {
				t.Fatalf("stats on a terminal should redraw its table every second; it shows:\n%q", live.text())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := live.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := live.exit(t); code != 0 {
			t.Fatalf("stats should end with 0 on Ctrl-C, got %d:\n%q", code, live.text())
		}

		// A stopped container reads all zeros, as in Docker; -a lists it.
		u.MustBox(t, "stop", "-t", "0", name)
		r = u.MustBox(t, "stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}", name)
		if want := name + "|0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0\n"; r.Stdout != want {
			t.Fatalf("stats of a stopped container: want %q, got %s", want, r)
		}
		r = u.MustBox(t, "stats", "--no-stream", "--format", "{{.Name}}")
		if strings.Contains(r.Stdout, name) {
			t.Fatalf("stats without -a should leave out stopped containers: %s", r)
		}
		r = u.MustBox(t, "stats", "--no-stream", "-a", "--format", "{{.Name}}")
		if !strings.Contains(r.Stdout, name+"\n") {
			t.Fatalf("stats -a should list stopped containers: %s", r)
		}

		r = u.Box(t, "stats", "--no-stream", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container: nosuch-"+u.Mode)
		if r.Stdout != "" {
			t.Fatalf("stats of an unknown container should print no table: %s", r)
		}
	})
}
