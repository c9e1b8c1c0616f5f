// Package storage owns box's image and layer store and every transfer in
// and out of it: pulls from registries, image listing, tagging and removal,
// and containers' read-write layers, names and directories (containers.go).
// It wraps go.podman.io/storage (native overlay) and go.podman.io/image/v5,
// and is the only package that reaches them: callers see its own types
// and errors. It never prints: progress goes to the writer a caller hands
// in, and it knows nothing of containers' processes or of the CLI.
package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	itypes "go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
	stypes "go.podman.io/storage/types"
	"golang.org/x/sys/unix"
)

// Options say where the store lives and how it is driven.
type Options struct {
	// Root holds images, layers and containers; RunRoot holds locks and
	// other state that must not survive a reboot.
	Root, RunRoot string
	// Driver is the graph driver, "overlay" unless told otherwise.
	Driver string
	// SingleID is set when the user namespace maps only one id: files
	// owned by other ids in a layer are then stored as that one id.
	SingleID bool
}

// Store is an open image store. It is not safe to use after Close.
type Store struct {
	s   cstorage.Store
	sys *itypes.SystemContext
	// OnImageEvent, when set, hears of every change to an image: action
	// (Docker's: pull, push, tag, untag, delete, load, save, import,
	// build), the image's "sha256:" id and the name concerned (events.go).
	OnImageEvent func(action, id, name string)
}

// DefaultPaths returns the store locations box uses when not told
// otherwise: /var/lib/box and /run/box for root, else
// $XDG_DATA_HOME/box/storage and $XDG_RUNTIME_DIR/box. Without
// XDG_RUNTIME_DIR (su sessions) run state goes to a private directory on
// /dev/shm when that is a tmpfs, else under /tmp: the store syncs its
// mount bookkeeping there several times per container, which on a disk
// costs ~20 ms of a ~90 ms `run --rm` (measured here).
func DefaultPaths(rootless bool, uid int) (root, runRoot string, err error) {
	if !rootless {
		return "/var/lib/box", "/run/box", nil
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home := os.Getenv("HOME")
		if home == "" {
			return "", "", errors.New("neither XDG_DATA_HOME nor HOME is set; set one or pass --root")
		}
		data = filepath.Join(home, ".local", "share")
	}
	root = filepath.Join(data, "box", "storage")
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if st, err := os.Stat(rt); err == nil && st.IsDir() {
			return root, filepath.Join(rt, "box"), nil
		}
	}
	name := "box-run-" + strconv.Itoa(uid)
	var fs unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		if dir := filepath.Join("/dev/shm", name); privateDir(dir) {
			return root, dir, nil
		}
	}
	return root, filepath.Join(os.TempDir(), name), nil
}

// privateDir makes dir if needed and reports whether it is a directory of
// this user's only; /dev/shm is shared by every user on the machine.
func privateDir(dir string) bool {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return false
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Uid == uint32(os.Getuid()) && st.Mode&0o077 == 0
}

// Open opens (creating if needed) the store described by opts.
func Open(opts Options) (*Store, error) {
	driver := opts.Driver
	if driver == "" {
		driver = "overlay"
	}
	var driverOpts []string
	if opts.SingleID && driver == "overlay" {
		driverOpts = append(driverOpts, "overlay.ignore_chown_errors=true")
	}
	if opts.SingleID && driver == "vfs" {
		driverOpts = append(driverOpts, "vfs.ignore_chown_errors=true")
	}
	if err := os.MkdirAll(opts.RunRoot, 0o700); err != nil {
		return nil, fmt.Errorf("create run root: %w", err)
	}
	if driver == "overlay" {
		forgetMountProgram(opts.Root)
		noIDMappedCheck()
	}
	s, err := cstorage.GetStore(stypes.StoreOptions{
		GraphRoot:          opts.Root,
		RunRoot:            opts.RunRoot,
		GraphDriverName:    driver,
		GraphDriverOptions: driverOpts,
	})
	if err != nil {
		return nil, fmt.Errorf("open store at %s: %w", opts.Root, err)
	}
	sys := systemContext()
	// The blob info cache remembers which compressed blob holds which
	// layer and where registries have it: what lets a push skip layers a
	// registry has and keep digests. It lives with the store, not in
	// Podman's place, so that system reset forgets it with the images.
	sys.BlobInfoCacheDir = filepath.Join(opts.Root, "cache")
	st := &Store{s: s, sys: sys}
	st.keepReserve()
	st.sweepLeftovers()
	return st, nil
}

// noIDMappedCheck keeps the overlay driver from testing, on the first
// mount in a run root, whether idmapped lower layers work. box never
// shifts ids (its stores and containers carry no id mappings), and the
// test is a hazard: idmap.CreateUsernsProcess forks the whole Go process
// without exec and only then asks for SIGKILL on its parent's death. A
// box killed in between (CI killed `run -d` at random points right after
// a `system reset`) leaves that child for good, in pause() or, when a
// signal reaches the forked Go runtime, in a futex wait, holding every
// descriptor box had: the network holder's lock and the container's
// mount lock among them. The variable is containers/storage's own switch
// (overlay's SupportsShifting), read before the test.
func noIDMappedCheck() {
	_ = os.Setenv("_CONTAINERS_OVERLAY_DISABLE_IDMAP", "yes")
}

// Close releases the store; mounts made through it stay.
func (s *Store) Close() {
	_, _ = s.s.Shutdown(false)
}

// Driver names the graph driver in use.
func (s *Store) Driver() string { return s.s.GraphDriverName() }

// Root and RunRoot say where the store lives.
func (s *Store) Root() string    { return s.s.GraphRoot() }
func (s *Store) RunRoot() string { return s.s.RunRoot() }

// forgetMountProgram drops the overlay driver's remembered verdict that
// native overlay does not work here, so that it is checked again. The
// driver records the verdict once and for all, and one refused probe (a
// namespace set up wrong, say) would otherwise tie the store to
// fuse-overlayfs forever; native overlay is box's choice wherever the
// kernel allows it.
func forgetMountProgram(root string) {
	flag := filepath.Join(root, "overlay", ".has-mount-program")
	if b, err := os.ReadFile(flag); err == nil && strings.TrimSpace(string(b)) == "true" {
		_ = os.Remove(flag)
	}
}
