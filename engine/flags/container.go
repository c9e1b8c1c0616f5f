package flags

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// Ulimit is one --ulimit: a resource by Docker's name ("nofile") and
// its soft and hard limits. Its JSON is Docker's HostConfig.Ulimits
// entry.
type Ulimit struct {
	Name string `json:"Name"`
	Hard int64  `json:"Hard"`
	Soft int64  `json:"Soft"`
}

// ParseUlimits reads --ulimit NAME=SOFT[:HARD] (HARD defaults to SOFT;
// -1 is unlimited), with Docker's (go-units') names and words. A later
// flag for the same resource replaces an earlier one, as in Docker.
func ParseUlimits(specs []string) ([]Ulimit, error) {
	byName := map[string]Ulimit{}
	for _, s := range specs {
		u, err := units.ParseUlimit(s)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--ulimit\" flag: %v", s, err)}
		}
		byName[u.Name] = Ulimit{Name: u.Name, Hard: u.Hard, Soft: u.Soft}
	}
	if len(byName) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Ulimit, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out, nil
}

// RlimitType is u's resource as the OCI spec names it (RLIMIT_NOFILE).
func (u Ulimit) RlimitType() string { return "RLIMIT_" + strings.ToUpper(u.Name) }

// Resource is u's resource number for getrlimit(2).
func (u Ulimit) Resource() int {
	return map[string]int{
		"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
		"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
		"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
		"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
		"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
	}[u.Name]
}

// Given is u as Docker prints it: NAME=SOFT:HARD.
func (u Ulimit) Given() string { return fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard) }

// namespacedSysctls are the sysctls outside net.* and fs.mqueue.* that
// a container's own namespaces hold: Docker's list (IPC namespace).
var namespacedSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// ParseSysctls reads --sysctl KEY=VALUE, allowing only the sysctls a
// container's namespaces hold, as Docker does: net.*, fs.mqueue.* and
// the IPC kernel.* ones. Whether a net.* one fits the network mode is
// the engine's to check (IsNetSysctl).
func ParseSysctls(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--sysctl\" flag: want KEY=VALUE", s)}
		}
		if !namespacedSysctls[k] && !strings.HasPrefix(k, "net.") && !strings.HasPrefix(k, "fs.mqueue.") {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--sysctl\" flag: sysctl '%s' is not allowed: only net.*, fs.mqueue.* and kernel.{msgmax,msgmnb,msgmni,sem,shmall,shmmax,shmmni,shm_rmid_forced} are namespaced", s, k)}
		}
		out[k] = v
	}
	return out, nil
}

// IsNetSysctl says whether a sysctl lives in the network namespace.
func IsNetSysctl(k string) bool { return strings.HasPrefix(k, "net.") }

// IsIPCSysctl says whether a sysctl lives in the IPC namespace.
func IsIPCSysctl(k string) bool { return !IsNetSysctl(k) }

// ParseBytes reads a size as Docker's --memory, --shm-size and the like
// take it: a number with an optional unit b, k, m, g, t or p (any case,
// "mb" as "m"), in powers of 1024. flag names the flag for the message.
func ParseBytes(flag, s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, &UsageError{Msg: fmt.Sprintf("invalid argument %q for %q flag: %v", s, flag, err)}
	}
	return n, nil
}

// ParseSignal reads a signal as Docker takes it: "KILL", "SIGKILL" or "9".
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s", s)
}

// ParseExpose reads --expose PORT[-PORT][/PROTO] into the keys of
// Docker's Config.ExposedPorts ("80/tcp"), a range one key per port.
func ParseExpose(specs []string) ([]string, error) {
	var out []string
	for _, s := range specs {
		proto, port := nat.SplitProtoPort(s)
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--expose\" flag: invalid proto: %s", s, proto)}
		}
		lo, hi, err := nat.ParsePortRangeToInt(port)
		if err != nil || lo < 1 {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid range format for --expose: %s", s)}
		}
		for p := lo; p <= hi; p++ {
			out = append(out, fmt.Sprintf("%d/%s", p, proto))
		}
	}
	return out, nil
}

// ParseAnnotations reads --annotation KEY=VALUE.
func ParseAnnotations(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--annotation\" flag: want KEY=VALUE", s)}
		}
		out[k] = v
	}
	return out, nil
}

// NamespaceMode is --pid, --ipc, --uts or --cgroupns: "" for the
// container's own namespace, "host" for the host's, or another
// container's (Container names it).
type NamespaceMode struct {
	Mode      string `json:"mode,omitempty"` // "", "host", "container", "private", "shareable"
	Container string `json:"container,omitempty"`
}

// String is the mode as Docker's inspect shows it.
func (m NamespaceMode) String() string {
	if m.Mode == "container" {
		return "container:" + m.Container
	}
	return m.Mode
}

// Host says the namespace is the host's.
func (m NamespaceMode) Host() bool { return m.Mode == "host" }

// ParseNamespaceMode reads --pid, --ipc or --uts (flag names which):
// host, container:NAME, and for --ipc private, shareable and none too
// (box's IPC namespaces are all private: shareable is private that
// others may join, none is private without /dev/shm in Docker, taken as
// private here), and for --cgroupns host or private.
func ParseNamespaceMode(flag, s string) (NamespaceMode, error) {
	bad := func(want string) (NamespaceMode, error) {
		return NamespaceMode{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--%s\" flag: want %s", s, flag, want)}
	}
	if name, ok := strings.CutPrefix(s, "container:"); ok && flag != "uts" && flag != "cgroupns" {
		if name == "" {
			return bad("a container name after container:")
		}
		return NamespaceMode{Mode: "container", Container: name}, nil
	}
	switch flag {
	case "ipc":
		switch s {
		case "", "private", "shareable", "none":
			return NamespaceMode{Mode: s}, nil
		case "host":
			return NamespaceMode{Mode: s}, nil
		}
		return bad("host, private, shareable, none or container:NAME")
	case "cgroupns":
		switch s {
		case "", "private", "host":
			return NamespaceMode{Mode: s}, nil
		}
		return bad("host or private")
	case "uts":
		if s == "" || s == "host" {
			return NamespaceMode{Mode: s}, nil
		}
		return bad("host")
	}
	if s == "" || s == "host" {
		return NamespaceMode{Mode: s}, nil
	}
	return bad("host or container:NAME")
}

// Resources are the cgroup limits of run, create and update, in
// Docker's units: bytes, nano-CPUs, a weight. Zero (nil for the
// pointers) is unset. Its JSON names are Docker's HostConfig fields.
type Resources struct {
	Memory            int64  `json:"Memory,omitempty"`
	MemorySwap        int64  `json:"MemorySwap,omitempty"` // -1: unlimited swap
	MemoryReservation int64  `json:"MemoryReservation,omitempty"`
	NanoCPUs          int64  `json:"NanoCpus,omitempty"`
	CPUShares         int64  `json:"CpuShares,omitempty"`
	CpusetCpus        string `json:"CpusetCpus,omitempty"`
	CpusetMems        string `json:"CpusetMems,omitempty"`
	PidsLimit         *int64 `json:"PidsLimit,omitempty"` // <= 0: unlimited
	BlkioWeight       uint16 `json:"BlkioWeight,omitempty"`
	OomKillDisable    *bool  `json:"OomKillDisable,omitempty"`
	CPUPeriod         int64  `json:"CpuPeriod,omitempty"`
	CPUQuota          int64  `json:"CpuQuota,omitempty"`
	MemorySwappiness  *int64 `json:"MemorySwappiness,omitempty"`
}

// Any says a limit is set.
func (r Resources) Any() bool { return r != (Resources{}) }

// ResourceFlags are the resource flags as given, "" when absent.
// Update marks update's, whose limits join the container's: a swap
// limit alone is checked against its memory limit there.
type ResourceFlags struct {
	Memory, MemorySwap, MemoryReservation, CPUs, CPUShares string
	CpusetCpus, CpusetMems, PidsLimit, BlkioWeight         string
	CPUPeriod, CPUQuota, MemorySwappiness                  string
	OomKillDisable                                         bool
	Update                                                 bool
}

// ParseResources reads -m/--memory, --memory-swap, --memory-reservation,
// --cpus, -c/--cpu-shares, --cpuset-cpus, --cpuset-mems, --pids-limit,
// --blkio-weight and --oom-kill-disable with Docker's syntax and rules.
func ParseResources(f ResourceFlags) (Resources, error) {
	var r Resources
	var err error
	bytes := func(flag, v string, dst *int64) {
		if err == nil && v != "" {
			*dst, err = ParseBytes(flag, v)
		}
	}
	bytes("-m, --memory", f.Memory, &r.Memory)
	bytes("--memory-reservation", f.MemoryReservation, &r.MemoryReservation)
	if f.MemorySwap == "-1" {
		r.MemorySwap = -1
	} else {
		bytes("--memory-swap", f.MemorySwap, &r.MemorySwap)
	}
	if err != nil {
		return Resources{}, err
	}
	if r.Memory != 0 && r.Memory < 6*1024*1024 {
		return Resources{}, &UsageError{Msg: "minimum memory limit allowed is 6MB"}
	}
	if r.MemorySwap > 0 && r.Memory == 0 && !f.Update {
		return Resources{}, &UsageError{Msg: "you should always set the memory limit when using the memory swap limit"}
	}
	if r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return Resources{}, &UsageError{Msg: "minimum memoryswap limit should be larger than memory limit, see usage"}
	}
	if r.MemoryReservation != 0 && r.Memory != 0 && r.MemoryReservation > r.Memory {
		return Resources{}, &UsageError{Msg: "minimum memory limit can not be less than memory reservation limit, see usage"}
	}
	if f.CPUs != "" {
		if r.NanoCPUs, err = parseCPUs(f.CPUs); err != nil {
			return Resources{}, err
		}
	}
	if f.CPUShares != "" {
		n, err := strconv.ParseInt(f.CPUShares, 10, 64)
		if err != nil || n < 0 {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"-c, --cpu-shares\" flag: want a whole number of 0 or more", f.CPUShares)}
		}
		r.CPUShares = n
	}
	for _, c := range []struct{ flag, v string }{{"--cpuset-cpus", f.CpusetCpus}, {"--cpuset-mems", f.CpusetMems}} {
		if c.v != "" && !validCpuset(c.v) {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for %q flag: want a list such as 0-3 or 0,1", c.v, c.flag)}
		}
	}
	r.CpusetCpus, r.CpusetMems = f.CpusetCpus, f.CpusetMems
	if f.PidsLimit != "" {
		n, err := strconv.ParseInt(f.PidsLimit, 10, 64)
		if err != nil {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--pids-limit\" flag: want a whole number (0 or -1: unlimited)", f.PidsLimit)}
		}
		r.PidsLimit = &n
	}
	if f.BlkioWeight != "" {
		n, err := strconv.ParseUint(f.BlkioWeight, 10, 16)
		if err != nil || n != 0 && (n < 10 || n > 1000) {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--blkio-weight\" flag: range of blkio weight is from 10 to 1000", f.BlkioWeight)}
		}
		r.BlkioWeight = uint16(n)
	}
	for _, c := range []struct {
		flag, v  string
		min, max int64
		dst      *int64
	}{
		{"--cpu-period", f.CPUPeriod, 1000, 1000000, &r.CPUPeriod},
		{"--cpu-quota", f.CPUQuota, -1, math.MaxInt64, &r.CPUQuota},
	} {
		if c.v == "" {
			continue
		}
		n, err := strconv.ParseInt(c.v, 10, 64)
		if err != nil || n < c.min || n > c.max || c.flag == "--cpu-quota" && n > 0 && n < 1000 {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for %q flag: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000); quota at least 1000 (-1: none)", c.v, c.flag)}
		}
		*c.dst = n
	}
	if r.NanoCPUs != 0 && (r.CPUPeriod != 0 || r.CPUQuota != 0) {
		return Resources{}, &UsageError{Msg: "conflicting options: Nano CPUs and CPU Period or Quota cannot both be set"}
	}
	if f.MemorySwappiness != "" {
		n, err := strconv.ParseInt(f.MemorySwappiness, 10, 64)
		if err != nil || n < -1 || n > 100 {
			return Resources{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--memory-swappiness\" flag: a value between 0 and 100 (-1: the host's)", f.MemorySwappiness)}
		}
		if n >= 0 {
			r.MemorySwappiness = &n
		}
	}
	if f.OomKillDisable {
		t := true
		r.OomKillDisable = &t
	}
	return r, nil
}

// parseCPUs reads --cpus as Docker does: a decimal number of CPUs, to
// nine places.
func parseCPUs(s string) (int64, error) {
	rat, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--cpus\" flag: failed to parse %s as a rational number", s, s)}
	}
	nano := rat.Mul(rat, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--cpus\" flag: value is too precise", s)}
	}
	n := nano.Num()
	if n.Sign() < 0 || !n.IsInt64() || n.Int64() > math.MaxInt64/2 {
		return 0, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--cpus\" flag: want a number of CPUs of 0 or more", s)}
	}
	return n.Int64(), nil
}

// validCpuset checks a cpuset list: numbers and ranges, comma-separated.
func validCpuset(s string) bool {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return false
		}
		if isRange {
			b, err := strconv.ParseUint(hi, 10, 16)
			if err != nil || b < a {
				return false
			}
		}
	}
	return true
}

// Device is one --device: a host device node, where the container sees
// it, and the cgroup permissions (r, w, m). Its JSON is Docker's
// HostConfig.Devices entry.
type Device struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// ParseDevices reads --device HOST[:CONTAINER][:PERMISSIONS] as Docker
// does (permissions default to rwm; CONTAINER to HOST). The host path
// must be a character or block device: the engine describes it.
func ParseDevices(specs []string) ([]Device, error) {
	var out []Device
	for _, s := range specs {
		parts := strings.Split(s, ":")
		d := Device{PathOnHost: parts[0], CgroupPermissions: "rwm"}
		switch len(parts) {
		case 1:
		case 2:
			if validDevicePerms(parts[1]) {
				d.CgroupPermissions = parts[1]
			} else {
				d.PathInContainer = parts[1]
			}
		case 3:
			d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
			if !validDevicePerms(parts[2]) {
				return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device\" flag: bad mode specified: %s", s, parts[2])}
			}
		default:
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device\" flag: want HOST[:CONTAINER][:PERMISSIONS]", s)}
		}
		if d.PathInContainer == "" {
			d.PathInContainer = d.PathOnHost
		}
		if !strings.HasPrefix(d.PathOnHost, "/") || !strings.HasPrefix(d.PathInContainer, "/") {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device\" flag: device paths must be absolute", s)}
		}
		out = append(out, d)
	}
	return out, nil
}

func validDevicePerms(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c != 'r' && c != 'w' && c != 'm' {
			return false
		}
	}
	return true
}

// Userns is --userns: "" or "host" (box's containers map ids one for
// one onto box's own, the caller's), or "keep-id", which maps the
// caller's own id to UID and GID inside the container (-1: the caller's
// host ids, Podman's default) and runs the container as them.
type Userns struct {
	Mode string `json:"mode,omitempty"`
	UID  int    `json:"uid,omitempty"`
	GID  int    `json:"gid,omitempty"`
}

// String is the mode as given, for inspect's UsernsMode.
func (u Userns) String() string {
	if u.Mode != "keep-id" || u.UID < 0 && u.GID < 0 {
		return u.Mode
	}
	return fmt.Sprintf("keep-id:uid=%d,gid=%d", u.UID, u.GID)
}

// ParseUserns reads --userns: "", host, or keep-id[:uid=N][,gid=M]
// (Podman's, which Docker lacks). The other remapping modes are refused
// by name.
func ParseUserns(s string) (Userns, error) {
	mode, opts, hasOpts := strings.Cut(s, ":")
	switch {
	case s == "" || s == "host":
		return Userns{Mode: s}, nil
	case mode == "keep-id":
		u := Userns{Mode: mode, UID: -1, GID: -1}
		if !hasOpts {
			return u, nil
		}
		for _, o := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(o, "=")
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || k != "uid" && k != "gid" {
				return Userns{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--userns\" flag: keep-id takes uid=N and gid=N", s)}
			}
			if k == "uid" {
				u.UID = n
			} else {
				u.GID = n
			}
		}
		return u, nil
	case mode == "auto" || mode == "nomap":
		return Userns{}, &UsageError{Msg: fmt.Sprintf("--userns %s is not supported by box: it takes host and keep-id", s)}
	}
	return Userns{}, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--userns\" flag: want host or keep-id[:uid=N,gid=N]", s)}
}

// DeviceRule is one --device-cgroup-rule: "TYPE MAJOR:MINOR ACCESS"
// (TYPE a, b or c; MAJOR and MINOR numbers or *; ACCESS of r, w, m).
type DeviceRule struct {
	Type   string `json:"type"`
	Major  *int64 `json:"major,omitempty"` // nil: any
	Minor  *int64 `json:"minor,omitempty"`
	Access string `json:"access"`
	Given  string `json:"given"`
}

// ParseDeviceRules reads --device-cgroup-rule as Docker does.
func ParseDeviceRules(specs []string) ([]DeviceRule, error) {
	var out []DeviceRule
	for _, s := range specs {
		bad := &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--device-cgroup-rule\" flag: want TYPE MAJOR:MINOR ACCESS, as 'c 1:3 rwm'", s)}
		f := strings.Fields(s)
		if len(f) != 3 || (f[0] != "a" && f[0] != "b" && f[0] != "c") || !validDevicePerms(f[2]) {
			return nil, bad
		}
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, bad
		}
		r := DeviceRule{Type: f[0], Access: f[2], Given: s}
		for _, p := range []struct {
			v   string
			dst **int64
		}{{maj, &r.Major}, {min, &r.Minor}} {
			if p.v == "*" {
				continue
			}
			n, err := strconv.ParseInt(p.v, 10, 64)
			if err != nil || n < 0 {
				return nil, bad
			}
			*p.dst = &n
		}
		out = append(out, r)
	}
	return out, nil
}

// IDMap is one --uidmap or --gidmap: CONTAINER:HOST:SIZE, HOST an id
// of box's own user namespace (0 the caller, 1.. the subordinate range),
// as Podman's rootless --uidmap takes it.
type IDMap struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// ParseIDMaps reads --uidmap or --gidmap (flag names which).
func ParseIDMaps(flag string, specs []string) ([]IDMap, error) {
	var out []IDMap
	for _, s := range specs {
		f := strings.Split(s, ":")
		var n [3]uint64
		ok := len(f) == 3
		for i := 0; ok && i < 3; i++ {
			var err error
			n[i], err = strconv.ParseUint(f[i], 10, 32)
			ok = err == nil
		}
		if !ok || n[2] == 0 {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid argument %q for \"--%s\" flag: want CONTAINER:HOST:SIZE, SIZE at least 1", s, flag)}
		}
		out = append(out, IDMap{ContainerID: uint32(n[0]), HostID: uint32(n[1]), Size: uint32(n[2])})
	}
	return out, nil
}
