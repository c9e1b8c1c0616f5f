package e2e

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var volumeName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// pushVolumeImage pushes library/volimg: busybox plus /srv/app, owned by
// uid 1000 with modes of its own, and a VOLUME /srv/data holding a seed file.
func pushVolumeImage(t *testing.T) {
	t.Helper()
	bb := filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci")
	manifest, _, err := readLayoutImage(bb)
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(blobPath(bb, manifest.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	extra := tarLayer(t,
		tarEntry{Name: "srv/", Type: tar.TypeDir},
		tarEntry{Name: "srv/app/", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1000},
		tarEntry{Name: "srv/app/conf", Body: "from image\n", Mode: 0o600, UID: 1000, GID: 1000},
		tarEntry{Name: "srv/data/", Type: tar.TypeDir},
		tarEntry{Name: "srv/data/seed", Body: "seed\n"},
	)
	dir := t.TempDir()
	buildImage(t, dir, ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Env:     []string{defaultPath},
			Cmd:     []string{"sh"},
			Volumes: map[string]struct{}{"/srv/data": {}},
		},
	}, base, extra)
	pushLayout(t, dir, "library/volimg:latest")
}

// anonymousVolumes lists the user's anonymous volumes.
func anonymousVolumes(t *testing.T, u *User) []string {
	t.Helper()
	return outLines(u.MustBox(t, "volume", "ls", "-q", "--filter", "label=com.docker.volume.anonymous").Stdout)
}

// newVolumes runs f and returns the anonymous volumes it left behind.
func newVolumes(t *testing.T, u *User, f func()) []string {
	t.Helper()
	before := anonymousVolumes(t, u)
	f()
	var made []string
	for _, v := range anonymousVolumes(t, u) {
		if !slices.Contains(before, v) {
			made = append(made, v)
		}
	}
	return made
}

// mountsOf returns a container's inspect Mounts.
func mountsOf(t *testing.T, u *User, name string) []map[string]any {
	t.Helper()
	r := u.MustBox(t, "inspect", "--type", "container", "-f", "{{json .Mounts}}", name)
	var ms []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &ms); err != nil {
		t.Fatalf("Mounts of %s: %v %s", name, err, r)
	}
	return ms
}

func TestVolumeCreateListInspectRemove(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		wantOut(t, u.MustBox(t, "volume", "create", "--label", "team=a", "--label", "solo", "vol-a"), "vol-a")
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", "vol-a") })
		// Creating a volume that exists returns it, as Docker does.
		wantOut(t, u.MustBox(t, "volume", "create", "vol-a"), "vol-a")
		gen := strings.TrimSpace(u.MustBox(t, "volume", "create").Stdout)
		if !volumeName.MatchString(gen) {
			t.Fatalf("volume create without a name printed %q, want 64 hex digits", gen)
		}

		rows := parseTable(t, u.MustBox(t, "volume", "ls").Stdout)
		if !slices.Equal(rows[0], []string{"DRIVER", "VOLUME NAME"}) {
			t.Fatalf("volume ls header: %v", rows[0])
		}
		if !slices.ContainsFunc(rows[1:], func(r []string) bool { return slices.Equal(r, []string{"local", "vol-a"}) }) ||
			!slices.ContainsFunc(rows[1:], func(r []string) bool { return slices.Equal(r, []string{"local", gen}) }) {
			t.Fatalf("volume ls rows: %v", rows)
		}
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "label=team=a"), "vol-a")
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "label=team=b"), "")
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "name=^vol-"), "vol-a")
		wantOut(t, u.MustBox(t, "volume", "list", "--filter", "name=^vol-a$", "--format", `{{.Name}}|{{.Driver}}|{{.Label "team"}}|{{.Labels}}|{{.Scope}}`),
			"vol-a|local|a|solo=,team=a|local")
		r := u.MustBox(t, "volume", "ls", "--format", "json", "--filter", "name=^vol-a$")
		var row map[string]string
		if err := json.Unmarshal([]byte(r.Stdout), &row); err != nil || row["Name"] != "vol-a" || row["Driver"] != "local" || row["Labels"] != "solo=,team=a" {
			t.Fatalf("volume ls --format json: %v %s", err, r)
		}
		// Neither is used by a container: both are dangling.
		if got := outLines(u.MustBox(t, "volume", "ls", "-q", "--filter", "dangling=false").Stdout); slices.Contains(got, "vol-a") {
			t.Fatalf("an unused volume is listed as used: %v", got)
		}

		r = u.MustBox(t, "volume", "inspect", "vol-a")
		var vs []map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &vs); err != nil || len(vs) != 1 {
			t.Fatalf("volume inspect JSON: %v %s", err, r)
		}
		v := vs[0]
		mp, _ := v["Mountpoint"].(string)
		if v["Name"] != "vol-a" || v["Driver"] != "local" || v["Scope"] != "local" ||
			!strings.HasSuffix(mp, "/volumes/vol-a/_data") || v["Labels"].(map[string]any)["team"] != "a" {
			t.Fatalf("volume inspect: %v", v)
		}
		for _, k := range []string{"CreatedAt", "Options"} {
			if _, ok := v[k]; !ok {
				t.Fatalf("volume inspect lacks %s: %v", k, v)
			}
		}
		if ts, err := time.Parse(time.RFC3339, v["CreatedAt"].(string)); err != nil || time.Since(ts) > time.Hour {
			t.Fatalf("CreatedAt %v: %v", v["CreatedAt"], err)
		}
		if st, err := os.Stat(mp); err != nil || !st.IsDir() {
			t.Fatalf("the mountpoint is not a directory on the host: %v", err)
		}
		wantOut(t, u.MustBox(t, "volume", "inspect", "-f", "{{.Name}} {{.Scope}}", "vol-a", gen), "vol-a local\n"+gen+" local")
		wantOut(t, u.MustBox(t, "volume", "inspect", "--format", "{{.Labels.team}}", "vol-a"), "a")
		// The generic inspect finds volumes too.
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.Mountpoint}}", "vol-a"), mp)
		r = u.Box(t, "volume", "inspect", "nosuch")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such volume: nosuch")

		for _, bad := range [][]string{
			{"volume", "create", "a"},
			{"volume", "create", "./rel"},
			{"volume", "create", "-o", "type=tmpfs", "opts"},
			{"volume", "create", "-d", "nfs", "drv"},
			{"volume", "ls", "--filter", "colour=red"},
		} {
			r := u.Box(t, bad...)
			if r.Code == 0 {
				t.Fatalf("box %v succeeded: %s", bad, r)
			}
			wantOneLineError(t, r)
		}
		wantCode(t, u.Box(t, "volume", "create", "one", "two"), 125)
		for _, name := range []string{"opts", "drv", "one", "two"} {
			if r := u.Box(t, "volume", "inspect", name); r.Code == 0 {
				t.Fatalf("a refused create left a volume %s", name)
			}
		}

		r = u.Box(t, "volume", "rm", "vol-a", "nosuch", gen)
		wantCode(t, r, 1)
		wantOut(t, r, "vol-a\n"+gen)
		wantOneLineError(t, r, "No such volume: nosuch")
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "name=^vol-a$"), "")
		if _, err := os.Stat(mp); err == nil {
			t.Fatalf("volume rm left the data directory %s", mp)
		}
		wantOut(t, u.MustBox(t, "volume", "rm", "-f", "nosuch"), "nosuch")

		r = u.MustBox(t, "volume")
		for _, sub := range []string{"create", "ls", "inspect", "rm", "prune"} {
			if !strings.Contains(r.Stdout, sub) {
				t.Fatalf("volume help does not mention %s: %s", sub, r)
			}
		}
	})
}

func TestVolumeDataPersistsAndCopyUp(t *testing.T) {
	pushVolumeImage(t)
	forEachUser(t, func(t *testing.T, u *User) {
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", "data", "app", "app2", "app3", "etc") })
		// Written in one container, read in the next.
		u.MustBox(t, "run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/f"), "kept")
		wantOut(t, u.MustBox(t, "run", "--rm", "--mount", "type=volume,source=data,target=/m", "busybox", "cat", "/m/f"), "kept")
		r := u.Box(t, "run", "--rm", "-v", "data:/data:ro", "busybox", "touch", "/data/x")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("a :ro volume was writable: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--mount", "type=volume,src=data,dst=/m,readonly", "busybox", "touch", "/m/x")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("a readonly --mount volume was writable: %s", r)
		}
		// On the host, what container root wrote belongs to whoever runs box.
		mp := strings.TrimSpace(u.MustBox(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "data").Stdout)
		b, err := os.ReadFile(filepath.Join(mp, "f"))
		if err != nil || string(b) != "kept\n" {
			t.Fatalf("the volume's file on the host: %q %v", b, err)
		}
		if st, err := os.Stat(filepath.Join(mp, "f")); err != nil || fileUID(st) != u.UID {
			t.Fatalf("the file container root wrote is owned by uid %d on the host, want %d (%v)", fileUID(st), u.UID, err)
		}

		// An empty volume mounted over an image directory gets its files,
		// owners and modes; in a single-id namespace every owner is root.
		owner := "1000"
		if u.Mode == "norange" {
			owner = "0"
		}
		r = u.MustBox(t, "run", "--rm", "-v", "app:/srv/app", "volimg", "sh", "-c", "cat /srv/app/conf; stat -c '%u %a' /srv/app/conf /srv/app; echo mine > /srv/app/added")
		wantOut(t, r, "from image\n"+owner+" 600\n"+owner+" 750")
		// Once it holds files, nothing is copied over them.
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "app:/srv/app", "volimg", "ls", "/srv/app"), "added\nconf")
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "data:/srv/app", "volimg", "ls", "/srv/app"), "f")
		// nocopy leaves a new volume empty.
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "app2:/srv/app:nocopy", "volimg", "ls", "-A", "/srv/app"), "")
		wantOut(t, u.MustBox(t, "run", "--rm", "--mount", "type=volume,source=app3,target=/srv/app,volume-nocopy", "volimg", "ls", "-A", "/srv/app"), "")
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "app3:/srv/app", "volimg", "ls", "-A", "/srv/app"), "conf")

		// A volume over /etc gets the image's /etc, with the container's
		// own /etc/hostname still mounted on top.
		r = u.MustBox(t, "run", "--rm", "--network", "none", "--hostname", "boxy", "-v", "etc:/etc", "busybox", "sh", "-c", "cat /etc/hostname; grep -c ^root: /etc/passwd")
		wantOut(t, r, "boxy\n1")

		// Bad names are refused before anything is made.
		for _, bad := range [][]string{
			{"-v", "./rel:/x"},
			{"-v", "x:/x"},
			{"-v", "-bad:/x"},
			{"--mount", "type=volume,source=a/b,target=/x"},
			{"--mount", "type=volume,source=ok-name,target=/x,volume-opt=o=size=1m"},
		} {
			r := u.Box(t, append(append([]string{"run", "--rm"}, bad...), "busybox", "true")...)
			wantCode(t, r, 125)
			wantOneLineError(t, r)
		}
		if r := u.Box(t, "volume", "inspect", "ok-name"); r.Code == 0 {
			t.Fatalf("a refused run created its volume")
		}
	})
}

func fileUID(st os.FileInfo) uint32 {
	if st == nil {
		return 1<<32 - 1
	}
	return st.Sys().(*syscall.Stat_t).Uid
}

func TestAnonymousVolumes(t *testing.T) {
	pushVolumeImage(t)
	forEachUser(t, func(t *testing.T, u *User) {
		// -v /path makes an anonymous volume that plain rm keeps.
		name := "anon-kept-" + u.Mode
		var id string
		made := newVolumes(t, u, func() {
			u.MustBox(t, "run", "--name", name, "-v", "/data", "busybox", "sh", "-c", "echo x > /data/f")
			id = strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.Id}}", name).Stdout)
		})
		t.Cleanup(func() { u.Box(t, "rm", "-f", "-v", name) })
		if len(made) != 1 || !volumeName.MatchString(made[0]) {
			t.Fatalf("run -v /data made anonymous volumes %v, want one with a 64-hex name", made)
		}
		vol := made[0]
		mp := strings.TrimSpace(u.MustBox(t, "volume", "inspect", "-f", "{{.Mountpoint}}", vol).Stdout)
		ms := mountsOf(t, u, name)
		if len(ms) != 1 || ms[0]["Type"] != "volume" || ms[0]["Name"] != vol || ms[0]["Source"] != mp ||
			ms[0]["Destination"] != "/data" || ms[0]["Driver"] != "local" || ms[0]["RW"] != true {
			t.Fatalf("inspect Mounts of a container with an anonymous volume: %v", ms)
		}
		// A volume a stopped container uses cannot go.
		r := u.Box(t, "volume", "rm", vol)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "remove "+vol+": volume is in use - ["+id+"]")
		r = u.Box(t, "volume", "rm", "-f", vol)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "volume is in use")
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "dangling=false", "--filter", "name="+vol), vol)
		u.MustBox(t, "rm", name)
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "dangling=true", "--filter", "name="+vol), vol)
		wantOut(t, u.MustBox(t, "volume", "rm", vol), vol)

		// rm -v takes the anonymous volumes and leaves named ones.
		name = "anon-rmv-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name); u.Box(t, "volume", "rm", "-f", "named-kept") })
		made = newVolumes(t, u, func() {
			u.MustBox(t, "run", "--name", name, "-v", "/data", "-v", "named-kept:/n", "busybox", "true")
		})
		if len(made) != 1 {
			t.Fatalf("want one anonymous volume, got %v", made)
		}
		wantOut(t, u.MustBox(t, "rm", "-v", name), name)
		if left := anonymousVolumes(t, u); slices.Contains(left, made[0]) {
			t.Fatalf("rm -v left the anonymous volume %s", made[0])
		}
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "name=^named-kept$"), "named-kept")

		// run --rm takes them too, in the foreground and detached, and the
		// image's VOLUME is one, filled from the image.
		if made := newVolumes(t, u, func() {
			wantOut(t, u.MustBox(t, "run", "--rm", "-v", "/data", "volimg", "cat", "/srv/data/seed"), "seed")
		}); len(made) != 0 {
			t.Fatalf("run --rm left anonymous volumes %v", made)
		}
		detached := "anon-detached-" + u.Mode
		if made := newVolumes(t, u, func() {
			id := strings.TrimSpace(u.MustBox(t, "run", "-d", "--rm", "--name", detached, "-v", "/data", "busybox", "true").Stdout)
			deadline := time.Now().Add(20 * time.Second)
			for strings.TrimSpace(u.MustBox(t, "ps", "-a", "-q", "--filter", "id="+id).Stdout) != "" {
				if time.Now().After(deadline) {
					t.Fatalf("the detached --rm container was not removed")
				}
				time.Sleep(50 * time.Millisecond)
			}
		}); len(made) != 0 {
			t.Fatalf("run -d --rm left anonymous volumes %v", made)
		}

		// An image VOLUME becomes an anonymous volume with the image's files.
		name = "image-volume-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", "-v", name) })
		made = newVolumes(t, u, func() {
			wantOut(t, u.MustBox(t, "run", "--name", name, "volimg", "cat", "/srv/data/seed"), "seed")
		})
		ms = mountsOf(t, u, name)
		if len(made) != 1 || len(ms) != 1 || ms[0]["Name"] != made[0] || ms[0]["Destination"] != "/srv/data" {
			t.Fatalf("image VOLUME: volumes %v, Mounts %v", made, ms)
		}
		u.MustBox(t, "rm", "-v", name)
		if left := anonymousVolumes(t, u); slices.Contains(left, made[0]) {
			t.Fatalf("rm -v left the image's anonymous volume")
		}
		// A named volume at the image's VOLUME replaces the anonymous one.
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", "seeded") })
		if made := newVolumes(t, u, func() {
			wantOut(t, u.MustBox(t, "run", "--rm", "-v", "seeded:/srv/data", "volimg", "cat", "/srv/data/seed"), "seed")
		}); len(made) != 0 {
			t.Fatalf("a named volume over the image's VOLUME still made %v", made)
		}
	})
}

func TestVolumesFrom(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := filepath.Join(tempDir, "volumes-from-"+u.Mode)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dir, 0o777)
		if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		src, user := "vf-src-"+u.Mode, "vf-user-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", "-v", src, user)
			u.Box(t, "volume", "rm", "-f", "vf-data")
		})
		made := newVolumes(t, u, func() {
			u.MustBox(t, "run", "--name", src, "-v", "vf-data:/data", "-v", dir+":/bind", "-v", "/anon", "busybox", "sh", "-c", "echo one > /data/f; echo two > /anon/g")
		})
		wantOut(t, u.MustBox(t, "run", "--rm", "--volumes-from", src, "busybox", "cat", "/data/f", "/anon/g", "/bind/in.txt"), "one\ntwo\nfrom host")
		r := u.Box(t, "run", "--rm", "--volumes-from", src+":ro", "busybox", "touch", "/data/x")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("--volumes-from :ro was writable: %s", r)
		}
		r = u.Box(t, "run", "--rm", "--volumes-from", src+":ro", "busybox", "touch", "/bind/x")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Fatalf("--volumes-from :ro left a bind mount writable: %s", r)
		}
		// The user's own mount wins at the same mount point.
		wantOut(t, u.MustBox(t, "run", "--rm", "--volumes-from", src, "--tmpfs", "/data", "busybox", "ls", "-A", "/data"), "")

		// Removing a container that borrowed an anonymous volume keeps it
		// for its owner.
		u.MustBox(t, "run", "--name", user, "--volumes-from", src, "busybox", "true")
		ms := mountsOf(t, u, user)
		if len(ms) != 3 {
			t.Fatalf("--volumes-from gave Mounts %v, want the two volumes and the bind", ms)
		}
		u.MustBox(t, "rm", "-v", user)
		if !slices.Contains(anonymousVolumes(t, u), made[0]) {
			t.Fatalf("rm -v of a container that borrowed %s removed it from its owner", made[0])
		}
		r = u.Box(t, "volume", "rm", "vf-data")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "volume is in use")

		for _, bad := range []string{"nosuch-" + u.Mode, src + ":rx"} {
			r = u.Box(t, "run", "--rm", "--volumes-from", bad, "busybox", "true")
			wantCode(t, r, 125)
			wantOneLineError(t, r)
		}
		u.MustBox(t, "rm", "-v", src)
		if slices.Contains(anonymousVolumes(t, u), made[0]) {
			t.Fatalf("rm -v of the owner left its anonymous volume")
		}
		wantOut(t, u.MustBox(t, "volume", "rm", "vf-data"), "vf-data")
	})
}

func TestVolumePrune(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		label := "prune=" + u.Mode
		scope := []string{"--filter", "label=" + label}
		u.MustBox(t, "volume", "create", "--label", label, "prune-named")
		dangling, inUse := "prune-dangling-"+u.Mode, "prune-in-use-"+u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", "-v", dangling, inUse)
			u.Box(t, "volume", "rm", "-f", "prune-named")
		})
		mount := "type=volume,target=/d,volume-label=" + label
		made := newVolumes(t, u, func() {
			u.MustBox(t, "run", "--name", dangling, "--mount", mount, "busybox", "sh", "-c", "echo 12345 > /d/f")
			u.MustBox(t, "run", "--name", inUse, "--mount", mount, "busybox", "true")
		})
		if len(made) != 2 {
			t.Fatalf("want two anonymous volumes, got %v", made)
		}
		danglingVol := mountsOf(t, u, dangling)[0]["Name"].(string)
		inUseVol := mountsOf(t, u, inUse)[0]["Name"].(string)
		u.MustBox(t, "rm", dangling)

		// Asked and refused: nothing goes.
		r := u.BoxIn(t, "n\n", append([]string{"volume", "prune"}, scope...)...)
		wantCode(t, r, 0)
		if !strings.Contains(r.Stderr, "Are you sure you want to continue? [y/N]") {
			t.Fatalf("prune without -f did not ask: %s", r)
		}
		wantOut(t, u.MustBox(t, append([]string{"volume", "ls", "-q"}, scope...)...), strings.Join(sortedStrings(danglingVol, inUseVol, "prune-named"), "\n"))

		// Without --all only unused anonymous volumes go, as in Docker.
		r = u.MustBox(t, append([]string{"volume", "prune", "-f"}, scope...)...)
		if r.Stdout != "Deleted Volumes:\n"+danglingVol+"\n\nTotal reclaimed space: 6B\n" {
			t.Fatalf("volume prune: %s", r)
		}
		wantOut(t, u.MustBox(t, append([]string{"volume", "ls", "-q"}, scope...)...), strings.Join(sortedStrings(inUseVol, "prune-named"), "\n"))
		r = u.MustBox(t, append([]string{"volume", "prune", "-f"}, scope...)...)
		if r.Stdout != "Total reclaimed space: 0B\n" {
			t.Fatalf("volume prune with nothing to do: %s", r)
		}
		r = u.MustBox(t, append([]string{"volume", "prune", "-f", "--all"}, scope...)...)
		if r.Stdout != "Deleted Volumes:\nprune-named\n\nTotal reclaimed space: 0B\n" {
			t.Fatalf("volume prune --all: %s", r)
		}
		wantOut(t, u.MustBox(t, append([]string{"volume", "ls", "-q"}, scope...)...), inUseVol)
		u.MustBox(t, "rm", "-v", inUse)
		wantOut(t, u.MustBox(t, append([]string{"volume", "ls", "-q"}, scope...)...), "")
		r = u.Box(t, "volume", "prune", "-f", "--filter", "dangling=true")
		if r.Code == 0 {
			t.Fatalf("volume prune took a filter other than label: %s", r)
		}
		wantOneLineError(t, r)
	})
}

func sortedStrings(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestVolumeConcurrentUse creates one volume from many invocations at once:
// all of them succeed, one volume results, and every container's write lands.
func TestVolumeConcurrentUse(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		const n = 6
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", "par-created", "par-run") })
		var wg sync.WaitGroup
		results := make(chan Result, 2*n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				results <- u.Box(t, "volume", "create", "par-created")
			}()
			go func() {
				defer wg.Done()
				results <- u.Box(t, "run", "--rm", "-v", "par-run:/d", "busybox", "sh", "-c", fmt.Sprintf("echo %d >> /d/log", i))
			}()
		}
		wg.Wait()
		close(results)
		for r := range results {
			if r.Code != 0 {
				t.Fatalf("a concurrent invocation failed: %s", r)
			}
		}
		wantOut(t, u.MustBox(t, "volume", "ls", "-q", "--filter", "name=^par-"), "par-created\npar-run")
		wantOut(t, u.MustBox(t, "run", "--rm", "-v", "par-run:/d", "busybox", "sh", "-c", "sort -n /d/log | tr '\\n' ' '"), "0 1 2 3 4 5")
	})
}
