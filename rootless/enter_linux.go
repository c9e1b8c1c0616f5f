package rootless

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Options tell Enter how to re-execute box.
type Options struct {
	// Args is the command line to run again inside the namespace (os.Args).
	Args []string
	// Stderr receives the single-id warning.
	Stderr io.Writer
	// WarnedMarker is a file whose existence means the single-id warning was
	// already given; Enter creates it after warning. The run root is a good
	// home: it is per user and empties on reboot, so the warning comes back
	// once per boot instead of on every command.
	WarnedMarker string
}

// Plan is what Enter will do, worked out without side effects.
type Plan struct {
	Identity Identity
	// Warning is set for SingleID: why only one id is mapped and the fix.
	Warning string
}

// procSys is where the sysctls Preflight reads live; tests point it at a
// fake tree.
var procSys = "/proc/sys"

// Preflight returns a *DisabledError when this machine refuses unprivileged
// user namespaces, naming the switch that refuses them and how to flip it.
func Preflight() error {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(procSys, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if read("kernel/unprivileged_userns_clone") == "0" {
		return &DisabledError{
			Cause: "sysctl kernel.unprivileged_userns_clone is 0",
			Fix:   "sudo sysctl -w kernel.unprivileged_userns_clone=1",
		}
	}
	if read("user/max_user_namespaces") == "0" {
		return &DisabledError{
			Cause: "sysctl user.max_user_namespaces is 0",
			Fix:   "sudo sysctl -w user.max_user_namespaces=28633",
		}
	}
	if read("kernel/apparmor_restrict_unprivileged_userns") == "1" {
		return &DisabledError{
			Cause: "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
			Fix:   "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give box an AppArmor profile that allows userns",
		}
	}
	return nil
}

// MakePlan works out the mappings for the invoking unprivileged user.
func MakePlan() (Plan, error) {
	uid, gid := os.Getuid(), os.Getgid()
	name := fmt.Sprint(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	p := Plan{Identity: Identity{UID: uid, GID: gid, Username: name}}

	subuids, err := subIDRanges("/etc/subuid", name, uid)
	if err != nil {
		return p, fmt.Errorf("read /etc/subuid: %w", err)
	}
	subgids, err := subIDRanges("/etc/subgid", name, uid)
	if err != nil {
		return p, fmt.Errorf("read /etc/subgid: %w", err)
	}
	_, errU := exec.LookPath("newuidmap")
	_, errG := exec.LookPath("newgidmap")
	switch {
	case len(subuids) == 0 || len(subgids) == 0:
		p.Warning = fmt.Sprintf("no subordinate id range for user %q in /etc/subuid and /etc/subgid, so only your own id is mapped and files that images give to other users become yours; fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", name, name)
	case errU != nil || errG != nil:
		p.Warning = "newuidmap/newgidmap not found, so only your own id is mapped and files that images give to other users become yours; fix: sudo apt-get install uidmap"
	}
	if p.Warning != "" {
		p.Identity.Mode = SingleID
		p.Identity.UIDMap = namespaceMap(uid, nil)
		p.Identity.GIDMap = namespaceMap(gid, nil)
		return p, nil
	}
	p.Identity.Mode = Ranges
	p.Identity.UIDMap = namespaceMap(uid, subuids)
	p.Identity.GIDMap = namespaceMap(gid, subgids)
	return p, nil
}

// Enter re-executes box inside a new user and mount namespace as root of
// that namespace, waits for it, and returns its exit code (128+N when it
// was killed by signal N). It is for unprivileged callers only.
func Enter(opts Options) (int, error) {
	if err := Preflight(); err != nil {
		return 0, err
	}
	plan, err := MakePlan()
	if err != nil {
		return 0, err
	}
	if plan.Warning != "" && opts.WarnedMarker != "" {
		if _, err := os.Stat(opts.WarnedMarker); err != nil {
			fmt.Fprintf(opts.Stderr, "box: warning: %s\n", plan.Warning)
			if err := os.MkdirAll(filepath.Dir(opts.WarnedMarker), 0o700); err == nil {
				_ = os.WriteFile(opts.WarnedMarker, nil, 0o600)
			}
		}
	}

	id := plan.Identity
	parentEnd, childEnd, err := syncPair()
	if err != nil {
		return 0, err
	}
	defer parentEnd.Close()
	cmd := exec.Command("/proc/self/exe", opts.Args[1:]...)
	cmd.Args[0] = opts.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{childEnd} // fd 3 in the child
	cmd.Env = append(os.Environ(),
		envHost+"="+encodeHost(id.UID, id.GID, id.Username),
		"_BOX_USERNS_SYNC=3",
		// containers/storage reads these to know it runs rootless.
		"_CONTAINERS_USERNS_CONFIGURED=done",
		fmt.Sprintf("_CONTAINERS_ROOTLESS_UID=%d", id.UID),
		fmt.Sprintf("_CONTAINERS_ROOTLESS_GID=%d", id.GID),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	// Signals sent to this process go to the child. On a terminal, the
	// terminal's own SIGINT/SIGQUIT already reach the child (same process
	// group), so forwarding those would deliver them twice.
	fromTTY := term.IsTerminal(int(os.Stdin.Fd()))
	sigs := make(chan os.Signal, 16)
	forward := []os.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2}
	if fromTTY {
		signal.Ignore(unix.SIGINT, unix.SIGQUIT)
	} else {
		forward = append(forward, unix.SIGINT, unix.SIGQUIT)
	}
	signal.Notify(sigs, forward...)
	defer signal.Stop(sigs)

	if err := cmd.Start(); err != nil {
		childEnd.Close()
		return 0, fmt.Errorf("enter user namespace: %w", err)
	}
	childEnd.Close()
	if err := mapChild(parentEnd, cmd.Process.Pid, id, opts.Stderr); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, err
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("user namespace child: %w", err)
	}
	return 0, nil
}

func syncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("enter user namespace: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "userns-sync"), os.NewFile(uintptr(fds[1]), "userns-sync-child"), nil
}

// mapChild waits for the child to create its user namespace, writes its
// id maps and lets it go on. With ranges it uses newuidmap/newgidmap;
// when those fail (not setuid, say) it falls back to the single id, which
// an unprivileged process may map itself, and says so.
func mapChild(sync *os.File, pid int, id Identity, stderr io.Writer) error {
	buf := make([]byte, 1)
	if n, _ := sync.Read(buf); n != 1 || buf[0] != 'u' {
		return errors.New("enter user namespace: the child exited before creating it")
	}
	proc := fmt.Sprintf("/proc/%d/", pid)
	uidDone, gidDone := false, false
	if id.Mode == Ranges {
		if out, err := exec.Command("newgidmap", mapArgs(pid, id.GIDMap)...).CombinedOutput(); err == nil {
			gidDone = true
		} else {
			fmt.Fprintf(stderr, "box: warning: newgidmap failed (%s); mapping only your own group\n", strings.TrimSpace(string(out)))
		}
		if out, err := exec.Command("newuidmap", mapArgs(pid, id.UIDMap)...).CombinedOutput(); err == nil {
			uidDone = true
		} else {
			fmt.Fprintf(stderr, "box: warning: newuidmap failed (%s); mapping only your own user\n", strings.TrimSpace(string(out)))
		}
	}
	if !gidDone {
		// An unprivileged writer must give up setgroups before gid_map.
		if err := os.WriteFile(proc+"setgroups", []byte("deny"), 0); err != nil {
			return fmt.Errorf("enter user namespace: %w", err)
		}
		if err := os.WriteFile(proc+"gid_map", []byte(fmt.Sprintf("0 %d 1\n", id.GID)), 0); err != nil {
			return fmt.Errorf("enter user namespace: write gid map: %w", err)
		}
	}
	if !uidDone {
		if err := os.WriteFile(proc+"uid_map", []byte(fmt.Sprintf("0 %d 1\n", id.UID)), 0); err != nil {
			return fmt.Errorf("enter user namespace: write uid map: %w", err)
		}
	}
	if _, err := sync.Write([]byte{'m'}); err != nil {
		return fmt.Errorf("enter user namespace: %w", err)
	}
	return nil
}

func mapArgs(pid int, m []specs.LinuxIDMapping) []string {
	args := []string{fmt.Sprint(pid)}
	for _, r := range m {
		args = append(args, fmt.Sprint(r.ContainerID), fmt.Sprint(r.HostID), fmt.Sprint(r.Size))
	}
	return args
}
