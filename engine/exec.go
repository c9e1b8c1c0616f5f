package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/monitor"
	"box/engine/spec"
)

// ExecOptions are `box exec`'s choices.
type ExecOptions struct {
	spec.ExecOptions
	// Interactive passes the caller's stdin on.
	Interactive bool
	// Detach returns once the process runs; its output is discarded.
	Detach bool
	// DetachKeys, with TTY and Interactive, leave the process running
	// and return (Docker's format; empty means ctrl-p,ctrl-q).
	DetachKeys string
}

// Exec runs a process in a running container, through the container's
// monitor, and returns its exit code (0 with Detach). With TTY the
// process gets a terminal of its own, relayed to io; otherwise it writes
// to io's files directly.
func (e *Engine) Exec(ctx context.Context, nameOrID string, opts ExecOptions, stdio IO) (int, error) {
	keys, err := ParseDetachKeys(opts.DetachKeys)
	if err != nil {
		return 0, err
	}
	opts.Env = resolveEnv(opts.Env)
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	if c.State != Running || !c.monitor.alive() {
		return 0, &NotRunningError{Name: nameOrID}
	}
	conn, err := e.dialControl(c.ID, nameOrID)
	if err != nil {
		return 0, err
	}
	defer conn.Close()

	req := control.ExecRequest{ExecOptions: opts.ExecOptions}
	var files []*os.File
	switch {
	case opts.Detach:
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return 0, err
		}
		defer null.Close()
		req.TTY = false
		files = []*os.File{null, null}
	case opts.TTY:
	default:
		if opts.Interactive {
			req.Stdin = true
			files = append(files, stdio.Stdin)
		}
		files = append(files, stdio.Stdout, stdio.Stderr)
	}
	// Signals are caught before the request goes: one that comes while
	// the process starts waits in sigs and is passed on once it runs,
	// instead of ending this box with the process left behind.
	sigs := make(chan os.Signal, 16)
	if !opts.Detach {
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
		defer signal.Stop(sigs)
	}
	if err := control.Send(conn, control.MsgExec, req, files...); err != nil {
		return 0, fmt.Errorf("exec in %s: %w", nameOrID, err)
	}

	var relay *execTTY
	if req.TTY {
		m, err := control.Receive(conn)
		if err != nil {
			return 0, &NotRunningError{Name: nameOrID}
		}
		if m.Kind == control.MsgError {
			var r control.ErrorReport
			_ = m.Decode(&r)
			return 0, errOf(r, nameOrID)
		}
		if m.Kind != control.MsgFile || len(m.Files) != 1 {
			m.CloseFiles()
			return 0, fmt.Errorf("exec in %s: the monitor sent no terminal", nameOrID)
		}
		relay = newExecTTY(m.Files[0], stdio, opts.Interactive, keys)
		defer relay.close()
	}
	if err := expectStarted(conn, nameOrID); err != nil {
		return 0, err
	}
	if opts.Detach {
		return 0, nil
	}

	go func() {
		for s := range sigs {
			if s == unix.SIGWINCH {
				if relay != nil {
					relay.resize()
				}
				continue
			}
			_ = control.Send(conn, control.MsgSignal, control.SignalMessage{Signal: int(s.(syscall.Signal))})
		}
	}()

	var detached <-chan struct{}
	if relay != nil {
		detached = relay.detached
	}
	var r exitResult
	select {
	case r = <-untilExit(conn, "exec in "+nameOrID, nil):
	case <-detached:
		// The process goes on; the monitor keeps its terminal.
		return 0, nil
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if relay != nil {
		relay.drain()
	}
	return r.code, r.err
}

// resolveEnv gives bare KEY entries the caller's value, dropping those
// the caller has not set, as Docker does.
func resolveEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		} else if v, ok := os.LookupEnv(kv); ok {
			out = append(out, kv+"="+v)
		}
	}
	return out
}

// execTTY relays an exec'd process's terminal to the caller's.
type execTTY struct {
	master  console.Console
	host    console.Console // nil unless the caller's stdin is a terminal
	out     chan struct{}
	restore func()
	// detached is closed when the caller types the detach keys.
	detached chan struct{}
}

func newExecTTY(f *os.File, stdio IO, interactive bool, keys []byte) *execTTY {
	t := &execTTY{out: make(chan struct{}), restore: func() {}, detached: make(chan struct{})}
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		// Not a terminal after all: relay it as a plain stream.
		go func() { _, _ = io.Copy(stdio.Stdout, f); close(t.out) }()
		t.restore = func() { f.Close() }
		return t
	}
	// As for the init's terminal (monitor.RawTerminal): the process's
	// terminal makes its newlines CR LF, and the caller's passes them on.
	t.master = master
	if interactive && stdio.Stdin != nil {
		if host, err := console.ConsoleFromFile(stdio.Stdin); err == nil {
			t.host = host
			if restore, err := monitor.RawTerminal(host); err == nil {
				t.restore = restore
			}
			t.resize()
		}
		go func() {
			toProcess := func(b []byte) error { _, err := master.Write(b); return err }
			if copyInput(toProcess, stdio.Stdin, keys) {
				close(t.detached)
			}
		}()
	}
	go func() {
		defer close(t.out)
		_, _ = io.Copy(stdio.Stdout, master)
	}()
	return t
}

func (t *execTTY) resize() {
	if t.host != nil && t.master != nil {
		_ = t.master.ResizeFrom(t.host)
	}
}

// drain waits for the process's last output, bounded: a process it left
// in the background may hold the terminal open.
func (t *execTTY) drain() {
	select {
	case <-t.out:
	case <-time.After(time.Second):
	}
}

func (t *execTTY) close() {
	t.restore()
	if t.master != nil {
		_ = t.master.Close()
	}
}
