// Package spec turns an image's configuration and the user's run options
// into an OCI runtime spec with Docker's defaults: its capability set, its
// masked and read-only /proc and /sys paths, its seccomp profile and its
// standard mounts. It only computes; it reads the container's rootfs (for
// /etc/passwd and /etc/group) but never writes, mounts or starts anything.
package spec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/user"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Network is how the container sees the network.
type Network string

const (
	// NetworkHost shares the host's network namespace.
	NetworkHost Network = "host"
	// NetworkNone gives the container a namespace with loopback only.
	NetworkNone Network = "none"
)

// Mount is a bind or tmpfs mount asked for with -v, --mount or --tmpfs.
type Mount struct {
	Type        string // "bind" or "tmpfs"
	Source      string // host path for bind
	Destination string
	Options     []string
}

// Options are the run-time choices that shape a container.
type Options struct {
	// Rootfs is the mounted root filesystem (absolute path).
	Rootfs string
	// Image is the image's configuration; ImageArch its architecture
	// (GOARCH spelling: amd64, 386, ...).
	Image     v1.ImageConfig
	ImageArch string

	// Cmd replaces the image's Cmd when non-nil.
	Cmd []string
	// Entrypoint replaces the image's Entrypoint when non-nil; an empty
	// slice clears it. Like Docker, overriding the entrypoint drops the
	// image's Cmd.
	Entrypoint []string

	Env []string // KEY=VALUE or KEY (taken from OSEnv)
	// LinkEnv are --link's variables, under the image's and Env.
	LinkEnv    []string
	OSEnv      func(string) (string, bool)
	WorkingDir string
	User       string
	Hostname   string
	TTY        bool

	Mounts   []Mount
	ReadOnly bool
	Network  Network
	// JoinNetwork is a network namespace another container owns: the
	// container cannot mount a sysfs of its own, so it sees the host's.
	JoinNetwork bool

	CapAdd, CapDrop []string
	Privileged      bool
	NoNewPrivileges bool
	// Seccomp is "" for Docker's default, "unconfined", or a profile's JSON.
	Seccomp string

	// UserNS, when set, gives the container its own user namespace with
	// these mappings (rootless: a copy of box's own namespace).
	UIDMappings, GIDMappings []specs.LinuxIDMapping
	// UserNSPath, when set, joins that user namespace (another
	// container's, whose PID or IPC namespace a rootless container
	// shares) instead of making one: the mappings are that namespace's
	// and only check the container's user.
	UserNSPath string
	// Rootless marks a run inside box's user namespace: host devices and
	// sysfs come by bind mount there.
	Rootless bool

	// EtcFiles are host files bind-mounted over /etc/hostname, /etc/hosts
	// and /etc/resolv.conf (keys are those container paths).
	EtcFiles map[string]string

	// Domainname is --domainname; GroupAdd the --group-add groups (names
	// looked up in the container's /etc/group, or numbers).
	Domainname string
	GroupAdd   []string
	// Annotations are --annotation, the spec's own annotations.
	Annotations map[string]string
	// Rlimits are --ulimit, checked against the caller's hard limits.
	Rlimits []specs.POSIXRlimit
	// ShmSize is /dev/shm's size in bytes (0: Docker's 64 MiB); NoShm
	// mounts none (--ipc none).
	ShmSize int64
	NoShm   bool
	// Sysctls are --sysctl, namespaced ones only (engine/flags).
	Sysctls map[string]string
	// Shared are the namespaces the container does not get its own of:
	// a path joins that namespace, "" shares the host's (--pid host).
	Shared map[specs.LinuxNamespaceType]string
	// Resources are the cgroup limits, nil for none.
	Resources *specs.LinuxResources
	// OOMScoreAdj is --oom-score-adj.
	OOMScoreAdj *int
	// Devices are --device nodes (Device), with the cgroup rules that
	// allow them.
	Devices     []specs.LinuxDevice
	DeviceRules []specs.LinuxDeviceCgroup
}

// UsageError is an option the user got wrong; the run never started.
type UsageError struct {
	Msg string
	// Fix, when known, says how to make the options acceptable.
	Fix string
}

func (e *UsageError) Error() string { return e.Msg }

// Hint is Fix: what the CLI prints below the error.
func (e *UsageError) Hint() string { return e.Fix }

// ErrNoCommand is returned when neither the image nor the user gave a
// command to run.
var ErrNoCommand = errors.New("no command specified")

// DefaultCaps is Docker's default capability set.
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Docker's masked and read-only paths.
var (
	MaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	ReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Generate builds the runtime spec.
func Generate(o Options) (*specs.Spec, error) {
	args, err := command(o)
	if err != nil {
		return nil, err
	}
	env, err := environment(o)
	if err != nil {
		return nil, err
	}
	cwd := o.WorkingDir
	if cwd == "" {
		cwd = o.Image.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return nil, &UsageError{Msg: fmt.Sprintf("the working directory %q is invalid: it needs to be an absolute path", cwd)}
	}
	userSpec := o.User
	if userSpec == "" {
		userSpec = o.Image.User
	}
	execUser, err := resolveUser(o.Rootfs, userSpec)
	if err != nil {
		return nil, err
	}
	if len(o.GroupAdd) > 0 {
		if execUser.Sgids, err = addGroups(o.Rootfs, execUser.Sgids, o.GroupAdd, o.GIDMappings); err != nil {
			return nil, err
		}
	}
	if err := checkMapped(execUser, o.UIDMappings, o.GIDMappings); err != nil {
		return nil, err
	}
	if !HasEnv(env, "HOME") {
		home := execUser.Home
		if home == "" {
			home = "/"
		}
		env = append(env, "HOME="+home)
	}
	caps, err := capabilities(o)
	if err != nil {
		return nil, err
	}

	s := &specs.Spec{
		Version:     specs.Version,
		Hostname:    o.Hostname,
		Domainname:  o.Domainname,
		Annotations: o.Annotations,
		Root:        &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly},
		Process: &specs.Process{
			Terminal: o.TTY,
			Args:     args,
			Env:      env,
			Cwd:      path.Clean(cwd),
			User: specs.User{
				UID:            uint32(execUser.Uid),
				GID:            uint32(execUser.Gid),
				AdditionalGids: groups(execUser),
			},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: o.NoNewPrivileges,
			Rlimits:         o.Rlimits,
			OOMScoreAdj:     o.OOMScoreAdj,
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}},
			Sysctl:     o.Sysctls,
			Resources:  o.Resources,
		},
	}
	for _, t := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.CgroupNamespace} {
		p, shared := o.Shared[t]
		switch {
		case !shared:
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
		case p != "":
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t, Path: p})
		}
	}
	if _, host := o.Shared[specs.UTSNamespace]; host {
		// The host's (or another's) UTS namespace keeps its names.
		s.Hostname, s.Domainname = "", ""
	}
	if o.TTY {
		s.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	}
	if o.Network != NetworkHost {
		// A joined namespace gets its path when the container starts.
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	switch {
	case o.UserNSPath != "":
		// runc takes the mappings from the namespace it joins.
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: o.UserNSPath})
	case len(o.UIDMappings) > 0:
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = o.UIDMappings, o.GIDMappings
	}
	if !o.Privileged {
		s.Linux.MaskedPaths = MaskedPaths
		s.Linux.ReadonlyPaths = ReadonlyPaths
	}
	s.Mounts = mounts(o)
	if len(o.Devices)+len(o.DeviceRules) > 0 {
		s.Linux.Devices = append(s.Linux.Devices, o.Devices...)
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		} else {
			r := *s.Linux.Resources
			s.Linux.Resources = &r
		}
		s.Linux.Resources.Devices = append(slices.Clone(s.Linux.Resources.Devices), o.DeviceRules...)
	}
	if o.Privileged {
		s.Linux.Devices = hostDevices()
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}

	switch {
	case o.Privileged || o.Seccomp == "unconfined":
	case o.Seccomp == "":
		if s.Linux.Seccomp, err = seccomp.GetDefaultProfile(s); err != nil {
			return nil, fmt.Errorf("load default seccomp profile: %w", err)
		}
		s.Linux.Seccomp.Architectures = seccompArches(s.Linux.Seccomp.Architectures, o.ImageArch)
	default:
		if s.Linux.Seccomp, err = seccomp.LoadProfile(o.Seccomp, s); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid seccomp profile: %v", err)}
		}
	}
	return s, nil
}

// command applies Docker's Entrypoint/Cmd rules.
func command(o Options) ([]string, error) {
	entry, cmd := o.Image.Entrypoint, o.Image.Cmd
	if o.Entrypoint != nil {
		entry, cmd = o.Entrypoint, nil
	}
	if o.Cmd != nil {
		cmd = o.Cmd
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	return args, nil
}

// environment merges PATH, the image's Env, HOSTNAME, TERM and the user's
// -e values, later ones winning, as Docker does.
func environment(o Options) ([]string, error) {
	var env []string
	set := func(kv string) { env = SetEnv(env, kv) }
	set("PATH=" + defaultPath)
	for _, e := range o.LinkEnv {
		set(e)
	}
	for _, e := range o.Image.Env {
		set(e)
	}
	if o.Hostname != "" {
		set("HOSTNAME=" + o.Hostname)
	}
	if o.TTY {
		set("TERM=xterm")
	}
	for _, e := range o.Env {
		k, _, hasValue := strings.Cut(e, "=")
		if k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid environment variable %q: the name is empty", e)}
		}
		if !hasValue {
			// "-e NAME" passes the caller's value, or nothing when unset.
			if o.OSEnv == nil {
				continue
			}
			v, ok := o.OSEnv(k)
			if !ok {
				continue
			}
			e = k + "=" + v
		}
		set(e)
	}
	return env, nil
}

// SetEnv returns env with KEY=VALUE in place of an earlier value of KEY,
// or added at its end. env itself is left as it is: image configs share
// it.
func SetEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	out := append([]string{}, env...)
	for i, e := range out {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			out[i] = kv
			return out
		}
	}
	return append(out, kv)
}

// HasEnv says whether env sets key.
func HasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// resolveUser looks user[:group] up in the rootfs's /etc/passwd and
// /etc/group, following symlinks only inside the rootfs.
func resolveUser(rootfs, spec string) (*user.ExecUser, error) {
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	u, err := user.GetExecUserPath(spec, defaults, passwd, group)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("unable to find user %s: %v", spec, err)}
	}
	return u, nil
}

// addGroups adds --group-add groups to sgids: a number as it is, a
// name looked up in the rootfs's /etc/group, as Docker does. A group
// the container's user namespace cannot hold is refused (checkMapped
// drops only the image's own memberships).
func addGroups(rootfs string, sgids []int, add []string, gidMap []specs.LinuxIDMapping) ([]int, error) {
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	gids, err := user.GetAdditionalGroupsPath(add, group)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("--group-add: %v", err)}
	}
	for _, g := range gids {
		if len(gidMap) > 0 && !idMapped(gidMap, g) {
			return nil, &UsageError{Msg: fmt.Sprintf("--group-add: gid %d is not mapped in box's user namespace", g),
				Fix: "give your user a subordinate id range: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER"}
		}
		if !slices.Contains(sgids, g) {
			sgids = append(sgids, g)
		}
	}
	return sgids, nil
}

// checkMapped refuses a user or group the container's user namespace
// cannot hold, and drops unmappable supplementary groups (a single-id
// namespace has only 0), so the start does not fail deep in runc.
func checkMapped(u *user.ExecUser, uids, gids []specs.LinuxIDMapping) error {
	if len(uids) == 0 {
		return nil
	}
	mapped := idMapped
	if !mapped(uids, u.Uid) || !mapped(gids, u.Gid) {
		return &UsageError{Msg: fmt.Sprintf("uid %d / gid %d is not mapped in box's user namespace", u.Uid, u.Gid),
			Fix: "give your user a subordinate id range: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER"}
	}
	var keep []int
	for _, g := range u.Sgids {
		if mapped(gids, g) {
			keep = append(keep, g)
		}
	}
	u.Sgids = keep
	return nil
}

// idMapped says whether id is inside one of m's ranges.
func idMapped(m []specs.LinuxIDMapping, id int) bool {
	for _, r := range m {
		if id >= int(r.ContainerID) && id < int(r.ContainerID)+int(r.Size) {
			return true
		}
	}
	return false
}

// groups lists the supplementary groups: the primary group first, then
// the user's /etc/group memberships, as Docker (through containerd) does.
func groups(u *user.ExecUser) []uint32 {
	out := []uint32{uint32(u.Gid)}
	for _, g := range u.Sgids {
		if g != u.Gid {
			out = append(out, uint32(g))
		}
	}
	return out
}

// AllCaps lists every capability box itself may grant, for --privileged
// and --cap-add ALL: those in this process's bounding set (root in a
// container or a restricted machine may lack some, and asking for one it
// lacks fails the start).
func AllCaps() []string {
	bounding := ^uint64(0)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
					bounding = n
				}
			}
		}
	}
	var out []string
	for name, n := range capNumbers {
		if bounding&(1<<uint(n)) != 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// IsCapability says whether name ("CAP_NET_ADMIN") is a Linux
// capability box knows.
func IsCapability(name string) bool {
	_, ok := capNumbers[name]
	return ok
}

// capabilities applies --privileged, --cap-add and --cap-drop to Docker's
// default set. The lists hold capabilities as engine/flags spells them,
// CAP_NAME, or ALL.
func capabilities(o Options) ([]string, error) {
	if o.Privileged {
		return AllCaps(), nil
	}
	set := map[string]bool{}
	for _, c := range DefaultCaps {
		set[c] = true
	}
	norm := func(list []string) ([]string, bool, error) {
		var out []string
		all := false
		for _, c := range list {
			if c == "ALL" {
				all = true
				continue
			}
			if !IsCapability(c) {
				return nil, false, &UsageError{Msg: fmt.Sprintf("unknown capability %q", c)}
			}
			out = append(out, c)
		}
		return out, all, nil
	}
	drop, dropAll, err := norm(o.CapDrop)
	if err != nil {
		return nil, err
	}
	add, addAll, err := norm(o.CapAdd)
	if err != nil {
		return nil, err
	}
	if dropAll {
		set = map[string]bool{}
	}
	for _, c := range drop {
		delete(set, c)
	}
	if addAll {
		for _, c := range AllCaps() {
			set[c] = true
		}
	}
	for _, c := range add {
		set[c] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}

var capNumbers = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// mounts returns Docker's standard mounts followed by the user's, which
// win where they overlap.
func mounts(o Options) []specs.Mount {
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	}
	if o.ShmSize > 0 {
		ms[4].Options[4] = "size=" + strconv.FormatInt(o.ShmSize, 10)
	}
	if _, host := o.Shared[specs.IPCNamespace]; host && o.Shared[specs.IPCNamespace] == "" {
		// The host's IPC namespace goes with the host's /dev/shm, as Docker's.
		ms[4] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
	}
	if o.NoShm {
		ms = append(ms[:4], ms[5:]...)
	}
	if _, host := o.Shared[specs.IPCNamespace]; host && o.Shared[specs.IPCNamespace] == "" && o.Rootless {
		// mqueue can be mounted only by the owner of the IPC namespace: a
		// rootless container sharing the host's sees the host's queues
		// where the host has them mounted, and none where it has not.
		if st, err := os.Stat("/dev/mqueue"); err == nil && st.IsDir() {
			ms[3] = specs.Mount{Destination: "/dev/mqueue", Type: "bind", Source: "/dev/mqueue", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
		} else {
			ms = append(ms[:3], ms[4:]...)
		}
	}
	if p, shared := o.Shared[specs.PIDNamespace]; shared && p == "" && o.Rootless {
		// proc can be mounted only by the owner of the PID namespace; a
		// rootless container sharing the host's gets it by bind mount.
		ms[0] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
	}
	if !o.Rootless {
		// gid=5 is the tty group; in a user namespace it may not be mapped.
		ms[2].Options = append(ms[2].Options, "gid=5")
	}
	sysOpts := []string{"nosuid", "noexec", "nodev"}
	if !o.Privileged {
		sysOpts = append(sysOpts, "ro")
	}
	if (o.Network == NetworkHost || o.JoinNetwork || o.UserNSPath != "") && o.Rootless {
		// (A container in another's user namespace has its network
		// namespace made in box's, which it does not own.)
		// sysfs can be mounted only by the owner of the network namespace;
		// sharing the host's, box gets the host's /sys by bind mount.
		ms = append(ms, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: append([]string{"rbind"}, sysOpts...)})
	} else {
		ms = append(ms, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOpts})
	}
	if !o.Rootless {
		// The container's own cgroups, read-only, as Docker mounts them:
		// `cat /sys/fs/cgroup/memory/memory.limit_in_bytes` shows its
		// limit. A rootless container has no cgroup of its own here.
		cgOpts := []string{"nosuid", "noexec", "nodev", "relatime"}
		if !o.Privileged {
			cgOpts = append(cgOpts, "ro")
		}
		ms = append(ms, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: cgOpts})
	}
	for _, dst := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"} {
		if src, ok := o.EtcFiles[dst]; ok {
			ms = append(ms, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rprivate"}})
		}
	}
	for _, m := range o.Mounts {
		dst := path.Clean(m.Destination)
		// A user's mount replaces a default one at the same place.
		for i := 0; i < len(ms); i++ {
			if ms[i].Destination == dst {
				ms = append(ms[:i], ms[i+1:]...)
				i--
			}
		}
		switch m.Type {
		case "tmpfs":
			ms = append(ms, specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: append([]string{"nosuid", "nodev"}, m.Options...)})
		default:
			ms = append(ms, specs.Mount{Destination: dst, Type: "bind", Source: m.Source, Options: append([]string{"rbind"}, m.Options...)})
		}
	}
	// Parents before children, as Docker sorts them: the runtime mounts
	// in order, and a user's mount at /etc after the /etc/hostname bind
	// would hide it.
	sort.SliceStable(ms, func(i, j int) bool {
		return strings.Count(ms[i].Destination, "/") < strings.Count(ms[j].Destination, "/")
	})
	return ms
}

// hostDevices lists the host's top-level device nodes for --privileged.
func hostDevices() []specs.LinuxDevice {
	entries, err := os.ReadDir("/dev")
	if err != nil {
		return nil
	}
	var devs []specs.LinuxDevice
	for _, e := range entries {
		p := filepath.Join("/dev", e.Name())
		if d, ok := deviceFromPath(p); ok {
			devs = append(devs, d)
		}
	}
	return devs
}

// seccompArches narrows the default profile's architectures to those the
// container can use. Docker lists x86_64, x86 and x32 on amd64, and
// libseccomp compiles every rule for each of them inside the container's
// init: measured here, x86 and x32 cost ~18 ms of a ~120 ms `run`. An
// amd64 image gets x86_64 alone (32-bit system calls are then refused:
// stricter than Docker, never looser); a 386 image keeps x86 too, since
// its binaries need it and the init that execs them is 64-bit.
func seccompArches(arches []specs.Arch, imageArch string) []specs.Arch {
	if runtime.GOARCH != "amd64" {
		return arches
	}
	keep := map[specs.Arch]bool{specs.ArchX86_64: true, specs.ArchX86: imageArch == "386"}
	var out []specs.Arch
	for _, a := range arches {
		if keep[a] {
			out = append(out, a)
		}
	}
	return out
}
