package rootless

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Status is how one check came out.
type Status string

const (
	// StatusOK: nothing to fix.
	StatusOK Status = "ok"
	// StatusWarning: containers run, but something users notice is missing
	// (only the user's own id mapped, no pasta, no resource limits, no low
	// ports) and the fix says how to get it.
	StatusWarning Status = "warning"
	// StatusError: rootless containers cannot run until it is fixed.
	StatusError Status = "error"
)

// Check is one reason rootless containers fail on a machine, checked:
// what was looked at, how it came out, what was found and the one line
// that fixes it (empty when Status is StatusOK).
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// OK says whether the check passed.
func (c Check) OK() bool { return c.Status == StatusOK }

// Machine is what the checks look at. Here describes this machine and
// this invocation; tests build one over a fake tree.
type Machine struct {
	// ProcSys is /proc/sys.
	ProcSys string
	// SubUID and SubGID are /etc/subuid and /etc/subgid.
	SubUID, SubGID string
	// Path is $PATH, where newuidmap, newgidmap and fuse-overlayfs are looked up.
	Path string
	// Tun is /dev/net/tun.
	Tun string
	// RuntimeDir is $XDG_RUNTIME_DIR.
	RuntimeDir string
	// CgroupV2 says /sys/fs/cgroup is the unified hierarchy.
	CgroupV2 bool
	// Root: box runs as real root, rootful, with no user namespace.
	Root bool
	// User and UID name the user box runs for.
	User string
	UID  int
	// Entered: this process is inside box's user namespace; Mode says how
	// its ids are mapped. EntryError is why it is not, when it is not.
	Entered    bool
	Mode       Mode
	EntryError error
	// Overlay mounts native overlay once where box would, and says why
	// the kernel refused; nil when that cannot be tried.
	Overlay func() error
}

// Checks checks every reason rootless containers fail on m, in the order
// a user would fix them. It never fails as a whole: what cannot be read
// is reported in its check.
func Checks(m Machine) []Check {
	out := []Check{
		checkNamespace(m),
	}
	out = append(out, namespaceSwitches(m)...)
	return append(out,
		checkSubordinateIDs(m),
		checkIDMapTools(m),
		checkOverlay(m),
		checkTun(m),
		checkRuntimeDir(m),
		checkCgroups(m),
		checkLowPorts(m),
	)
}

// namespaceSwitches are the checks of the switches by which a kernel or a
// security module refuses unprivileged user namespaces (Preflight's too).
func namespaceSwitches(m Machine) []Check {
	return []Check{
		checkSysctl(m, "kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone",
			"sudo sysctl -w kernel.unprivileged_userns_clone=1"),
		checkSysctl(m, "user/max_user_namespaces", "0", "user.max_user_namespaces",
			"sudo sysctl -w user.max_user_namespaces=28633"),
		checkAppArmor(m),
	}
}

// Warnings turns the checks that did not pass into `box info`'s Warnings,
// in Docker's "WARNING: ..." words.
func Warnings(checks []Check) []string {
	var out []string
	for _, c := range checks {
		if c.OK() {
			continue
		}
		w := "WARNING: " + c.Name + ": " + c.Detail
		if c.Fix != "" {
			w += "; fix: " + c.Fix
		}
		out = append(out, w)
	}
	return out
}

const notAsRoot = "not needed: box runs as root without a user namespace"

func (m Machine) sysctl(name string) string {
	b, err := os.ReadFile(filepath.Join(m.ProcSys, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func checkNamespace(m Machine) Check {
	c := Check{Name: "user namespace", Status: StatusOK}
	switch {
	case m.Root:
		c.Detail = notAsRoot
	case m.Entered && m.Mode == SingleID:
		c.Status = StatusWarning
		c.Detail = "entered, but only your own id is mapped, so files images give to other users become yours"
		c.Fix = "see the subordinate id and newuidmap checks below"
	case m.Entered:
		c.Detail = "entered, your subordinate id ranges mapped"
	default:
		c.Status = StatusError
		c.Detail = "box could not enter its user namespace"
		if m.EntryError != nil {
			c.Detail += ": " + m.EntryError.Error()
		}
		c.Fix = "fix the errors below"
		var de *DisabledError
		if errors.As(m.EntryError, &de) {
			c.Fix = de.Fix
		}
	}
	return c
}

// checkSysctl fails when the sysctl file reads bad; a missing file means
// the kernel has no such switch, which is the switch being on.
func checkSysctl(m Machine, file, bad, name, fix string) Check {
	c := Check{Name: name, Status: StatusOK}
	v := m.sysctl(file)
	switch {
	case v == bad && !m.Root:
		c.Status, c.Detail, c.Fix = StatusError, fmt.Sprintf("sysctl %s is %s", name, v), fix
	case v == "":
		c.Detail = "not set by this kernel (user namespaces allowed)"
	case m.Root:
		c.Detail = "is " + v + "; " + notAsRoot
	default:
		c.Detail = "is " + v
	}
	return c
}

// checkAppArmor: Ubuntu (23.10 on) lets an unprivileged process create a
// user namespace but takes every capability away inside it unless an
// AppArmor profile allows the program userns. box then cannot make its
// mount namespace, so having entered is the proof that box is allowed.
func checkAppArmor(m Machine) Check {
	const name = "kernel.apparmor_restrict_unprivileged_userns"
	c := Check{Name: name, Status: StatusOK}
	switch v := m.sysctl("kernel/apparmor_restrict_unprivileged_userns"); {
	case v == "":
		c.Detail = "not set by this kernel (no AppArmor restriction)"
	case v != "1":
		c.Detail = "is " + v
	case m.Root:
		c.Detail = "is 1; " + notAsRoot
	case m.Entered:
		c.Detail = "is 1, but an AppArmor profile lets box use user namespaces"
	default:
		c.Status = StatusError
		c.Detail = "AppArmor restricts unprivileged user namespaces (" + name + "=1)"
		c.Fix = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give box an AppArmor profile that allows userns"
	}
	return c
}

// subordinateRanges reads the user's ranges, by name or by uid, from a
// subid file, as the constructor (userns_linux.c) does.
func subordinateRanges(path, user string, uid int) (n, ids uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(parts) != 3 || strings.HasPrefix(parts[0], "#") {
			continue
		}
		if parts[0] != user && parts[0] != strconv.Itoa(uid) {
			continue
		}
		_, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		n++
		ids += count
	}
	return n, ids, s.Err()
}

func checkSubordinateIDs(m Machine) Check {
	c := Check{Name: "subordinate ids", Status: StatusOK}
	if m.Root {
		c.Detail = notAsRoot
		return c
	}
	nu, uids, errU := subordinateRanges(m.SubUID, m.User, m.UID)
	ng, gids, errG := subordinateRanges(m.SubGID, m.User, m.UID)
	if nu == 0 || ng == 0 {
		c.Status = StatusWarning
		c.Detail = fmt.Sprintf("no range for user %q in %s and %s, so only your own id is mapped", m.User, m.SubUID, m.SubGID)
		if err := errors.Join(errU, errG); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.Detail += " (" + err.Error() + ")"
		}
		c.Fix = fmt.Sprintf("sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", m.User)
		return c
	}
	c.Detail = fmt.Sprintf("%d uids and %d gids for %s", uids, gids, m.User)
	if uids < 65536 || gids < 65536 {
		c.Status = StatusWarning
		c.Detail += ": fewer than the 65536 many images need"
		c.Fix = fmt.Sprintf("sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", m.User)
	}
	return c
}

// lookPath finds tool in m.Path.
func (m Machine) lookPath(tool string) string {
	for _, dir := range filepath.SplitList(m.Path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, tool)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func checkIDMapTools(m Machine) Check {
	c := Check{Name: "newuidmap/newgidmap", Status: StatusOK}
	if m.Root {
		c.Detail = notAsRoot
		return c
	}
	var found, weak []string
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		p := m.lookPath(tool)
		if p == "" {
			c.Status = StatusWarning
			c.Detail = tool + " not found, so only your own id is mapped"
			c.Fix = "sudo apt-get install uidmap (Fedora: sudo dnf install shadow-utils)"
			return c
		}
		found = append(found, p)
		if !privileged(p) {
			weak = append(weak, p)
		}
	}
	if len(weak) > 0 {
		c.Status = StatusWarning
		c.Detail = strings.Join(weak, " and ") + " neither setuid root nor given capabilities, so only your own id is mapped"
		c.Fix = "sudo chmod u+s " + strings.Join(weak, " ") + " (or reinstall: sudo apt-get install --reinstall uidmap)"
		return c
	}
	c.Detail = strings.Join(found, " and ") + " can map your ranges"
	return c
}

func checkOverlay(m Machine) Check {
	c := Check{Name: "native overlay", Status: StatusOK}
	if m.Overlay == nil {
		c.Status = StatusWarning
		c.Detail = "not tried: box is not in its user namespace"
		c.Fix = "fix the user namespace first"
		return c
	}
	err := m.Overlay()
	switch {
	case err == nil && m.Root:
		c.Detail = "the kernel mounts overlay"
	case err == nil:
		c.Detail = "the kernel mounts overlay inside box's user namespace"
	case m.lookPath("fuse-overlayfs") != "":
		c.Status = StatusWarning
		c.Detail = "refused (" + err.Error() + "): box uses fuse-overlayfs, which is slower"
		c.Fix = "a kernel >= 5.11 mounts overlay in a user namespace natively"
	default:
		c.Status = StatusError
		c.Detail = "refused (" + err.Error() + ") and fuse-overlayfs is not installed"
		c.Fix = "sudo apt-get install fuse-overlayfs, or use a kernel >= 5.11, or pass --storage-driver vfs (slow, large)"
	}
	return c
}

func checkTun(m Machine) Check {
	c := Check{Name: "/dev/net/tun", Status: StatusOK}
	f, err := os.OpenFile(m.Tun, os.O_RDWR, 0)
	if err == nil {
		f.Close()
		c.Detail = "pasta can open it for container networks"
		return c
	}
	c.Status = StatusWarning
	c.Detail = "cannot be opened (" + errors.Unwrap(err).Error() + "), so containers use netstack, which is slower than pasta"
	if errors.Is(err, os.ErrNotExist) {
		c.Fix = "sudo modprobe tun"
	} else {
		c.Fix = "sudo chmod 0666 /dev/net/tun (as udev does on desktops)"
	}
	return c
}

func checkRuntimeDir(m Machine) Check {
	c := Check{Name: "XDG_RUNTIME_DIR", Status: StatusOK}
	if m.Root {
		c.Detail = "not needed: run state is kept in /run/box as root"
		return c
	}
	if m.RuntimeDir == "" {
		c.Status = StatusWarning
		c.Detail = "not set (su, sudo, cron): run state goes to /dev/shm or /tmp and credentials to ~/.config/containers"
		c.Fix = fmt.Sprintf("log in through a session that sets it (pam_systemd), or export XDG_RUNTIME_DIR=/run/user/%d if that exists", m.UID)
		return c
	}
	if st, err := os.Stat(m.RuntimeDir); err != nil || !st.IsDir() {
		c.Status = StatusWarning
		c.Detail = m.RuntimeDir + " is not a directory, so run state goes to /dev/shm or /tmp"
		c.Fix = "sudo loginctl enable-linger " + m.User + ", or unset XDG_RUNTIME_DIR"
		return c
	}
	c.Detail = m.RuntimeDir
	return c
}

func checkCgroups(m Machine) Check {
	c := Check{Name: "cgroups", Status: StatusOK}
	switch {
	case m.CgroupV2:
		c.Detail = "cgroup v2"
	case m.Root:
		c.Detail = "cgroup v1: resource limits apply as root"
	default:
		c.Status = StatusWarning
		c.Detail = "cgroup v1: --memory, --cpus, --pids-limit and other limits cannot be applied rootless"
		c.Fix = "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (cgroup v2)"
	}
	return c
}

func checkLowPorts(m Machine) Check {
	const name = "net.ipv4.ip_unprivileged_port_start"
	c := Check{Name: name, Status: StatusOK}
	v := m.sysctl("net/ipv4/ip_unprivileged_port_start")
	start, err := strconv.Atoi(v)
	switch {
	case m.Root:
		c.Detail = "root may publish any port"
	case err != nil:
		c.Detail = "not set by this kernel (ports below 1024 need root)"
	case start > 1023:
		c.Status = StatusWarning
		c.Detail = fmt.Sprintf("is %d: -p cannot publish host ports below %d rootless", start, start)
		c.Fix = "sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80 (persist it in /etc/sysctl.d/)"
	default:
		c.Detail = fmt.Sprintf("is %d: host ports from %d up can be published", start, start)
	}
	return c
}
