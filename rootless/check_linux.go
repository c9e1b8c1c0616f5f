package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Here describes this machine and this invocation for Checks. Native
// overlay is tried in a scratch directory under overlayDir (the store's
// root, whose filesystem is the one that matters); an empty overlayDir, or
// an unprivileged box outside its namespace, leaves it untried.
func Here(overlayDir string) Machine {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin" // the constructor's default too
	}
	m := Machine{
		ProcSys: procSys, SubUID: "/etc/subuid", SubGID: "/etc/subgid",
		Path: path, Tun: "/dev/net/tun", RuntimeDir: os.Getenv("XDG_RUNTIME_DIR"),
	}
	var st unix.Statfs_t
	m.CgroupV2 = unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	id, err := Current()
	switch {
	case err == nil && id.Mode == Rootful:
		m.Root, m.User = true, "root"
	case err == nil:
		m.Entered, m.Mode, m.User, m.UID = true, id.Mode, id.Username, id.UID
	default:
		m.UID, m.User = os.Getuid(), os.Getenv("USER")
		if u, err := user.LookupId(strconv.Itoa(m.UID)); err == nil {
			m.User = u.Username
		}
		m.EntryError = EntryError()
	}
	if overlayDir != "" && (m.Root || m.Entered) {
		m.Overlay = func() error { return ProbeOverlay(overlayDir, !m.Root) }
	}
	return m
}

// privileged says whether an id-map tool can do its work for the user:
// setuid (its owner, root, shows as the overflow id inside the namespace)
// or given file capabilities, as Fedora ships them.
func privileged(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if st.Mode()&os.ModeSetuid != 0 {
		return true
	}
	sz, err := unix.Getxattr(path, "security.capability", nil)
	return err == nil && sz > 0
}

// ProbeOverlay mounts native overlay once in a scratch directory under
// dir and unmounts it, in a mount namespace of its own so that nothing is
// seen outside; it returns the kernel's refusal. In a user namespace the
// kernel wants the overlay's xattrs in the user. namespace (userxattr)
// before 6.x kernels guess it, so that spelling is tried too.
func ProbeOverlay(dir string, userNS bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, "overlay-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var sub [4]string
	for i, n := range []string{"lower", "upper", "work", "merged"} {
		sub[i] = filepath.Join(tmp, n)
		if err := os.Mkdir(sub[i], 0o700); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", sub[0], sub[1], sub[2])
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine, and its
		// private mount namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			done <- fmt.Errorf("new mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			done <- fmt.Errorf("make mounts private: %w", err)
			return
		}
		err := unix.Mount("overlay", sub[3], "overlay", 0, opts)
		if err != nil && userNS {
			if err2 := unix.Mount("overlay", sub[3], "overlay", 0, opts+",userxattr"); err2 == nil {
				err = nil
			}
		}
		if err == nil {
			_ = unix.Unmount(sub[3], unix.MNT_DETACH)
		}
		done <- err
	}()
	err = <-done
	var errno unix.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("mount overlay: %w", errno)
	}
	return err
}
