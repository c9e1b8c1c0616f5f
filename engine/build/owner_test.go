package build

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveOwner(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nstaff:x:50:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec     string
		uid, gid int
		bad      bool
	}{
		{spec: "10", uid: 10, gid: 10},
		{spec: "10:20", uid: 10, gid: 20},
		{spec: "app", uid: 1001, gid: 1002},
		{spec: "app:staff", uid: 1001, gid: 50},
		{spec: "0:staff", uid: 0, gid: 50},
		{spec: "nobody", bad: true},
		{spec: "app:nogroup", bad: true},
	} {
		uid, gid, err := resolveOwner(root, c.spec)
		if c.bad {
			if err == nil {
				t.Errorf("%s: want an error", c.spec)
			}
			continue
		}
		if err != nil || uid != c.uid || gid != c.gid {
			t.Errorf("%s: got %d:%d %v, want %d:%d", c.spec, uid, gid, err, c.uid, c.gid)
		}
	}
	if _, _, err := resolveOwner("", "app"); err == nil {
		t.Error("a name needs an image with /etc/passwd")
	}
}
