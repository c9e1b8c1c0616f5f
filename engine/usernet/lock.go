package usernet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// lockMu keeps this process's callers of Lock apart: the lock itself is
// the process's, and does not exclude one goroutine from another.
var lockMu sync.Mutex

// Lock takes the holder's lock under runRoot, which orders a holder's
// start and end against the clients that reach it (see maybeEnd); unlock
// releases it, once.
//
// It is a POSIX record lock (fcntl F_SETLKW), not an flock: a record lock
// belongs to this process alone, so that a child forked while it is held
// does not hold it too, as it would hold an flock through the shared
// open file. A child that never reaches exec (CI once kept one of a
// killed `run`'s, stuck in a futex wait with the flock) would otherwise
// keep every later run or start on a network waiting for good. The price
// is that closing any descriptor of the file ends this process's lock:
// only Lock opens it, one caller at a time.
func Lock(runRoot string) (unlock func(), err error) {
	lockMu.Lock()
	f, err := os.OpenFile(filepath.Join(runRoot, LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		lockMu.Unlock()
		return nil, fmt.Errorf("network holder: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	for {
		if err = unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &lk); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		lockMu.Unlock()
		return nil, fmt.Errorf("network holder: lock %s: %w", f.Name(), err)
	}
	return sync.OnceFunc(func() {
		f.Close()
		lockMu.Unlock()
	}), nil
}
