package engine

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/flags"
)

// linuxResources is r in the runtime spec's terms, nil when r sets
// nothing. Docker's --cpus becomes a CFS quota over a 100 ms period and
// --memory-swap the memory+swap total, as Docker (and runc, which turns
// both into cgroup v2's own files) take them.
func linuxResources(r flags.Resources) *specs.LinuxResources {
	if !r.Any() {
		return nil
	}
	lr := &specs.LinuxResources{}
	if r.Memory != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 || r.OomKillDisable != nil || r.MemorySwappiness != nil {
		m := &specs.LinuxMemory{DisableOOMKiller: r.OomKillDisable}
		if r.MemorySwappiness != nil {
			sw := uint64(*r.MemorySwappiness)
			m.Swappiness = &sw
		}
		if r.Memory != 0 {
			m.Limit = &r.Memory
		}
		if r.MemorySwap != 0 {
			m.Swap = &r.MemorySwap
		} else if r.Memory > 0 {
			// Docker: without --memory-swap, as much swap as memory.
			swap := 2 * r.Memory
			m.Swap = &swap
		}
		if r.MemoryReservation != 0 {
			m.Reservation = &r.MemoryReservation
		}
		lr.Memory = m
	}
	if r.NanoCPUs != 0 || r.CPUShares != 0 || r.CpusetCpus != "" || r.CpusetMems != "" || r.CPUPeriod != 0 || r.CPUQuota != 0 {
		c := &specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
		if r.CPUShares != 0 {
			shares := uint64(r.CPUShares)
			c.Shares = &shares
		}
		if r.NanoCPUs != 0 {
			period := uint64(100000)
			quota := r.NanoCPUs * int64(period) / 1e9
			c.Period, c.Quota = &period, &quota
		}
		if r.CPUPeriod != 0 {
			period := uint64(r.CPUPeriod)
			c.Period = &period
		}
		if r.CPUQuota != 0 {
			quota := r.CPUQuota
			c.Quota = &quota
		}
		lr.CPU = c
	}
	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1 // Docker: 0 and -1 are unlimited
		}
		lr.Pids = &specs.LinuxPids{Limit: &limit}
	}
	if r.BlkioWeight != 0 {
		w := r.BlkioWeight
		lr.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return lr
}

// rootlessCgroup finds where a rootless container's cgroup can go: on
// cgroup v2, under the nearest cgroup at or above the caller's own that
// is delegated to the user (writable, with the controllers the limits
// need enabled for its children), as Podman does without systemd. It
// returns the prefix of the container's cgroup path (its id completes
// it), or "" and why limits cannot apply, with how to enable them.
func rootlessCgroup(r flags.Resources) (string, string) {
	const fix = "run box as root, or on cgroup v2 with a delegated cgroup (systemd: Delegate=yes for user@.service; then run from a systemd --user scope)"
	if cgroupVersion() != "v2" {
		return "", "resource limits are ignored: rootless containers need cgroup v2 to be limited, and this machine has cgroup v1; " + fix
	}
	own, err := ownCgroup()
	if err != nil {
		return "", "resource limits are ignored: cannot find box's own cgroup (" + err.Error() + "); " + fix
	}
	parent, err := delegatedCgroup("/sys/fs/cgroup", own, neededControllers(r))
	if err != nil {
		return "", "resource limits are ignored: " + err.Error() + "; " + fix
	}
	return path.Join(parent, "box-"), ""
}

// delegatedCgroup walks up from the cgroup own under the v2 mount root
// to the nearest one the caller may create children in and move
// processes into (its directory and cgroup.procs writable) whose
// cgroup.subtree_control enables every controller in need. A cgroup
// with processes cannot enable controllers for children, so own itself
// usually does not qualify, but its delegated parent does.
func delegatedCgroup(root, own string, need []string) (string, error) {
	for dir := path.Clean("/" + own); ; dir = path.Dir(dir) {
		full := filepath.Join(root, dir)
		if unix.Access(full, unix.W_OK) == nil && unix.Access(filepath.Join(full, "cgroup.procs"), unix.W_OK) == nil {
			enabled, _ := os.ReadFile(filepath.Join(full, "cgroup.subtree_control"))
			have := " " + strings.Join(strings.Fields(string(enabled)), " ") + " "
			missing := ""
			for _, c := range need {
				if !strings.Contains(have, " "+c+" ") {
					missing = c
					break
				}
			}
			if missing == "" {
				return dir, nil
			}
		}
		if dir == "/" {
			return "", fmt.Errorf("no cgroup at or above %s is delegated to you with the %s controllers", own, strings.Join(need, ", "))
		}
	}
}

// neededControllers are the cgroup v2 controllers r's limits use.
func neededControllers(r flags.Resources) []string {
	var out []string
	if r.Memory != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 {
		out = append(out, "memory")
	}
	if r.NanoCPUs != 0 || r.CPUShares != 0 || r.CPUPeriod != 0 || r.CPUQuota != 0 {
		out = append(out, "cpu")
	}
	if r.CpusetCpus != "" || r.CpusetMems != "" {
		out = append(out, "cpuset")
	}
	if r.PidsLimit != nil {
		out = append(out, "pids")
	}
	if r.BlkioWeight != 0 {
		out = append(out, "io")
	}
	return out
}

// ownCgroup is this process's cgroup v2 path ("0::/PATH").
func ownCgroup() (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup v2 entry in /proc/self/cgroup")
}

// checkUlimits refuses a --ulimit above the caller's own hard limit:
// box cannot raise it (root here lacks CAP_SYS_RESOURCE, and a rootless
// user never has it), and the start would fail deep in the runtime.
func checkUlimits(us []flags.Ulimit) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	for _, u := range us {
		var cur unix.Rlimit
		if err := unix.Getrlimit(u.Resource(), &cur); err == nil {
			hard := uint64(u.Hard)
			if u.Hard < 0 {
				hard = unix.RLIM_INFINITY
			}
			if hard > cur.Max {
				return nil, &UsageError{Msg: fmt.Sprintf("invalid --ulimit %s: the hard limit %s is above your own hard limit for %s, %s, which box cannot raise",
					u.Given(), rlimitString(hard), u.Name, rlimitString(cur.Max))}
			}
		}
		soft, hard := uint64(u.Soft), uint64(u.Hard)
		if u.Soft < 0 {
			soft = unix.RLIM_INFINITY
		}
		if u.Hard < 0 {
			hard = unix.RLIM_INFINITY
		}
		out = append(out, specs.POSIXRlimit{Type: u.RlimitType(), Soft: soft, Hard: hard})
	}
	return out, nil
}

func rlimitString(n uint64) string {
	if n == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(n)
}
