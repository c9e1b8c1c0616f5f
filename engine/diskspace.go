package engine

import (
	"fmt"
	"syscall"

	units "github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// minRoom is the free space below which box makes no new container: the
// store rewrites its layer and container lists whole for each one, and a
// store that runs out halfway through leaves a half-made layer behind and
// logs its recovery on top of the error.
const minRoom = 256 << 10

// NoRoomError is a store whose disk is (nearly) full.
type NoRoomError struct {
	Dir  string
	Free int64
}

func (e *NoRoomError) Error() string {
	return fmt.Sprintf("no space left on device: %s has %s free", e.Dir, units.BytesSize(float64(e.Free)))
}

// Hint says how to make room.
func (e *NoRoomError) Hint() string {
	return "remove containers (box rm, box container prune) or images (box rmi, box image prune) to make room"
}

func (e *NoRoomError) Unwrap() error { return syscall.ENOSPC }

// checkRoom fails with a *NoRoomError when dir's filesystem is nearly full.
func checkRoom(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return nil // the store itself will say what is wrong
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < minRoom {
		return &NoRoomError{Dir: dir, Free: free}
	}
	return nil
}
