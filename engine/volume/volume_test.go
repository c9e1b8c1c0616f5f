package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"ab", "data", "my_vol.1-x", "0a", "A9"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "-ab", "_ab", ".ab", "a/b", "./rel", "a b", "a:b", "~/x"} {
		var ne *NameError
		if err := CheckName(bad); !errors.As(err, &ne) {
			t.Errorf("%q accepted", bad)
		}
	}
	if len(NewName()) != 64 || CheckName(NewName()) != nil || NewName() == NewName() {
		t.Fatal("generated names are not 64 distinct hex digits")
	}
}

func TestCreateGetListRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, created, err := s.Create("data", map[string]string{"k": "v"}, nil)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if st, err := os.Stat(v.Mountpoint); err != nil || !st.IsDir() || filepath.Base(v.Mountpoint) != "_data" {
		t.Fatalf("mountpoint %s: %v", v.Mountpoint, err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Creating it again returns the volume that exists, labels unchanged.
	again, created, err := s.Create("data", nil, nil)
	if err != nil || created || again.Labels["k"] != "v" {
		t.Fatalf("second create: %+v %v %v", again, created, err)
	}
	if _, _, err := s.Create("b", nil, nil); err == nil {
		t.Fatal("a one-character name was accepted")
	}
	if _, _, err := s.Create("other", map[string]string{AnonymousLabel: ""}, nil); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Name != "data" || list[1].Name != "other" || !list[1].Anonymous() || list[0].Anonymous() {
		t.Fatalf("list: %+v %v", list, err)
	}
	if n := s.Size(list[0]); n != 5 {
		t.Fatalf("size %d, want 5", n)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNoSuchVolume) {
		t.Fatalf("get of a missing volume: %v", err)
	}
	s.Lock()
	err = s.Remove("data")
	s.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("data"); !errors.Is(err, ErrNoSuchVolume) {
		t.Fatalf("removed volume still there: %v", err)
	}
	if err := s.Remove("data"); !errors.Is(err, ErrNoSuchVolume) {
		t.Fatalf("second remove: %v", err)
	}
	// What a killed box left mid-way goes with RemoveLeftovers.
	for _, d := range []string{".new-123", ".gone-456/data/_data"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveLeftovers(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(filepath.Dir(v.Mountpoint), ".."))
	for _, e := range entries {
		if e.Name() != "other" && e.Name() != lockName {
			t.Errorf("left behind in the volumes directory: %s", e.Name())
		}
	}
}

func TestConcurrentCreate(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	made := make(chan bool, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, created, err := s.Create("shared", nil, nil)
			if err != nil {
				t.Error(err)
			}
			made <- created
		}()
	}
	wg.Wait()
	close(made)
	n := 0
	for c := range made {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d creators say they made the volume, want 1", n)
	}
}

func TestCopyUp(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f"), []byte("image file"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/f", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	v, _, err := s.Create("data", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := s.CopyUp(v, src)
	if err != nil || !copied {
		t.Fatalf("copy-up: %v %v", copied, err)
	}
	if b, err := os.ReadFile(filepath.Join(v.Mountpoint, "link")); err != nil || string(b) != "image file" {
		t.Fatalf("copied content: %q %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(v.Mountpoint, "sub", "f")); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode not kept: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(v.Mountpoint); err != nil || st.Mode().Perm() != 0o777 || st.Mode()&os.ModeSticky == 0 {
		t.Fatalf("the volume's root did not take the directory's mode: %v %v", st.Mode(), err)
	}
	// A volume with content is never copied into again.
	if err := os.WriteFile(filepath.Join(src, "new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if copied, err := s.CopyUp(v, src); err != nil || copied {
		t.Fatalf("copy-up into a volume with content: %v %v", copied, err)
	}
	if _, err := os.Stat(filepath.Join(v.Mountpoint, "new")); err == nil {
		t.Fatal("copy-up wrote into a volume that had content")
	}
	// Nothing to copy from a path the image lacks.
	w, _, _ := s.Create("empty", nil, nil)
	if copied, err := s.CopyUp(w, filepath.Join(src, "missing")); err != nil || copied {
		t.Fatalf("copy-up from a missing directory: %v %v", copied, err)
	}
}

// TestParseOptions: the local driver's options bind an existing
// absolute directory; everything that would mount a filesystem is
// refused by name.
func TestParseOptions(t *testing.T) {
	dir := t.TempDir()
	got, err := ParseOptions([]string{"type=none", "o=bind,ro", "device=" + dir + "/."})
	if err != nil || got["device"] != dir || got["o"] != "bind,ro" {
		t.Fatalf("bind options: %v, %v", got, err)
	}
	if v := (&Volume{Options: got}); !v.ReadOnly() || v.mountpoint("/x") != dir {
		t.Errorf("read-only %v mountpoint %q", v.ReadOnly(), v.mountpoint("/x"))
	}
	if got, err := ParseOptions(nil); got != nil || err != nil {
		t.Errorf("no options: %v, %v", got, err)
	}
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{[]string{"type=tmpfs", "device=tmpfs", "o=size=1m"}, "type=tmpfs: box's local volumes mount no filesystems"},
		{[]string{"type=nfs", "o=addr=1.2.3.4", "device=:/x"}, "type=nfs"},
		{[]string{"o=bind"}, "needs device=DIR"},
		{[]string{"o=bind", "device=rel"}, "must be an absolute path"},
		{[]string{"o=bind", "device=" + dir + "/missing"}, "no such directory"},
		{[]string{"device=" + dir}, "take type=none,o=bind,device=DIR"},
		{[]string{"o=bind,size=1m", "device=" + dir}, "bind mount options only"},
		{[]string{"colour=red"}, `invalid option key: "colour"`},
		{[]string{"novalue"}, "want KEY=VALUE"},
	} {
		if _, err := ParseOptions(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.opts, err, tc.want)
		}
	}
}
