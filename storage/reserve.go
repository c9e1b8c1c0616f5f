package storage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// The store keeps a small file of preallocated space, its reserve, for
// the one moment a full disk would otherwise be final: every removal
// rewrites a metadata file (the image list, the layer list) through a
// new copy before it frees anything, and a container that filled the
// disk leaves no room for that copy. A removal that fails for want of
// space drops the reserve and tries again; the next Open with room to
// spare makes it anew.
const (
	reserveName = "reserve"
	reserveSize = 1 << 20
	// reserveSpare is the free space below which no reserve is made:
	// taking the last megabyte would cause the shortage it is for.
	reserveSpare = 16 << 20
)

func (s *Store) reservePath() string { return filepath.Join(s.s.GraphRoot(), reserveName) }

// keepReserve makes the reserve when it is missing and the disk has room.
// It costs one stat when the reserve is there; failures are ignored (a
// store without a reserve works, it only recovers less well).
func (s *Store) keepReserve() {
	path := s.reservePath()
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return
	}
	var st unix.Statfs_t
	if unix.Statfs(s.s.GraphRoot(), &st) != nil || int64(st.Bavail)*int64(st.Bsize) < reserveSpare {
		return
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, reserveSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
}

// useReserve frees the reserve when err is a full disk, and reports
// whether it did, so that the caller may try once more.
func (s *Store) useReserve(err error) bool {
	return errors.Is(err, syscall.ENOSPC) && os.Remove(s.reservePath()) == nil
}
