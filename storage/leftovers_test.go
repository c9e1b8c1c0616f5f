package storage

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.podman.io/storage/pkg/lockfile"
)

// sweepMeta removes the backing store's old temporaries, and only those,
// and none while a writer holds the list's lock.
func TestSweepMeta(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-2 * metaGrace)
	files := map[string]time.Time{
		".tmp-images.json123": old, // a killed writer's: goes
		".tmp-images.json456": now, // a writer's at work: stays
		".tmp-layers.json789": old, // another list's: stays
		"images.json":         old, // the list itself: stays
	}
	for name, mtime := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("[]"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := lockfile.GetLockFile(filepath.Join(dir, "images.lock"))
	if err != nil {
		t.Fatal(err)
	}
	lock.Lock()
	sweepMeta(dir, "images", now)
	if _, err := os.Stat(filepath.Join(dir, ".tmp-images.json123")); err != nil {
		t.Fatalf("swept while the list's lock was held: %v", err)
	}
	lock.Unlock()
	sweepMeta(dir, "images", now)
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != (name == ".tmp-images.json123") {
			t.Errorf("%s: gone = %v", name, gone)
		}
	}
}
