package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Top is a container's processes as the host's ps shows them: ps's
// header split into Titles and one row of as many fields per process
// (the last field, the command, keeps its spaces).
type Top struct {
	Titles    []string
	Processes [][]string
}

// ErrNoPIDColumn is ps output without a PID column to match processes by.
var ErrNoPIDColumn = errors.New("Couldn't find PID field in ps output")

// Top runs the host's ps with psArgs (default -ef, as Docker) and keeps
// the rows of the container's processes. A container that is not running
// is a *NotRunningError.
func (e *Engine) Top(nameOrID string, psArgs []string) (*Top, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if c.State != Running || !c.init.alive() {
		return nil, &NotRunningError{Name: nameOrID}
	}
	pids := containerPIDs(c)
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	list := make([]string, 0, len(pids))
	for _, p := range pids {
		list = append(list, strconv.Itoa(p))
	}
	// As Docker: ask ps for just these processes, and where the options
	// do not combine with -q (f, for one), for all of them.
	out, err := exec.Command("ps", append(append([]string{}, psArgs...), "-q", strings.Join(list, ","))...).Output()
	if err != nil {
		out, err = exec.Command("ps", psArgs...).Output()
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			return nil, fmt.Errorf("ps %s: %s", strings.Join(psArgs, " "), firstLine(exit.Stderr))
		}
		return nil, fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	return parsePS(out, pids)
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

// parsePS keeps the header and the rows of pids.
func parsePS(out []byte, pids []int) (*Top, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	top := &Top{Titles: strings.Fields(lines[0])}
	col := -1
	for i, t := range top.Titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, ErrNoPIDColumn
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	n := len(top.Titles)
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		if pid, err := strconv.Atoi(f[col]); err != nil || !want[pid] {
			continue
		}
		if len(f) > n {
			// The command: everything after the other columns, spaces kept.
			rest := line
			for i := 0; i < n-1; i++ {
				rest = strings.TrimLeft(rest, " \t")
				rest = rest[len(f[i]):]
			}
			f = append(f[:n-1], strings.TrimSpace(rest))
		}
		top.Processes = append(top.Processes, f)
	}
	return top, nil
}

// containerPIDs finds a running container's processes as the host sees
// them. Rootful containers have a cgroup of their own, which holds every
// process that joined the container too. Rootless ones have no cgroups on
// this hierarchy (and no right to read another namespace's pid links),
// so their processes are found as the family of the container's init and
// of its monitor, which parents what joins the container later: walking
// the parent pids in /proc/PID/stat needs no privilege. Both ways are
// used together: a pid in either is the container's.
func containerPIDs(c *Container) []int {
	set := map[int]bool{c.init.PID: true}
	for _, p := range cgroupProcs(c.init.PID) {
		set[p] = true
	}
	roots := map[int]bool{c.init.PID: true}
	if c.monitor.alive() {
		roots[c.monitor.PID] = true
	}
	// The monitor's children include the container's helpers (pasta),
	// which are not the container's: keep those in a PID namespace below
	// the monitor's. (Status, unlike ns links, is readable from any box
	// invocation's user namespace.)
	depth := pidDepth(c.init.PID)
	for _, p := range descendants(roots) {
		if depth > 1 && pidDepth(p) < depth {
			continue
		}
		set[p] = true
	}
	if c.monitor != nil {
		delete(set, c.monitor.PID)
	}
	pids := make([]int, 0, len(set))
	for p := range set {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return pids
}

// descendants lists the processes below roots (not roots themselves).
func descendants(roots map[int]bool) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := parentPID(pid); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := make([]int, 0, len(roots))
	for r := range roots {
		queue = append(queue, r)
	}
	seen := map[int]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// parentPID reads field 4 of /proc/PID/stat.
func parentPID(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.Atoi(f[1])
}

// cgroupProcs lists the processes in pid's cgroup when that cgroup is a
// container's own (under /box, where rootful containers are put): the
// freezer or pids hierarchy on cgroup v1, the unified one on v2.
func cgroupProcs(pid int) []int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/box/") {
			continue
		}
		switch parts[1] {
		case "freezer", "pids":
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", parts[1], parts[2]))
		case "":
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", parts[2]))
		}
	}
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, l := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(l); err == nil {
				pids = append(pids, p)
			}
		}
		return pids
	}
	return nil
}

// pidDepth is how many PID namespaces see process pid (its NSpid), 0
// when that cannot be read.
func pidDepth(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			return len(strings.Fields(rest))
		}
	}
	return 0
}
