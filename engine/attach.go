package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/monitor"
)

// AttachOptions are `box attach`'s choices.
type AttachOptions struct {
	// NoStdin keeps the caller's input from the container.
	NoStdin bool
	// DetachKeys ends the attachment, leaving the container running
	// (Docker's format: "ctrl-p,ctrl-q"); empty means that default.
	DetachKeys string
	// SigProxy passes the signals box receives on to the container
	// (without a terminal; with one, the keys themselves go through).
	SigProxy bool
}

// CannotAttachError is attach given a container that is not running.
type CannotAttachError struct{}

func (e *CannotAttachError) Error() string {
	return "You cannot attach to a stopped container, start it first"
}

// Attach connects io to a running container's input and output until
// the container ends, returning its exit code, or until the caller types
// the detach keys, returning 0 and leaving it running.
func (e *Engine) Attach(ctx context.Context, nameOrID string, opts AttachOptions, io IO) (int, error) {
	keys, err := ParseDetachKeys(opts.DetachKeys)
	if err != nil {
		return 0, err
	}
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	if c.State != Running || !c.monitor.alive() {
		return 0, &CannotAttachError{}
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return 0, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return 0, err
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return 0, err
	}
	tty := sp.Process.Terminal
	conn, err := e.dialControl(c.ID, nameOrID)
	if err != nil {
		if errors.As(err, new(*NotRunningError)) {
			return 0, &CannotAttachError{}
		}
		return 0, err
	}
	defer conn.Close()
	withStdin := !opts.NoStdin && rec.Interactive && io.Stdin != nil
	if err := control.Send(conn, control.MsgAttach, control.AttachRequest{Stdin: withStdin}); err != nil {
		return 0, fmt.Errorf("attach %s: %w", nameOrID, err)
	}
	if err := expectStarted(conn, nameOrID); err != nil {
		return 0, err
	}

	var host console.Console
	if tty && withStdin {
		if host, err = console.ConsoleFromFile(io.Stdin); err == nil {
			if restore, err := monitor.RawTerminal(host); err == nil {
				defer restore()
			}
		} else {
			host = nil
		}
	}
	resize := func() {
		if host == nil {
			return
		}
		if size, err := host.Size(); err == nil {
			_ = control.Send(conn, control.MsgResize, control.ResizeMessage{Width: size.Width, Height: size.Height})
		}
	}
	resize()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			switch {
			case s == unix.SIGWINCH:
				resize()
			case s == unix.SIGCHLD || s == unix.SIGPIPE || s == unix.SIGURG:
			case opts.SigProxy && !tty:
				_ = control.Send(conn, control.MsgSignal, control.SignalMessage{Signal: int(s.(syscall.Signal))})
			}
		}
	}()

	detached := make(chan struct{})
	if withStdin {
		go func() {
			toContainer := func(b []byte) error { return control.Send(conn, control.MsgStdin, b) }
			if copyInput(toContainer, io.Stdin, keys) {
				close(detached)
			}
		}()
	}
	ended := untilExit(conn, "attach "+nameOrID, func(m control.Message) {
		switch m.Kind {
		case control.MsgStdout:
			_, _ = io.Stdout.Write(m.Payload)
		case control.MsgStderr:
			_, _ = io.Stderr.Write(m.Payload)
		}
	})
	select {
	case r := <-ended:
		return r.code, r.err
	case <-detached:
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// copyInput passes what the caller types to write until input ends or
// the detach keys arrive (then it reports true); the keys themselves are
// held back, and passed on after all when the sequence breaks off.
func copyInput(write func([]byte) error, in io.Reader, keys []byte) bool {
	buf := make([]byte, 4096)
	matched := 0 // how many of the detach keys the input ends with
	for {
		n, err := in.Read(buf)
		out := make([]byte, 0, n+len(keys))
		for _, b := range buf[:n] {
			if len(keys) > 0 && b == keys[matched] {
				matched++
				if matched == len(keys) {
					if len(out) > 0 {
						_ = write(out)
					}
					return true
				}
				continue
			}
			// Keys held back that turned out not to be the sequence.
			out = append(out, keys[:matched]...)
			matched = 0
			if len(keys) > 0 && b == keys[0] {
				matched = 1
				continue
			}
			out = append(out, b)
		}
		if len(out) > 0 {
			if write(out) != nil {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
}

// ParseDetachKeys reads Docker's detach key format: comma-separated keys,
// each a single character or ctrl- with one of a-z @ [ \ ] ^ _.
// Empty means the default, ctrl-p,ctrl-q.
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = "ctrl-p,ctrl-q"
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		if c, ok := strings.CutPrefix(k, "ctrl-"); ok && len(c) == 1 {
			switch b := c[0]; {
			case b >= 'a' && b <= 'z':
				out = append(out, b-'a'+1)
				continue
			case strings.IndexByte("@[\\]^_", b) >= 0:
				out = append(out, b-'@')
				continue
			}
		} else if len(k) == 1 {
			out = append(out, k[0])
			continue
		}
		return nil, &UsageError{Msg: fmt.Sprintf("invalid detach keys %q: %q is not a character or ctrl- with one of a-z @ [ \\ ] ^ _", s, k)}
	}
	return out, nil
}
