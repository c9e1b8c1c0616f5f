package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := filepath.Join(tempDir, "inspect-"+u.Mode)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		name := "inspected-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "-l", "k=v", "-v", dir+":/data:ro", "-w", "/tmp", "busybox", "sleep", "1000")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		r := u.MustBox(t, "inspect", "-f", "{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Image}} {{.Config.WorkingDir}} {{json .Config.Labels}} {{.Path}} {{.Args}}", name)
		wantOut(t, r, "/"+name+` running true busybox /tmp {"k":"v"} sleep [1000]`)
		if pid := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.State.Pid}}", name).Stdout); pid == "0" {
			t.Fatalf("a running container has no pid")
		}
		u.MustBox(t, "stop", "-t", "1", name)
		r = u.MustBox(t, "container", "inspect", name)
		var v []map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v) != 1 {
			t.Fatalf("inspect JSON: %v %s", err, r)
		}
		state := v[0]["State"].(map[string]any)
		if state["Status"] != "exited" || state["ExitCode"].(float64) != 137 || state["Running"] != false {
			t.Fatalf("State after stop: %v", state)
		}
		mounts := v[0]["Mounts"].([]any)
		if len(mounts) != 1 || mounts[0].(map[string]any)["Destination"] != "/data" || mounts[0].(map[string]any)["RW"] != false {
			t.Fatalf("Mounts: %v", mounts)
		}
		// A name that is an image is found as one; --type narrows.
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.Architecture}}", "busybox"), "amd64")
		for _, args := range [][]string{{"inspect", "--type", "container", "busybox"}, {"container", "inspect", "busybox"}} {
			r = u.Box(t, args...)
			wantCode(t, r, 1)
			wantOneLineError(t, r, "No such container")
		}
	})
}
