package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	units "github.com/docker/go-units"
)

// smallStore mounts a tmpfs of size bytes, owned by u, and returns u with
// its store there: rootful through --root and --runroot, rootless through
// XDG_DATA_HOME (the run state stays in XDG_RUNTIME_DIR, off the disk).
// The tmpfs goes at the end of the test with whatever is on it.
func smallStore(t *testing.T, u *User, size int64) *User {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "small-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("size=%d,mode=0700,uid=%d,gid=%d", size, u.UID, u.GID)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Fatalf("mount a tmpfs for a small store: %v", err)
	}
	fu := *u
	if u.StoreRoot != "" {
		fu.StoreRoot, fu.StoreRunRoot = filepath.Join(dir, "root"), filepath.Join(dir, "run")
	} else {
		fu.DataDir = dir
	}
	t.Cleanup(func() {
		for _, id := range outLines(fu.Box(t, "ps", "-a", "-q").Stdout) {
			fu.Box(t, "rm", "-f", id)
		}
		unmountUnder(dir)
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the small store: %v", err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return &fu
}

// storeDir is the directory u's store lives in.
func (u *User) storeDir() string {
	if u.StoreRoot != "" {
		return u.StoreRoot
	}
	return filepath.Join(u.DataDir, "box", "storage")
}

// fill runs a container that writes 50 MB to a 20 MB store, then checks
// the disk is full.
func fill(t *testing.T, u *User, name string) {
	t.Helper()
	r := u.Box(t, "run", "--name", name, "busybox", "sh", "-c",
		"dd if=/dev/zero of=/f bs=1M count=50; dd if=/dev/zero of=/g bs=4k count=1000")
	if r.Code == 0 {
		t.Fatalf("writing 50 MB to a 20 MB store should fail: %s", r)
	}
	if free := freeBytes(t, u.storeDir()); free > 64<<10 {
		t.Fatalf("the store's disk still has %d bytes free", free)
	}
}

// TestDiskFullDeletesFree fills a small store with a container's file,
// then each way of deleting it works and gives the space back.
func TestDiskFullDeletesFree(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u = smallStore(t, u, 20<<20)
		u.MustBox(t, "pull", "-q", "busybox")
		for _, verb := range [][]string{
			{"rm", "fill"},
			{"rm", "-f", "fill"},
			{"container", "prune", "-f"},
			{"system", "prune", "-f"},
		} {
			fill(t, u, "fill")
			r := u.Box(t, verb...)
			if r.Code != 0 {
				t.Fatalf("box %s on a full disk: %s", strings.Join(verb, " "), r)
			}
			if free := freeBytes(t, u.storeDir()); free < 10<<20 {
				t.Fatalf("box %s freed only up to %d bytes", strings.Join(verb, " "), free)
			}
			if out := u.MustBox(t, "ps", "-a", "-q").Stdout; out != "" {
				t.Fatalf("box %s left %q", strings.Join(verb, " "), out)
			}
		}
		// rmi -f of the image a full container uses, then the container.
		fill(t, u, "fill")
		u.MustBox(t, "rmi", "-f", "busybox")
		u.MustBox(t, "rm", "fill")
		if free := freeBytes(t, u.storeDir()); free < 15<<20 {
			t.Fatalf("rmi -f and rm freed only up to %d bytes", free)
		}
		// And reset, which says it did its job.
		u.MustBox(t, "pull", "-q", "busybox")
		fill(t, u, "fill")
		u.MustBox(t, "system", "reset", "-f")
		if out := u.MustBox(t, "images", "-q").Stdout; out != "" {
			t.Fatalf("reset left images: %q", out)
		}
	})
}

// TestRunKilledEarlyLeavesNoHalfContainer kills `run -d` at random
// points of its first 100 ms: whatever it leaves, every container `ps -a`
// shows can be inspected, started and removed, and the store keeps no
// container that `ps -a` does not show.
func TestRunKilledEarlyLeavesNoHalfContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		for i := 0; i < 20; i++ {
			cmd := u.BoxCmd("run", "-d", "--name", fmt.Sprintf("k%d", i), "busybox", "sleep", "1000")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The kill point, not a wait for anything: 0 to 100 ms in.
			time.Sleep(time.Duration(rand.Intn(100)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
		// A name is never held by a container nobody can see: either the
		// run takes it or the holder can be inspected.
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("k%d", i)
			if r := u.Box(t, "run", "-d", "--name", name, "busybox", "sleep", "1000"); r.Code != 0 {
				wantOneLineError(t, r, "is already in use")
				u.MustBox(t, "inspect", "--format", "{{.Name}}", name)
			}
		}
		ids := outLines(u.MustBox(t, "ps", "-a", "-q", "--no-trunc").Stdout)
		store := filepath.Join(u.storeDir(), "overlay-containers")
		entries, err := os.ReadDir(store)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		var kept []string
		for _, e := range entries {
			if e.IsDir() {
				kept = append(kept, e.Name())
			}
		}
		if len(kept) != len(ids) {
			t.Fatalf("ps -a shows %d containers, the store holds %d: %v vs %v", len(ids), len(kept), ids, kept)
		}
		for _, id := range ids {
			u.MustBox(t, "inspect", "--format", "{{.State.Status}}", id)
			if st := strings.TrimSpace(u.MustBox(t, "inspect", "--format", "{{.State.Status}}", id).Stdout); st == "created" {
				u.MustBox(t, "start", id)
			}
			u.MustBox(t, "rm", "-f", id)
		}
		if out := u.MustBox(t, "ps", "-a", "-q").Stdout; out != "" {
			t.Fatalf("rm -f left %q", out)
		}
	})
}

// dfImages is the Images row of `system df`: its size and what is
// reclaimable, in bytes.
func dfImages(t *testing.T, s *pullStore) (size, reclaimable int64) {
	t.Helper()
	out := s.must(t, "system", "df", "--format", "{{.Type}}|{{.Size}}|{{.Reclaimable}}").Stdout
	for _, l := range outLines(out) {
		f := strings.Split(l, "|")
		if len(f) != 3 || f[0] != "Images" {
			continue
		}
		var err error
		if size, err = units.FromHumanSize(f[1]); err != nil {
			t.Fatalf("system df size %q: %v", f[1], err)
		}
		rec, _, _ := strings.Cut(f[2], " ")
		if reclaimable, err = units.FromHumanSize(rec); err != nil {
			t.Fatalf("system df reclaimable %q: %v", f[2], err)
		}
		return size, reclaimable
	}
	t.Fatalf("no Images row in system df: %q", out)
	return 0, 0
}

// commitTemps lists the commit temporaries in the store at root, with
// their total size.
func commitTemps(t *testing.T, root string) ([]string, int64) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(root, "tmp", "commit-*.tar"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range names {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return names, n
}

// TestKilledCommitTempIsCountedAndCleaned: a commit killed while it holds
// a container's changes in a temporary file leaves it; `system df`
// counts it, and the next box removes it.
func TestKilledCommitTempIsCountedAndCleaned(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newPullStore(t, u)
		s.must(t, "pull", "-q", "busybox")
		s.must(t, "run", "--name", "big", "busybox", "dd", "if=/dev/urandom", "of=/big", "bs=1M", "count=60")
		before, _ := dfImages(t, s)

		cmd := s.cmd("commit", "big", "big:img")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "commit's temporary file", 60*time.Second, func() (bool, string) {
			names, n := commitTemps(t, s.root)
			return n > 1<<20, fmt.Sprintf("%v, %d bytes", names, n)
		})
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		names, left := commitTemps(t, s.root)
		if len(names) == 0 {
			t.Fatal("the killed commit left no temporary file: the test did not reproduce the fault")
		}
		// Counted, as reclaimable, until it goes.
		if size, rec := dfImages(t, s); size < before+left*9/10 || rec < left*9/10 {
			t.Fatalf("system df shows %d bytes (%d reclaimable), want the %d of the image and the %d left by the commit", size, rec, before, left)
		}
		// The next box removes it (once it is a moment old).
		waitFor(t, "the next box to remove the temporary file", 30*time.Second, func() (bool, string) {
			s.must(t, "container", "ls", "-a", "-q")
			names, _ := commitTemps(t, s.root)
			return len(names) == 0, fmt.Sprint(names)
		})
		if size, _ := dfImages(t, s); size > before+before/10 {
			t.Fatalf("system df shows %d bytes after the cleanup, want about %d", size, before)
		}
		// A commit that runs keeps its file: this one completes.
		s.must(t, "commit", "big", "big:img")
	})
}

// TestKilledPullLayersReclaimable: a pull killed once it has stored some
// layers leaves them with no image; `system df` counts them as
// reclaimable and `image prune -a` removes them.
func TestKilledPullLayersReclaimable(t *testing.T) {
	base := pullBusyboxLayer(t)
	forEachUser(t, func(t *testing.T, u *User) {
		repo := "spacetest/killed-" + u.Mode + "-" + pullUnique(t)
		payload := make([]byte, 6<<20)
		rand.Read(payload)
		big := pullTarLayer(t, "gzip", tarEntry{Name: "payload", Body: string(payload)})
		dir := t.TempDir()
		pullWriteImage(t, dir, []string{"true"}, base, pullTarLayer(t, "gzip", tarEntry{Name: "a", Body: "a\n"}), big)
		pushLayout(t, dir, repo+":latest")

		// Through a throttle, so that the pull can be caught between its
		// first stored layer and its image.
		slow := pullThrottle(t, registryAddr, 2<<20)
		s := newPullStore(t, u)
		cmd := s.cmd("pull", "-q", slow+"/"+repo)
		cmd.Env = append(cmd.Env, "CONTAINERS_REGISTRIES_CONF="+pullRegistriesConf(t, slow))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		layers := filepath.Join(s.root, "overlay-layers", "layers.json")
		// A layer is recorded before its contents are written, marked
		// incomplete until they are; killed then, it is not a stored layer
		// (the next box deletes it), so wait for one that is whole.
		waitFor(t, "the pull to store a layer", 60*time.Second, func() (bool, string) {
			b, _ := os.ReadFile(layers)
			var list []struct {
				DiffDigest string         `json:"diff-digest"`
				Flags      map[string]any `json:"flags"`
			}
			_ = json.Unmarshal(b, &list)
			for _, l := range list {
				if l.DiffDigest != "" && l.Flags["incomplete"] != true {
					return true, string(b)
				}
			}
			return false, string(b)
		})
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		atKill, _ := os.ReadFile(layers)

		if imgs := s.images(t); len(imgs) != 0 {
			t.Fatalf("the pull completed before it was killed (%q): the throttle is too fast", imgs)
		}
		size, rec := dfImages(t, s)
		if size < 512<<10 {
			now, _ := os.ReadFile(layers)
			t.Fatalf("system df shows %d bytes for the killed pull's layers; layers.json when killed: %s; now: %s", size, atKill, now)
		}
		if rec != size {
			t.Fatalf("system df: %d bytes, %d reclaimable; the orphaned layers are all reclaimable", size, rec)
		}
		s.must(t, "image", "prune", "-a", "-f")
		if size, _ := dfImages(t, s); size != 0 {
			t.Fatalf("image prune -a left %d bytes", size)
		}
		if b, _ := os.ReadFile(layers); strings.Contains(string(b), `"id"`) {
			t.Fatalf("image prune -a left layers: %s", b)
		}
		// The store still works: the image comes whole.
		s.must(t, "pull", "-q", repo)
	})
}
