package engine

import (
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/fscopy"
)

// How `box cp` and `box export` reach a container's files.
//
// A running container's rootfs is mounted only in its monitor's mount
// namespace, and a later invocation can neither join that namespace nor
// mount the same overlay again (its upper directory is in use). So it
// asks the monitor, over the control socket, for a directory file
// descriptor: the monitor opens the directory in its own namespace and
// passes it back. File descriptors carry their mount with them, so the
// invocation can then read and write the container's files relative to
// that descriptor from its own namespace; the ids it sees are the same,
// its user namespace having the same mapping as the monitor's. Every
// path is resolved beneath the descriptor (openat2 RESOLVE_IN_ROOT), so a
// symlink in the container cannot lead to the host's files.
//
// A container that is not running has no monitor; the invocation mounts
// its layers itself, in its own mount namespace, and unmounts them after.

// What a container's tree shows.
const (
	// treeRoot is the container as its processes see it: its rootfs with
	// its volumes and bind mounts, and /proc and /sys (left out of copies).
	treeRoot = control.TreeRoot
	// treeRootfs is the container's own file system alone.
	treeRootfs = control.TreeRootfs
)

// containerTree gives access to a container's files: what (treeRoot or
// treeRootfs) from its monitor while it runs, else its layers mounted
// here. The caller must call release when done.
func (e *Engine) containerTree(c *Container, name, what string) (t fscopy.Tree, release func(), err error) {
	// The monitor's tree while it runs; else its layers, mounted here
	// under its mount lock (see mountLockPath), once a start or monitor
	// holding them lets go, or from the monitor if that start won.
	var tree *os.File
	lock, err := e.lockMount(c.ID, func() (bool, error) {
		if live, err := e.runsUnderMonitor(c.ID); !live || err != nil {
			return false, err
		}
		f, err := e.askTree(c.ID, name, what)
		if errors.As(err, new(*NotRunningError)) {
			return false, nil // it stopped meanwhile, or restarts
		}
		tree = f
		return true, err
	})
	if err != nil {
		return fscopy.Tree{}, nil, err
	}
	if lock == nil {
		return fscopy.Contained(tree), func() { tree.Close() }, nil
	}
	unlock := func() {
		_ = e.Store.UnmountContainer(c.ID)
		lock.Close()
	}
	// A monitor that died leaves the store counting a mount that lived in
	// its namespace; the forced unmount resets the count, as Start does.
	_ = e.Store.UnmountContainer(c.ID)
	dir, err := e.Store.MountContainer(c.ID)
	if err != nil {
		lock.Close()
		return fscopy.Tree{}, nil, fmt.Errorf("mount container %s: %w", name, err)
	}
	var mounts []specs.Mount
	readonly := false
	if what == treeRoot {
		if mounts, readonly, err = e.containerMounts(c); err != nil {
			unlock()
			return fscopy.Tree{}, nil, fmt.Errorf("mount container %s: %w", name, err)
		}
	}
	var f *os.File
	closeRoot := func() { f.Close() }
	if len(mounts) > 0 || readonly {
		f, closeRoot, err = withMounts(dir, mounts, readonly)
	} else {
		f, err = os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		unlock()
		return fscopy.Tree{}, nil, fmt.Errorf("mount container %s: %w", name, err)
	}
	return fscopy.Contained(f), func() {
		closeRoot()
		unlock()
	}, nil
}

// containerMounts are the volumes and bind mounts of a container that is
// not running, which cp shows as it would see them running, and whether
// its rootfs is read-only (--read-only), which cp then does not write
// either, as Docker's does not.
func (e *Engine) containerMounts(c *Container) ([]specs.Mount, bool, error) {
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return nil, false, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return nil, false, err
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return nil, false, err
	}
	return userMounts(sp, dir, rec.WithInit), sp.Root != nil && sp.Root.Readonly, nil
}

func (e *Engine) askTree(id, name, what string) (*os.File, error) {
	conn, err := e.dialControl(id, name)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := control.Send(conn, control.MsgRoot, control.RootRequest{What: what}); err != nil {
		return nil, &NotRunningError{Name: name}
	}
	m, err := control.Receive(conn)
	if err != nil {
		return nil, &NotRunningError{Name: name}
	}
	switch {
	case m.Kind == control.MsgFile && len(m.Files) == 1:
		return m.Files[0], nil
	case m.Kind == control.MsgError:
		m.CloseFiles()
		var r control.ErrorReport
		_ = m.Decode(&r)
		return nil, errOf(r, name)
	}
	m.CloseFiles()
	return nil, fmt.Errorf("unexpected answer from the monitor of %s", name)
}

// CopyOptions are `box cp`'s choices.
type CopyOptions struct {
	// Archive keeps the source's user and group ids on files copied into
	// the container; without it they belong to the container's root. A
	// tar archive read from stdin keeps its ids either way.
	Archive bool
	// FollowLink copies what a symlink given as the source points to,
	// under the link's name.
	FollowLink bool
}

// PathNotFoundError is a container path that does not exist.
type PathNotFoundError struct{ Path, Container string }

func (e *PathNotFoundError) Error() string {
	return "Could not find the file " + e.Path + " in container " + e.Container
}

func (e *PathNotFoundError) Unwrap() error { return os.ErrNotExist }

// NoOutputDirError is a host destination whose directory does not exist.
type NoOutputDirError struct{ Dir string }

func (e *NoOutputDirError) Error() string {
	return fmt.Sprintf("invalid output path: directory %q does not exist", e.Dir)
}

// CopyFromContainer copies src, a path in the container, to dst on the
// host following Docker's rules, or with dst "-" writes a tar archive of
// it to out. Files made on the host belong to the caller.
func (e *Engine) CopyFromContainer(nameOrID, src, dst string, out io.Writer, opts CopyOptions) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	ct, release, err := e.containerTree(c, nameOrID, treeRoot)
	if err != nil {
		return err
	}
	defer release()
	top, source, err := fscopy.OpenSource(ct, fscopy.AbsPath("/", src), opts.FollowLink)
	if errors.Is(err, unix.ENOENT) {
		return &PathNotFoundError{Path: src, Container: nameOrID}
	}
	if err != nil {
		return fmt.Errorf("copy from %s: %w", nameOrID, err)
	}
	defer top.Close()
	if dst == "-" {
		return fscopy.Archive(out, top, fscopy.ArchiveName(source))
	}

	host, err := fscopy.Host()
	if err != nil {
		return err
	}
	defer host.Close()
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	dest, err := fscopy.StatDest(host, fscopy.AbsPath(cwd, dst))
	if err != nil {
		return err
	}
	if !dest.Exists {
		dir, _ := fscopy.SplitDirEntry(dest.Path)
		d, err := host.OpenDir(dir)
		if err != nil {
			return &NoOutputDirError{Dir: dir}
		}
		d.Close()
	}
	dir, name, err := fscopy.Plan(source, dest)
	if err != nil {
		return err
	}
	return fscopy.Transfer(top, name, host, dir, fscopy.OwnCaller)
}

// CopyToContainer copies src on the host to dst, a path in the container,
// following Docker's rules, or with src "-" extracts the tar archive
// (compressed or not) that in holds into the directory dst.
func (e *Engine) CopyToContainer(nameOrID, dst, src string, in io.Reader, opts CopyOptions) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	ct, release, err := e.containerTree(c, nameOrID, treeRoot)
	if err != nil {
		return err
	}
	defer release()
	owner := fscopy.OwnRoot
	if opts.Archive {
		owner = fscopy.OwnKeep
	}
	dest, err := fscopy.StatDest(ct, fscopy.AbsPath("/", dst))
	if err != nil {
		return fmt.Errorf("copy to %s: %w", nameOrID, err)
	}
	if src == "-" {
		if !dest.Exists || !dest.IsDir {
			return fmt.Errorf("destination \"%s:%s\" must be a directory", nameOrID, dst)
		}
		r, err := archive.DecompressStream(in)
		if err != nil {
			return err
		}
		defer r.Close()
		// Docker keeps the owners a tar on stdin gives, -a or not; -a
		// insists on them (an id box cannot map is an error).
		if !opts.Archive {
			owner = fscopy.OwnArchive
		}
		return fscopy.Extract(r, ct, dest.Path, owner)
	}

	host, err := fscopy.Host()
	if err != nil {
		return err
	}
	defer host.Close()
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	top, source, err := fscopy.OpenSource(host, fscopy.AbsPath(cwd, src), opts.FollowLink)
	if err != nil {
		return err
	}
	defer top.Close()
	dir, name, err := fscopy.Plan(source, dest)
	if err != nil {
		return err
	}
	d, err := ct.Open(dir, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return &PathNotFoundError{Path: dir, Container: nameOrID}
	}
	if err != nil {
		return fmt.Errorf("copy to %s: %w", nameOrID, err)
	}
	d.Close()
	return fscopy.Transfer(top, name, ct, dir, owner)
}

// Export writes a tar archive of the container's own file system (not
// its volumes, nor what /proc and /sys show) to w.
func (e *Engine) Export(nameOrID string, w io.Writer) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	ct, release, err := e.containerTree(c, nameOrID, treeRootfs)
	if err != nil {
		return err
	}
	defer release()
	top, err := ct.Open("/", unix.O_PATH)
	if err != nil {
		return fmt.Errorf("export %s: %w", nameOrID, err)
	}
	defer top.Close()
	if err := fscopy.Archive(w, top, ""); err != nil {
		return fmt.Errorf("export %s: %w", nameOrID, err)
	}
	return nil
}
