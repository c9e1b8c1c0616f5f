package engine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"box/engine/control"
)

// The clients' side of the control socket: how a later invocation
// reaches a running container's monitor (box/engine/control is the
// protocol; control_server.go the monitor's side). Its users are exec.go,
// attach.go, cp.go (askTree), guest_client.go and the lifecycle's
// stopRestarts below.

// dialControl connects to the monitor of container id; a monitor that is
// not there means a container that is not running.
func (e *Engine) dialControl(id, name string) (*net.UnixConn, error) {
	c, err := control.Dial(e.controlPath(id))
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &NotRunningError{Name: name}
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			// The run directory itself is gone.
			return nil, &NotRunningError{Name: name}
		}
		return nil, fmt.Errorf("reach the monitor of %s: %w", name, err)
	}
	return c, nil
}

// stopRestarts tells a container's monitor that box is stopping it, so
// that its restart policy does not start it again. A monitor that cannot
// be reached has nothing to restart.
func (e *Engine) stopRestarts(id string) {
	c, err := e.dialControl(id, id)
	if err != nil {
		return
	}
	defer c.Close()
	if control.Send(c, control.MsgStop, nil) == nil {
		_, _ = control.Receive(c)
	}
}

// expectStarted reads the monitor's answer to a request: started, or the
// reason it was refused.
func expectStarted(conn *net.UnixConn, name string) error {
	m, err := control.Receive(conn)
	if err != nil {
		return &NotRunningError{Name: name}
	}
	switch m.Kind {
	case control.MsgStarted:
		return nil
	case control.MsgError:
		var r control.ErrorReport
		_ = m.Decode(&r)
		return errOf(r, name)
	}
	return fmt.Errorf("unexpected answer from the monitor of %s", name)
}

// exitResult is how a process ended, as its monitor reported it.
type exitResult struct {
	code int
	err  error
}

// untilExit reads the monitor's messages until it reports the exit,
// passing the others to other (for `what`'s error, should the monitor go
// away first).
func untilExit(conn *net.UnixConn, what string, other func(control.Message)) <-chan exitResult {
	done := make(chan exitResult, 1)
	go func() {
		for {
			m, err := control.Receive(conn)
			if err != nil {
				done <- exitResult{err: fmt.Errorf("%s: the container's monitor went away", what)}
				return
			}
			if m.Kind == control.MsgExit {
				var x control.ExitReport
				_ = m.Decode(&x)
				done <- exitResult{code: x.Code}
				return
			}
			if other != nil {
				other(m)
			}
		}
	}()
	return done
}

// errOf is a report from the monitor as the error it was there, so that
// it has the exit code it would have had locally; name is the container
// as the client named it.
func errOf(r control.ErrorReport, name string) error {
	switch r.Kind {
	case control.KindNotRunning:
		return &NotRunningError{Name: name}
	case control.KindNotFound:
		return &CommandError{Path: r.Message, NotFound: true, Err: os.ErrNotExist}
	case control.KindNoExec:
		return &CommandError{Path: r.Message, Err: os.ErrPermission}
	case control.KindIsDir:
		return &CommandError{Path: r.Message, Err: syscall.EISDIR}
	case control.KindUsage:
		return &UsageError{Msg: r.Message, Fix: r.Hint}
	}
	return r.Err()
}
