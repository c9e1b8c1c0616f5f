package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLabelsRenamePrune(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		file := filepath.Join(tempDir, "labels-"+u.Mode)
		if err := os.WriteFile(file, []byte("# team\nteam=box\nrole=from-file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		name := "labelled-" + u.Mode
		u.MustBox(t, "run", "--name", name, "-l", "role=flag", "--label", "solo", "--label-file", file, "busybox", "true")
		r := u.MustBox(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Labels}}")
		wantOut(t, r, "role=flag,solo=,team=box")
		wantOut(t, u.MustBox(t, "ps", "-a", "-q", "--filter", "label=team=box", "--filter", "name="+name),
			strings.TrimSpace(u.MustBox(t, "ps", "-a", "-q", "--filter", "name="+name).Stdout))
		wantOut(t, u.MustBox(t, "ps", "-a", "-q", "--filter", "label=team=other", "--filter", "name="+name), "")

		renamed := "renamed-" + u.Mode
		u.MustBox(t, "rename", name, renamed)
		wantOut(t, u.MustBox(t, "ps", "-a", "--filter", "name="+renamed, "--format", "{{.Names}}"), renamed)
		other := "other-" + u.Mode
		u.MustBox(t, "run", "--name", other, "busybox", "true")
		r = u.Box(t, "rename", renamed, other)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "already in use")
		r = u.Box(t, "rename", "nosuch-"+u.Mode, "x")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")

		// prune removes stopped containers only.
		live := "prune-survivor-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", live, "busybox", "sleep", "1000")
		t.Cleanup(func() { u.Box(t, "rm", "-f", live) })
		r = u.MustBox(t, "container", "prune", "-f")
		if !strings.HasPrefix(r.Stdout, "Deleted Containers:\n") || !strings.Contains(r.Stdout, "Total reclaimed space: ") {
			t.Fatalf("prune: %s", r)
		}
		r = u.MustBox(t, "ps", "-a", "--format", "{{.Names}}")
		if strings.TrimSpace(r.Stdout) != live {
			t.Fatalf("after prune only the running container should remain: %s", r)
		}
		r = u.BoxIn(t, "n\n", "container", "prune")
		wantCode(t, r, 0)
	})
}

func TestDiff(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "changed-" + u.Mode
		u.MustBox(t, "run", "--name", name, "busybox", "sh", "-c", "mkdir /newdir; echo x > /newdir/f; rm /etc/group; echo y >> /etc/passwd")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		wantOut(t, u.MustBox(t, "diff", name), "C /etc\nD /etc/group\nC /etc/passwd\nA /newdir\nA /newdir/f")
		untouched := "untouched-" + u.Mode
		u.MustBox(t, "run", "--name", untouched, "busybox", "true")
		t.Cleanup(func() { u.Box(t, "rm", "-f", untouched) })
		wantOut(t, u.MustBox(t, "container", "diff", untouched), "")
		r := u.Box(t, "diff", "nosuch-"+u.Mode)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container")
	})
}
