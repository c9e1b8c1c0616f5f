package storage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.podman.io/storage/pkg/reexec"
	"go.podman.io/storage/pkg/stringid"
)

// TestMain lets the store re-execute the test binary for its chrooted
// helpers (layer untar), as box's main does.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// openTestStore opens a store of its own under the test's temporary
// directory. The store chowns layer files, which needs root; in CI a test
// that cannot run fails.
func openTestStore(t *testing.T, driver string) *Store {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test opens a real store and needs root")
		}
		t.Skip("needs root to open a real store")
	}
	dir := t.TempDir()
	s, err := Open(Options{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"), Driver: driver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = s.s.Shutdown(true) })
	return s
}

// importImage stores a one-layer image holding the given files.
func importImage(t *testing.T, s *Store, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	id, err := s.Import(context.Background(), &buf, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func forEachDriver(t *testing.T, f func(t *testing.T, s *Store)) {
	for _, driver := range []string{"overlay", "vfs"} {
		t.Run(driver, func(t *testing.T) { f(t, openTestStore(t, driver)) })
	}
}

func TestContainerLifecycle(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		c1 := stringid.GenerateRandomID()
		img := importImage(t, s, map[string]string{"keep": "k", "gone": "g", "edit": "old"})
		c, err := s.CreateContainer(c1, "first", img, ContainerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != c1 || c.Name != "first" || c.ImageID != img || c.Created.IsZero() {
			t.Fatalf("created %+v", c)
		}
		for _, key := range []string{c1, "first"} {
			if got, err := s.Container(key); err != nil || got.ID != c1 || got.Name != "first" {
				t.Fatalf("Container(%q) = %+v, %v", key, got, err)
			}
		}
		all, err := s.Containers()
		if err != nil || len(all) != 1 || all[0].ID != c1 {
			t.Fatalf("Containers() = %v, %v", all, err)
		}
		dir, err := s.ContainerDir(c1)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Fatalf("container directory %s: %v", dir, err)
		}

		if err := s.DeleteContainer(c1); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the container directory outlived its container: %v", err)
		}
		for name, err := range map[string]error{
			"Container":        second(s.Container(c1)),
			"ContainerDir":     second(s.ContainerDir(c1)),
			"DeleteContainer":  s.DeleteContainer(c1),
			"MountContainer":   second(s.MountContainer(c1)),
			"UnmountContainer": s.UnmountContainer(c1),
			"ContainerSize":    second(s.ContainerSize(c1)),
			"ContainerChanges": second(s.ContainerChanges(c1)),
			"ContainerDiff":    second(s.ContainerDiff(c1)),
			"RenameContainer":  s.RenameContainer(c1, "other"),
		} {
			if !errors.Is(err, ErrContainerUnknown) {
				t.Errorf("%s of a removed container: %v, want ErrContainerUnknown", name, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestContainerNames(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		a, b, c := stringid.GenerateRandomID(), stringid.GenerateRandomID(), stringid.GenerateRandomID()
		img := importImage(t, s, map[string]string{"f": "x"})
		if _, err := s.CreateContainer(a, "alpha", img, ContainerOptions{Volatile: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateContainer(b, "beta", img, ContainerOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateContainer(c, "alpha", img, ContainerOptions{})
		var inUse *NameInUseError
		if !errors.As(err, &inUse) || inUse.Name != "alpha" || inUse.ID != a || !errors.Is(err, ErrNameInUse) {
			t.Fatalf("create with a taken name: %v", err)
		}
		if _, err := s.Container(c); !errors.Is(err, ErrContainerUnknown) {
			t.Fatalf("a refused create left a container: %v", err)
		}

		// A taken name stays with its holder.
		err = s.RenameContainer(b, "alpha")
		if !errors.As(err, &inUse) || inUse.ID != a {
			t.Fatalf("rename to a taken name: %v", err)
		}
		if c, err := s.Container("alpha"); err != nil || c.ID != a {
			t.Fatalf("alpha now names %+v, %v", c, err)
		}
		// Renaming to its own name is no conflict.
		if err := s.RenameContainer(a, "alpha"); err != nil {
			t.Fatal(err)
		}
		if err := s.RenameContainer(b, "gamma"); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Container("gamma"); err != nil || c.ID != b || c.Name != "gamma" {
			t.Fatalf("gamma names %+v, %v", c, err)
		}
		if _, err := s.Container("beta"); !errors.Is(err, ErrContainerUnknown) {
			t.Fatalf("the old name still finds a container: %v", err)
		}
		// The freed name can be given again.
		if _, err := s.CreateContainer(c, "beta", img, ContainerOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMountForksNothing: a container's first mount in a new run root does
// not run the overlay driver's idmapped-mount test, which forks the
// process without exec (see noIDMappedCheck); the driver records every
// test it ran in the run root.
func TestMountForksNothing(t *testing.T) {
	s := openTestStore(t, "overlay")
	c := stringid.GenerateRandomID()
	img := importImage(t, s, map[string]string{"f": "x"})
	if _, err := s.CreateContainer(c, "idmap", img, ContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MountContainer(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.UnmountContainer(c) })
	recorded, _ := filepath.Glob(filepath.Join(s.RunRoot(), "overlay", "idmapped-lower-dir-*"))
	if len(recorded) != 0 {
		t.Fatalf("the mount ran the idmapped-mount test (it recorded %v)", recorded)
	}
}

func TestContainerMountAndChanges(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		c1 := stringid.GenerateRandomID()
		img := importImage(t, s, map[string]string{"keep": "k", "gone": "g", "edit": "old"})
		if _, err := s.CreateContainer(c1, "first", img, ContainerOptions{}); err != nil {
			t.Fatal(err)
		}
		root, err := s.MountContainer(c1)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(root, "keep")); err != nil || string(b) != "k" {
			t.Fatalf("the image's file in the rootfs: %q, %v", b, err)
		}
		// A second mount is counted, and one forced unmount clears both:
		// the engine relies on that after a monitor died with a mount.
		if again, err := s.MountContainer(c1); err != nil || again != root {
			t.Fatalf("second mount %q, %v", again, err)
		}
		if err := os.WriteFile(filepath.Join(root, "new"), []byte("0123456789"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "edit"), []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(root, "gone")); err != nil {
			t.Fatal(err)
		}
		if err := s.UnmountContainer(c1); err != nil {
			t.Fatal(err)
		}
		if n, err := s.s.Mounted(c1); err != nil || n != 0 {
			t.Fatalf("after a forced unmount the store counts %d mounts (%v)", n, err)
		}

		changes, err := s.ContainerChanges(c1)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []Change{{ChangeAdd, "/new"}, {ChangeModify, "/edit"}, {ChangeDelete, "/gone"}} {
			if !slices.Contains(changes, want) {
				t.Errorf("changes %v lack %v", changes, want)
			}
		}
		if slices.ContainsFunc(changes, func(c Change) bool { return c.Path == "/keep" }) {
			t.Errorf("changes %v list an untouched file", changes)
		}

		if n, err := s.ContainerSize(c1); err != nil || n < 10 {
			t.Fatalf("size %d, %v: want at least the 10 bytes written", n, err)
		}

		rc, err := s.ContainerDiff(c1)
		if err != nil {
			t.Fatal(err)
		}
		members := map[string]string{}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			members[h.Name] = string(b)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		if members["new"] != "0123456789" || members["edit"] != "new" {
			t.Errorf("diff members %v lack the written files", members)
		}
		if _, ok := members[".wh.gone"]; !ok {
			t.Errorf("diff members %v lack the deletion's whiteout", members)
		}
		if _, ok := members["keep"]; ok {
			t.Errorf("diff members %v hold an untouched file", members)
		}
	})
}

func TestImageMountCountAndWipe(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		c1 := stringid.GenerateRandomID()
		img := importImage(t, s, map[string]string{"f": "image"})
		importImage(t, s, map[string]string{"g": "other"})
		if n, err := s.ImageCount(); err != nil || n != 2 {
			t.Fatalf("ImageCount() = %d, %v", n, err)
		}
		dir, err := s.MountImage(img)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "image" {
			t.Fatalf("image file: %q, %v", b, err)
		}
		if err := s.UnmountImage(img); err != nil {
			t.Fatal(err)
		}
		if st, err := s.DriverStatus(); err != nil || (s.Driver() == "overlay" && len(st) == 0) {
			t.Fatalf("DriverStatus() = %v, %v", st, err)
		}

		if _, err := s.CreateContainer(c1, "first", img, ContainerOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Wipe(); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ImageCount(); err != nil || n != 0 {
			t.Fatalf("after Wipe ImageCount() = %d, %v", n, err)
		}
		if all, err := s.Containers(); err != nil || len(all) != 0 {
			t.Fatalf("after Wipe Containers() = %v, %v", all, err)
		}
	})
}
