package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// An exec that fails half-way leaves children nobody waits for. runc's
// nsexec clones its stage-1 and stage-2 processes with CLONE_PARENT, so
// they are this monitor's children, and libcontainer reaps them only once
// the start has told it their pids; a start that fails before (the usual
// way: the container's init ended while the exec joined its namespaces)
// leaves them as zombies. runc itself is short-lived and leaves them to
// its parent; a monitor lives as long as the container and must reap
// them. A stage-2 that had entered the container's pid namespace also
// holds the container's init: init, ending, waits in the kernel until
// every process of its namespace has been reaped, so until they are the
// init never exits and the monitor waits for it forever.

// strayNames are the names nsexec gives its stage-1 and stage-2 processes
// (a stage-2 that got as far as its execve has the command's name and is
// the exec's own process, which its caller waits for). Stage-0
// (runc:[0:PARENT]) is never a stray: libcontainer waits for it.
var strayNames = [][]byte{[]byte("runc:[1:CHILD]"), []byte("runc:[2:INIT]")}

// reapStrays reaps this process's zombie children that a failed exec
// left, and says how many it reaped. libcontainer tolerates a stage-1
// already reaped when a start that succeeds comes to wait for it.
func reapStrays() int {
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, stat := range dirs {
		pid, ppid, state, name, ok := readStat(stat)
		if !ok || ppid != self || state != 'Z' || !isStray(name) {
			continue
		}
		var ws unix.WaitStatus
		if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil && got == pid {
			n++
		}
	}
	return n
}

func isStray(name []byte) bool {
	for _, s := range strayNames {
		if bytes.Equal(name, s) {
			return true
		}
	}
	return false
}

// readStat reads a /proc/PID/stat file: the pid, parent, state and
// command name (which may hold spaces and parentheses: it runs from the
// first '(' to the last ')').
func readStat(path string) (pid, ppid int, state byte, name []byte, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, nil, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return 0, 0, 0, nil, false
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, 0, nil, false
	}
	pid, err1 := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	ppid, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil {
		return 0, 0, 0, nil, false
	}
	return pid, ppid, f[0][0], b[open+1 : end], true
}

// strayDelays are when, after an exec failed, the monitor looks again for
// what it left: a stage-2 is killed by the ending init a moment after the
// exec's start has failed.
var strayDelays = []time.Duration{0, 50 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 10 * time.Second}

// afterFailedExec reaps what a failed exec left, now and over the next
// seconds, without holding up the caller.
func afterFailedExec() {
	go func() {
		for _, d := range strayDelays {
			time.Sleep(d)
			reapStrays()
		}
	}()
}
