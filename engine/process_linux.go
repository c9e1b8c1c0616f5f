package engine

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// currentProcess identifies this process for a container record.
func currentProcess() *processID { return processOf(os.Getpid()) }

// processOf identifies a running process by pid; nil if it is gone.
func processOf(pid int) *processID {
	start, err := processStart(pid)
	if err != nil {
		return nil
	}
	return &processID{PID: pid, Start: start}
}

// alive reports whether the process p names still runs (a zombie that
// waits for its parent to reap it has finished).
func (p *processID) alive() bool {
	if p == nil {
		return false
	}
	start, err := processStart(p.PID)
	return err == nil && start == p.Start
}

// errExited is a process that has finished but is not yet reaped.
var errExited = errors.New("process has exited")

// processStart reads a running process's start time from /proc/PID/stat.
func processStart(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, errExited
	}
	return strconv.ParseUint(fields[19], 10, 64)
}
