package e2e

import (
	"strings"
	"testing"
)

// The prunes take Docker's until= and label= filters: container prune now too, and system
// prune refuses until= with --volumes, as Docker's CLI does.
func TestPruneFilters(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "create", "--name", "pf-plain", "busybox", "true")
	u.MustBox(t, "create", "--name", "pf-kept", "--label", "keep=1", "busybox", "true")
	t.Cleanup(func() { u.Box(t, "rm", "-f", "pf-plain", "pf-kept") })
	names := func() string {
		return strings.TrimSpace(u.MustBox(t, "ps", "-a", "--filter", "name=pf-", "--format", "{{.Names}}").Stdout)
	}
	wantOut(t, u.MustBox(t, "container", "prune", "-f", "--filter", "until=1h"), "Total reclaimed space: 0B")
	if got := names(); strings.Count(got, "\n") != 1 {
		t.Fatalf("until=1h should keep containers made just now: %q", got)
	}
	r := u.MustBox(t, "container", "prune", "-f", "--filter", "label!=keep")
	if !strings.HasPrefix(r.Stdout, "Deleted Containers:\n") || names() != "pf-kept" {
		t.Fatalf("label!=keep should remove pf-plain only: %s; left %q", r, names())
	}
	u.MustBox(t, "container", "prune", "-f", "--filter", "label=keep=1")
	if got := names(); got != "" {
		t.Fatalf("label=keep=1 should remove pf-kept: left %q", got)
	}
	wantCode(t, u.Box(t, "container", "prune", "-f", "--filter", "colour=red"), 125)

	u.MustBox(t, "network", "create", "pf-net")
	t.Cleanup(func() { u.Box(t, "network", "rm", "pf-net") })
	if r := u.MustBox(t, "network", "prune", "-f", "--filter", "until=1h"); strings.Contains(r.Stdout, "pf-net") {
		t.Fatalf("until=1h should keep a network made just now: %s", r)
	}
	if r := u.MustBox(t, "network", "prune", "-f", "--filter", "until=0s"); !strings.Contains(r.Stdout, "pf-net") {
		t.Fatalf("until=0s should remove a network made before now: %s", r)
	}
	r = u.Box(t, "system", "prune", "-f", "--volumes", "--filter", "until=1h")
	if r.Code != 125 || !strings.Contains(r.Stderr, `"until" filter is not supported with "--volumes"`) {
		t.Fatalf("system prune --volumes --filter until: %s", r)
	}
}
