package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVolumeBindDevice: Docker's local driver options for a bind
// (type=none, o=bind, device=DIR) make a volume whose data is DIR:
// what a container writes there is in DIR, o=bind,ro mounts it
// read-only, volume rm leaves DIR's files, and a compose file's
// driver_opts (with a relative device, which compose-go resolves when
// the driver is named local) do the same. Options that would
// mount a filesystem are refused in one line.
func TestVolumeBindDevice(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		parent, err := os.MkdirTemp(tempDir, "voldev-"+u.Mode+"-")
		if err != nil {
			t.Fatal(err)
		}
		dev := filepath.Join(parent, "dev")
		if err := os.MkdirAll(dev, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(parent, 0o755)
		os.Chmod(dev, 0o777)
		name, ro := "voldev-"+u.Mode, "voldev-ro-"+u.Mode
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", name, ro) })

		u.MustBox(t, "volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device="+dev, name)
		wantOut(t, u.MustBox(t, "volume", "inspect", "-f", "{{.Options.device}} {{.Mountpoint}}", name), dev+" "+dev)
		u.MustBox(t, "run", "--rm", "-v", name+":/data", "busybox", "sh", "-c", "echo written > /data/f")
		if b, err := os.ReadFile(filepath.Join(dev, "f")); err != nil || string(b) != "written\n" {
			t.Fatalf("the container's write is not in the device directory: %q, %v", b, err)
		}
		u.MustBox(t, "volume", "create", "-o", "type=none", "-o", "o=bind,ro", "-o", "device="+dev, ro)
		if r := u.Box(t, "run", "--rm", "-v", ro+":/data", "busybox", "sh", "-c", "cat /data/f && touch /data/g"); r.Code == 0 || !strings.Contains(r.Stdout, "written") || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Errorf("o=bind,ro: want the file readable and the volume read-only: %s", r)
		}
		u.MustBox(t, "volume", "rm", name, ro)
		if _, err := os.Stat(filepath.Join(dev, "f")); err != nil {
			t.Errorf("volume rm removed the device's files: %v", err)
		}

		for _, tc := range []struct{ opts, want string }{
			{"type=tmpfs,device=tmpfs", "type=tmpfs: box's local volumes mount no filesystems"},
			{"o=bind,device=" + dev + "/missing", "no such directory"},
			{"colour=red", `invalid option key: "colour"`},
		} {
			args := []string{"volume", "create"}
			for _, o := range strings.Split(tc.opts, ",") {
				args = append(args, "-o", o)
			}
			r := u.Box(t, append(args, "voldev-bad")...)
			if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("volume create -o %s: want Docker's exit 1 and one line with %q: %s", tc.opts, tc.want, r)
			}
		}

		// A compose file's driver_opts, the device relative to the project.
		dir := composeProject(t, u, "devproj", map[string]string{"compose.yaml": `services:
  w:
    image: busybox
    command: ["sh", "-c", "echo from-compose > /data/c"]
    volumes: ["data:/data"]
volumes:
  data:
    driver: local
    driver_opts: {type: none, o: bind, device: ./store}
`})
		if err := os.Mkdir(filepath.Join(dir, "store"), 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, "store"), 0o777)
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-v", "-t", "0") })
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up")
		if b, err := os.ReadFile(filepath.Join(dir, "store", "c")); err != nil || string(b) != "from-compose\n" {
			t.Errorf("compose driver_opts bind: %q, %v", b, err)
		}
	})
}
