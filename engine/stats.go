package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats is one reading of a container's resource use, in the terms of
// `docker stats`. A container that is not running reads all zeros, as in
// Docker.
type Stats struct {
	ID, Name string
	Running  bool
	// CPUPercent is the share of one CPU used since the previous reading
	// of the same container by the same StatsReader (0 at the first), as
	// Docker computes it: container time / host time × online CPUs × 100.
	CPUPercent float64
	// MemUsage excludes the inactive page cache (Docker's figure);
	// MemLimit is the container's limit, or the host's memory without one.
	MemUsage, MemLimit    uint64
	MemPercent            float64
	NetRx, NetTx          uint64
	BlockRead, BlockWrite uint64
	// PIDs counts tasks (threads), as the pids cgroup does.
	PIDs uint64
	// FromProc says the container has no cgroup of its own (rootless on
	// cgroup v1, or on v2 without delegation), so the figures are read from
	// /proc: CPU time and block I/O of its live processes and of the
	// children they reaped, memory as their proportional set size (shared
	// pages split between sharers), and the host's memory as the limit.
	// Nothing counts a process that left without being reaped inside.
	FromProc bool
}

// StatsReader reads containers' resource use, remembering each one's CPU
// time between readings. It is not safe for concurrent use.
type StatsReader struct {
	e    *Engine
	prev map[string]cpuTime
}

// cpuTime is a container's CPU time and the host's, both in nanoseconds.
type cpuTime struct{ container, host uint64 }

// NewStatsReader starts a series of readings.
func (e *Engine) NewStatsReader() *StatsReader { return &StatsReader{e: e, prev: map[string]cpuTime{}} }

// Read takes one reading of c (from Containers or LookupContainer). It
// reads what it can: a figure the kernel will not show is zero.
func (r *StatsReader) Read(c *Container) Stats {
	s := Stats{ID: c.ID, Name: c.Name}
	if c.State != Running || c.init == nil || !c.init.alive() {
		delete(r.prev, c.ID)
		return s
	}
	s.Running = true
	pid := c.init.PID
	var cpu uint64
	if cg := containerCgroup(pid, c.ID); cg != nil {
		cpu = cg.read(&s)
	} else {
		s.FromProc = true
		cpu = readProcStats(containerPIDs(c), &s)
	}
	host, ncpu := hostCPU()
	if s.MemLimit == 0 || s.MemLimit > hostMemory() {
		s.MemLimit = hostMemory()
	}
	if s.MemLimit > 0 {
		s.MemPercent = float64(s.MemUsage) / float64(s.MemLimit) * 100
	}
	// On the host's network a container has no counters of its own:
	// Docker shows none.
	if !r.hostNetwork(c.ID) {
		s.NetRx, s.NetTx = netCounters(pid)
	}
	if p, ok := r.prev[c.ID]; ok && host > p.host && cpu > p.container {
		s.CPUPercent = float64(cpu-p.container) / float64(host-p.host) * float64(ncpu) * 100
	}
	r.prev[c.ID] = cpuTime{container: cpu, host: host}
	return s
}

// hostNetwork says whether container id runs on the host's network.
func (r *StatsReader) hostNetwork(id string) bool {
	dir, err := r.e.Store.ContainerDir(id)
	if err != nil {
		return false
	}
	rec, err := loadRecord(dir)
	return err == nil && rec.NetworkMode == "host"
}

// cgroupDirs are a container's own cgroup directories: one per cgroup v1
// controller, and its directory in the unified (v2) hierarchy.
type cgroupDirs struct {
	v1 map[string]string
	v2 string
}

// containerCgroup finds the cgroup of pid that belongs to container id
// (a rootful container's, /box/ID) in either layout, or nil when pid is
// only in the cgroups of whoever started it (rootless on cgroup v1): those
// hold other processes too and say nothing about the container.
func containerCgroup(pid int, id string) *cgroupDirs {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	cg := &cgroupDirs{v1: map[string]string{}}
	unified := "/sys/fs/cgroup"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		unified = "/sys/fs/cgroup/unified" // hybrid: v2 beside the v1 controllers
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || !strings.Contains(parts[2], id) {
			continue
		}
		if parts[1] == "" {
			cg.v2 = filepath.Join(unified, parts[2])
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			for _, mount := range []string{ctrl, parts[1]} {
				d := filepath.Join("/sys/fs/cgroup", mount, parts[2])
				if _, err := os.Stat(d); err == nil {
					cg.v1[ctrl] = d
					break
				}
			}
		}
	}
	if len(cg.v1) == 0 && cg.v2 == "" {
		return nil
	}
	return cg
}

// read fills s from the container's cgroups, v1 controllers first (on a
// hybrid machine the v2 tree holds little), and returns its CPU time.
func (cg *cgroupDirs) read(s *Stats) (cpu uint64) {
	v1 := func(ctrl, file string) string {
		if d, ok := cg.v1[ctrl]; ok {
			return filepath.Join(d, file)
		}
		return ""
	}
	v2 := func(file string) string {
		if cg.v2 != "" {
			return filepath.Join(cg.v2, file)
		}
		return ""
	}
	if n, ok := readUint(v1("cpuacct", "cpuacct.usage")); ok {
		cpu = n
	} else if usec, ok := keyed(v2("cpu.stat"), "usage_usec"); ok {
		cpu = usec * 1000
	}
	if n, ok := readUint(v1("memory", "memory.usage_in_bytes")); ok {
		inactive, _ := keyed(v1("memory", "memory.stat"), "total_inactive_file")
		s.MemUsage = minus(n, inactive)
		s.MemLimit, _ = readUint(v1("memory", "memory.limit_in_bytes"))
	} else if n, ok := readUint(v2("memory.current")); ok {
		inactive, _ := keyed(v2("memory.stat"), "inactive_file")
		s.MemUsage = minus(n, inactive)
		s.MemLimit, _ = readUint(v2("memory.max")) // "max": no limit
	}
	if f := v1("blkio", "blkio.throttle.io_service_bytes_recursive"); f != "" {
		s.BlockRead, s.BlockWrite = blkioV1(f)
		if s.BlockRead == 0 && s.BlockWrite == 0 {
			s.BlockRead, s.BlockWrite = blkioV1(v1("blkio", "blkio.io_service_bytes_recursive"))
		}
	} else {
		s.BlockRead, s.BlockWrite = ioStatV2(v2("io.stat"))
	}
	if n, ok := readUint(v1("pids", "pids.current")); ok {
		s.PIDs = n
	} else if n, ok := readUint(v2("pids.current")); ok {
		s.PIDs = n
	}
	return cpu
}

// readProcStats fills s from the /proc entries of pids and returns their
// CPU time.
func readProcStats(pids []int, s *Stats) (cpu uint64) {
	var ticks uint64
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone meanwhile
		}
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		// Fields from the state (3rd) on: utime, stime, cutime and cstime
		// are the 14th to 17th, num_threads the 20th.
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 18 {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
		threads, _ := strconv.ParseUint(f[17], 10, 64)
		s.PIDs += threads
		if pss, ok := keyed(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:"); ok {
			s.MemUsage += pss * 1024
		} else if statm, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid)); err == nil {
			if f := strings.Fields(string(statm)); len(f) > 1 {
				pages, _ := strconv.ParseUint(f[1], 10, 64)
				s.MemUsage += pages * uint64(os.Getpagesize())
			}
		}
		if r, ok := keyed(fmt.Sprintf("/proc/%d/io", pid), "read_bytes:"); ok {
			s.BlockRead += r
		}
		if w, ok := keyed(fmt.Sprintf("/proc/%d/io", pid), "write_bytes:"); ok {
			s.BlockWrite += w
		}
	}
	return ticks * 1e9 / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture box builds for.
const clockTicks = 100

// hostCPU returns the host's CPU time (the first seven fields of
// /proc/stat's cpu line, Docker's "system usage") in nanoseconds, and the
// number of online CPUs.
func hostCPU() (total uint64, ncpu int) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) > 7 && fields[0] == "cpu":
			for _, v := range fields[1:8] {
				n, _ := strconv.ParseUint(v, 10, 64)
				total += n
			}
		case len(fields) > 0 && strings.HasPrefix(fields[0], "cpu"):
			ncpu++
		}
	}
	return total * 1e9 / clockTicks, max(ncpu, 1)
}

// hostMemory is MemTotal in bytes.
func hostMemory() uint64 {
	kb, _ := keyed("/proc/meminfo", "MemTotal:")
	return kb * 1024
}

// netCounters sums the bytes received and sent on every interface but
// loopback in pid's network namespace, as Docker counts a container's
// network I/O.
func netCounters(pid int) (rx, tx uint64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}

// blkioV1 sums the Read and Write lines of a cgroup v1 blkio file.
func blkioV1(path string) (read, write uint64) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(f[2], 10, 64)
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// ioStatV2 sums rbytes and wbytes of a cgroup v2 io.stat.
func ioStatV2(path string) (read, write uint64) {
	data, err := os.ReadFile(path)
	if path == "" || err != nil {
		return 0, 0
	}
	for _, kv := range strings.Fields(string(data)) {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "rbytes":
			read += n
		case "wbytes":
			write += n
		}
	}
	return read, write
}

// readUint reads a file holding one number; "max" and a missing file are
// not numbers.
func readUint(path string) (uint64, bool) {
	if path == "" {
		return 0, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	return n, err == nil
}

// keyed reads the number after key in a "key value" file (memory.stat,
// cpu.stat, /proc/meminfo, smaps_rollup, /proc/PID/io).
func keyed(path, key string) (uint64, bool) {
	if path == "" {
		return 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == key {
			n, err := strconv.ParseUint(fields[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func minus(a, b uint64) uint64 {
	if b < a {
		return a - b
	}
	return a
}
