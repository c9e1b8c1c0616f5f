package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Who may mount a container's layers.
//
// A container's rootfs is an overlay mount of its layer, and one layer
// must be mounted by one process at a time: two mounts of one upper
// directory (in two mount namespaces, as two rootless invocations have)
// are undefined behaviour for the kernel, and the store's unmount renames
// an empty directory over "merged", which detaches that mount in every
// namespace, so a `cp` that ended took a starting container's files from
// under it. Hence a lock per container, an flock of a file in the run
// root named by the container's id, held by whoever holds its mount, for
// as long as the mount exists:
//
//   - run and start take it before they mount, and hand it to the
//     monitor with the mount (the monitor inherits the descriptor), which
//     holds it until it has unmounted: across restarts too;
//   - cp, export, diff and commit of a container that is not running
//     hold it while they read or write its layers.
//
// Whoever finds the lock held looks at the container again: running under
// its monitor, its files are the monitor's to give (cp, export) and it is
// not started twice (start); else the holder is about to let go.
//
// Why a lock and not reading the layer without mounting: cp writes into
// stopped containers too, and reading overlay's lower and upper
// directories by hand would re-implement whiteouts and opaque directories
// that the kernel already gets right. Why flock: a process that dies
// releases it, as its mount namespace goes with it; and it is keyed by id
// in the run root, not kept in the container's directory, because `run
// -d` spawns the monitor (which must inherit it) before the container,
// and so its directory, exists.
func (e *Engine) mountLockPath(id string) string {
	return filepath.Join(e.runRoot, "mounts", id+".lock")
}

// tryLockMount takes container id's mount lock if it is free; nil, nil
// when another process holds it. Closing the file releases the lock once
// every process that inherited it has closed it too.
func (e *Engine) tryLockMount(id string) (*os.File, error) {
	p := e.mountLockPath(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("mount lock: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mount lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, nil
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mount lock: %w", err)
	}
	return f, nil
}

// lockMount waits for container id's mount lock and returns it held, or
// returns nil, nil as soon as elsewhere says the container's mount is
// someone else's to keep (it runs under its monitor). elsewhere is asked
// each time the lock is found held. flock cannot wait for "free, or the
// container started", so the wait polls, briefly: a holder that is not a
// monitor lets go within one cp or start.
func (e *Engine) lockMount(id string, elsewhere func() (bool, error)) (*os.File, error) {
	delay := 2 * time.Millisecond
	for {
		f, err := e.tryLockMount(id)
		if f != nil || err != nil {
			return f, err
		}
		if away, err := elsewhere(); away || err != nil {
			return nil, err
		}
		time.Sleep(delay)
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// removeMountLock removes a removed container's lock file.
func (e *Engine) removeMountLock(id string) {
	_ = os.Remove(e.mountLockPath(id))
}

// reload reads container id afresh from the store and its record.
func (e *Engine) reload(id string) (*Container, error) {
	sc, err := e.Store.Container(id)
	if err != nil {
		return nil, err
	}
	c, _ := e.describe(sc)
	return c, nil
}

// runsUnderMonitor says whether container id runs (or restarts) under a
// live monitor, which then holds its mount.
func (e *Engine) runsUnderMonitor(id string) (bool, error) {
	c, err := e.reload(id)
	if err != nil {
		return false, err
	}
	return (c.State == Running || c.State == Restarting) && c.monitor.alive(), nil
}

// holdLayers takes container id's mount lock for diff and commit, which
// read its layer through the store (and the store may mount it to do
// so), unless it runs under its monitor: then they read it as it runs,
// without the lock. The returned release is never nil.
func (e *Engine) holdLayers(id string) (release func(), err error) {
	f, err := e.lockMount(id, func() (bool, error) { return e.runsUnderMonitor(id) })
	if err != nil || f == nil {
		return func() {}, err
	}
	return func() { f.Close() }, nil
}
