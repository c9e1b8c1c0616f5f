package commands

import (
	"bytes"
	"strings"
	"testing"

	"box/engine"
)

// TestStatsOutput checks Docker's units and columns: binary sizes for
// memory, decimal ones with three digits for I/O, "--" for a container
// that went away.
func TestStatsOutput(t *testing.T) {
	id := strings.Repeat("ab", 32)
	rows := []statsRow{
		{container: "web", trunc: true, s: engine.Stats{ID: id, Name: "web", Running: true, CPUPercent: 12.345,
			MemUsage: 1536 * 1024, MemLimit: 2 << 30, MemPercent: 0.0732, NetRx: 1234, NetTx: 5_600_000,
			BlockRead: 0, BlockWrite: 4096, PIDs: 5}},
		{container: "gone", invalid: true},
	}
	var buf bytes.Buffer
	if err := printStats(&buf, "", rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := [][]string{
		{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"},
		{id[:12], "web", "12.35%", "1.5MiB / 2GiB", "0.07%", "1.23kB / 5.6MB", "0B / 4.1kB", "5"},
		{"", "--", "--", "-- / --", "--", "--", "--", "--"},
	}
	for i, w := range want {
		if got := splitColumns(lines[i]); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("line %d: got %q, want %q", i, got, w)
		}
	}
	buf.Reset()
	if err := printStats(&buf, "{{.Container}} {{.PIDs}} {{.MemPerc}}", rows[:1]); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "web 5 0.07%\n" {
		t.Errorf("--format: got %q", buf.String())
	}
}

// splitColumns splits a table line at runs of two or more spaces.
func splitColumns(line string) []string {
	var out []string
	for _, f := range strings.Split(line, "   ") {
		if f = strings.TrimSpace(f); f != "" || len(out) == 0 {
			out = append(out, f)
		}
	}
	return out
}
