package storage

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.podman.io/storage/pkg/lockfile"
	"golang.org/x/sys/unix"
)

// What a killed writer leaves behind, and how the next box finds it. Every
// writer that makes a temporary file or directory in the store holds an
// flock on it (or on its .lock companion) for as long as it runs, and the
// kernel drops that lock when the writer dies, however it dies. So a
// temporary whose lock can be taken, and that is older than the moment
// between its creation and its locking (tempGrace), is a dead writer's and
// goes; one whose writer still runs stays. Open sweeps on every start:
// that is one read of each of three directories that are nearly always
// empty. The backing store's own temporaries (.tmp-images.json… beside
// its lists) are written under its locks: they are swept at most once per
// sweepEvery, when older than metaGrace and the list's lock is free.
const (
	tempGrace  = 2 * time.Second
	metaGrace  = 10 * time.Minute
	sweepEvery = 10 * time.Minute
)

// tempDir holds the store's locked temporary files (TempFile).
func (s *Store) tempDir() string { return filepath.Join(s.s.GraphRoot(), "tmp") }

// writerDirs are the directories of locked temporary directories
// (pullTemp): pulls', loads' and saves', and other commands' (WorkDir).
func (s *Store) writerDirs() []string {
	return []string{filepath.Join(s.s.GraphRoot(), "pull-tmp"), filepath.Join(s.s.GraphRoot(), "load-tmp"), s.workDirs()}
}

func (s *Store) workDirs() string { return filepath.Join(s.s.GraphRoot(), "work-tmp") }

// WorkDir makes a directory in the store (on the store's disk) for one
// command's temporaries, such as a build's contexts, downloads, clones
// and heredocs, locked as a pull's is: while the command runs no other
// box removes it; once the command has gone, killed or not, the next box
// does. release removes it.
func (s *Store) WorkDir() (dir string, release func(), err error) {
	t, err := newPullTemp(s.workDirs(), "work-")
	if err != nil {
		return "", nil, fmt.Errorf("make a working directory in the store: %w", err)
	}
	return t.dir, t.remove, nil
}

// TempFile makes a temporary file in the store (on the store's disk,
// where what it holds is going), named after pattern as os.CreateTemp
// does, and locked until it is closed: while it is open no other box
// removes it; once its writer is gone, killed or not, the next box does.
// The caller closes and removes it.
func (s *Store) TempFile(pattern string) (*os.File, error) {
	if err := os.MkdirAll(s.tempDir(), 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tempDir(), pattern)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// sweepLeftovers removes what killed writers left; see above.
func (s *Store) sweepLeftovers() {
	now := time.Now()
	if entries, err := os.ReadDir(s.tempDir()); err == nil {
		for _, e := range entries {
			if e.Name() == sweepStamp {
				continue
			}
			// Only files: TempFile makes nothing else here, and a
			// directory's lock, if any, is not its own.
			path := filepath.Join(s.tempDir(), e.Name())
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > tempGrace && unlocked(path) {
				_ = os.Remove(path)
			}
		}
	}
	for _, dir := range s.writerDirs() {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			removeStalePullDirs(dir)
		}
	}
	// The stamp lives beside the lists, not in tmp: tmp holds only what
	// some command is writing (or a killed one left).
	stamp := filepath.Join(s.s.GraphRoot(), sweepStamp)
	if info, err := os.Stat(stamp); err == nil && now.Sub(info.ModTime()) < sweepEvery {
		return
	}
	if f, err := os.Create(stamp); err == nil {
		f.Close()
	}
	driver := s.s.GraphDriverName()
	for _, kind := range []string{"images", "layers", "containers"} {
		sweepMeta(filepath.Join(s.s.GraphRoot(), driver+"-"+kind), kind, now)
	}
}

const sweepStamp = "box-leftovers-swept"

// sweepMeta removes the backing store's temporaries of its kind list
// ("images": .tmp-images.json…) in dir that are older than metaGrace,
// holding the list's lock so that no writer is at work on them.
func sweepMeta(dir, kind string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var stale []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".tmp-"+kind+".json") {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > metaGrace {
			stale = append(stale, filepath.Join(dir, e.Name()))
		}
	}
	if len(stale) == 0 {
		return
	}
	lock, err := lockfile.GetLockFile(filepath.Join(dir, kind+".lock"))
	if err != nil || lock.TryLock() != nil {
		return
	}
	defer lock.Unlock()
	for _, p := range stale {
		_ = os.Remove(p)
	}
}

// unlocked says whether path's flock can be taken, that is, whether no
// live writer holds it.
func unlocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}

// liveWriters says whether a pull, load or other writer of the store runs
// now: one of their locks is held. Layers that no image uses yet may be
// theirs.
func (s *Store) liveWriters() bool {
	if entries, err := os.ReadDir(s.tempDir()); err == nil {
		for _, e := range entries {
			if e.Name() != sweepStamp && !e.IsDir() && !unlocked(filepath.Join(s.tempDir(), e.Name())) {
				return true
			}
		}
	}
	for _, dir := range s.writerDirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".lock") && !unlocked(filepath.Join(dir, e.Name())) {
				return true
			}
		}
	}
	return false
}

// leftoverSize is what the store's temporaries hold now, for `system df`.
func (s *Store) leftoverSize() int64 {
	var n int64
	for _, dir := range append([]string{s.tempDir()}, s.writerDirs()...) {
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // gone meanwhile, or not there at all
			}
			if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
				n += info.Size()
			}
			return nil
		})
	}
	return n
}
