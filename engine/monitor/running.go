package monitor

import (
	"fmt"
	"os"
	"syscall"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Running is a container whose init runs under this monitor: what exec
// and attach need of it.
type Running struct {
	// Pid is the init's pid as this process sees it.
	Pid int
	ctr *libcontainer.Container
	tty *ttyRelay // nil without a terminal
}

// Resize sets the container's terminal size; without one it does nothing.
func (r *Running) Resize(width, height uint16) {
	if r.tty != nil {
		_ = r.tty.master.Resize(console.WinSize{Width: width, Height: height})
	}
}

// Exec is a process started in a running container, beside its init.
type Exec struct {
	p *libcontainer.Process
	// Pid is the process as this monitor sees it.
	Pid int
	// Master is the process's pty master when it has a terminal; the
	// caller owns it.
	Master *os.File
}

// Exec starts sp in the container. Without a terminal the process gets
// stdin (nil: /dev/null), stdout and stderr as they are, with no relay in
// between; with one it gets a new pty, whose master comes back in Master.
// The caller must Wait for the process.
func (r *Running) Exec(sp *specs.Process, stdin, stdout, stderr *os.File) (*Exec, error) {
	p := process(sp)
	x := &Exec{p: p}
	if sp.Terminal {
		parent, child, err := socketPair()
		if err != nil {
			return nil, err
		}
		defer parent.Close()
		p.ConsoleSocket = child
		err = r.ctr.Run(p)
		child.Close()
		if err != nil {
			afterFailedExec()
			return nil, &StartError{Err: err}
		}
		if x.Master, err = recvFile(parent); err != nil {
			_ = p.Signal(syscall.SIGKILL)
			_, _ = p.Wait()
			return nil, &StartError{Err: err}
		}
	} else {
		if stdin != nil {
			p.Stdin = stdin
		}
		p.Stdout, p.Stderr = stdout, stderr
		if err := r.ctr.Run(p); err != nil {
			afterFailedExec()
			return nil, &StartError{Err: err}
		}
	}
	pid, err := p.Pid()
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	x.Pid = pid
	return x, nil
}

// Signal sends sig to the process.
func (x *Exec) Signal(sig syscall.Signal) error { return x.p.Signal(sig) }

// Wait reaps the process and says how it ended.
func (x *Exec) Wait() (Status, error) { return wait(x.p) }
