package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestParallelDetachedRuns starts 20 detached containers at once, then
// removes them all at once: all 20 run with distinct names, and nothing
// is left behind (no container, no monitor, no process).
func TestParallelDetachedRuns(t *testing.T) {
	u := Rootless
	u.MustBox(t, "pull", "-q", "busybox")
	// A command line of this run's own: other runs of the suite may be
	// going on beside it.
	sleep := fmt.Sprintf("%d", time.Now().UnixNano()%900000+100000)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = u.Box(t, "run", "-d", "busybox", "sleep", sleep)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Code != 0 || !fullID.MatchString(r.Stdout) {
			t.Fatalf("run -d #%d: %s", i, r)
		}
		ids[i] = strings.TrimSpace(r.Stdout)
	}
	t.Cleanup(func() { u.Box(t, append([]string{"rm", "-f"}, ids...)...) })
	r := u.MustBox(t, "ps", "--format", "{{.Names}} {{.State}}")
	names := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "running" {
			names[f[0]] = true
		}
	}
	if len(names) < n {
		t.Fatalf("want %d running containers with distinct names, got %d: %s", n, len(names), r.Stdout)
	}

	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = u.Box(t, "rm", "-f", ids[i])
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Code != 0 {
			t.Fatalf("rm -f #%d: %s", i, r)
		}
	}
	if r := u.MustBox(t, "ps", "-a", "-q"); strings.TrimSpace(r.Stdout) != "" {
		for _, id := range ids {
			if strings.Contains(r.Stdout, id[:12]) {
				t.Fatalf("rm -f left %s: %s", id, r.Stdout)
			}
		}
	}
	// The rootfs mounts live in the monitors' mount namespace, which ends
	// with the last monitor: no monitor left means no mount left.
	for _, id := range ids {
		if m := monitorsOf(id); len(m) > 0 {
			t.Fatalf("monitor of %s still running: %v", id, m)
		}
	}
	if p := processesCalled("sleep " + sleep); len(p) > 0 {
		t.Fatalf("container processes left: %v", p)
	}
}

// processesCalled lists pids whose command line is exactly cmdline.
func processesCalled(cmdline string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%s/cmdline", e.Name()))
		if err == nil && strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ") == cmdline {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
