package engine

import (
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// userMounts are the volumes and bind mounts a container asked for, from
// its spec: not the files box itself binds in from the container's
// directory (hosts, resolv.conf, hostname), /sys, nor box's init.
func userMounts(sp *specs.Spec, dir string, withInit bool) []specs.Mount {
	var out []specs.Mount
	for _, m := range sp.Mounts {
		if m.Type != "bind" || strings.HasPrefix(m.Source, dir) || m.Destination == "/sys" ||
			withInit && (m.Destination == InitPath || strings.HasPrefix(m.Destination, initLibDir+"/")) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// withMounts shows a stopped container's volumes and bind mounts in its
// mounted rootfs, as Docker mounts them for `cp`: a copy into /data,
// where a volume is, must reach the volume, not the rootfs under it.
//
// The mounts are made in a mount namespace of a thread of their own,
// which lives until release: nothing shows in the invocation's namespace
// (for root that is the host's), and nothing is left behind when box
// dies. The returned directory (O_PATH) is the rootfs as that namespace
// has it; lookups beneath it cross into the mounts from any thread,
// since a file descriptor carries its mount. release closes it and ends
// the namespace, before the caller unmounts the rootfs.
//
// Missing mount points are made in the rootfs, as a start would. With
// readonly the rootfs is then made read-only there, as the container
// sees it.
func withMounts(rootfs string, mounts []specs.Mount, readonly bool) (root *os.File, release func(), err error) {
	type opened struct {
		root *os.File
		err  error
	}
	ready := make(chan opened, 1)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		// Never unlocked: the thread ends with the goroutine, and its
		// mount namespace with it.
		runtime.LockOSThread()
		root, err := bindAll(rootfs, mounts, readonly)
		ready <- opened{root, err}
		if err != nil {
			return
		}
		<-done
		_ = unix.Unmount(rootfs, unix.MNT_DETACH)
	}()
	o := <-ready
	if o.err != nil {
		<-ended
		return nil, nil, o.err
	}
	return o.root, func() {
		o.root.Close()
		close(done)
		<-ended
	}, nil
}

// bindAll is withMounts' work on its locked thread.
func bindAll(rootfs string, mounts []specs.Mount, readonly bool) (*os.File, error) {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return nil, fmt.Errorf("new mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make mounts private: %w", err)
	}
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if err := bindOne(root, m); err != nil {
			root.Close()
			return nil, fmt.Errorf("mount %s at %s: %w", m.Source, m.Destination, err)
		}
	}
	if readonly {
		// The rootfs's own mount only: the volumes keep their modes.
		if err := unix.Mount("", rootfs, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			root.Close()
			return nil, fmt.Errorf("make the rootfs read-only: %w", err)
		}
	}
	return root, nil
}

// bindOne binds m's source at its destination beneath root, making the
// mount point (a directory, or an empty file for a file's bind) if need
// be; the destination resolves within root, symlinks included.
func bindOne(root *os.File, m specs.Mount) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return err
	}
	var target *os.File
	if st.IsDir() {
		target, err = pathrs.MkdirAllHandle(root, m.Destination, 0o755)
	} else {
		target, err = fileMountPoint(root, m.Destination)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	at := fmt.Sprintf("/proc/thread-self/fd/%d", target.Fd())
	if err := unix.Mount(m.Source, at, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if slices.Contains(m.Options, "ro") {
		// The new mount now covers the descriptor's file; remount through
		// its path as the namespace sees it.
		p, err := os.Readlink(at)
		if err != nil {
			return err
		}
		return unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, "")
	}
	return nil
}

// fileMountPoint opens (making it empty if absent) the file p beneath root.
func fileMountPoint(root *os.File, p string) (*os.File, error) {
	if f, err := pathrs.OpenatInRoot(root, p); err == nil {
		return f, nil
	}
	dir, err := pathrs.MkdirAllHandle(root, path.Dir(path.Clean("/"+p)), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), path.Base(p), unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return pathrs.OpenatInRoot(root, p)
}
