package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"box/engine/control"
)

// A foreground run with --sig-proxy=false (Docker's: the client passes no
// signal on; Ctrl-C ends the client and leaves the container running).
//
// A foreground run is the container's monitor, so its end would be the
// container's. Here instead the container gets a detached monitor, as
// with -d, and the run stays attached to it as `box attach
// --sig-proxy=false` would, exiting with the container's code. To lose
// none of the container's first output (an attach after the start
// could), the monitor is spawned with its first attached client already
// connected: the run's end of a socket pair, which the monitor's attach
// hub relays to from its first byte. SIGINT, SIGTERM, SIGHUP and SIGQUIT
// end the run as they end Docker's client, with 128+N, and go no further;
// they are caught rather than left to their default so that a run carried
// out by a guest (another container's network or namespaces, a user
// network), which may have them ignored, ends as well and reports it.
//
// With -t Docker's CLI does not proxy signals anyway (the terminal's keys
// go through it): box runs such a container in the foreground as always.

// attachedPair is a connected pair of control sockets: the run's end and
// the file to give the monitor.
func attachedPair() (*net.UnixConn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("attach socket: %w", err)
	}
	ours := os.NewFile(uintptr(fds[0]), "attached-run")
	defer ours.Close()
	c, err := net.FileConn(ours)
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("attach socket: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "attached-monitor"), nil
}

// attachedDetached says whether a run is the foreground run whose
// container gets a detached monitor (--sig-proxy=false without -t).
func attachedDetached(opts RunOptions) bool {
	return opts.NoSigProxy && !opts.TTY && !opts.Detach && !opts.CreateOnly
}

// serveFirstClient relays the container's output to c from the start
// and passes c's input to the container's stdin; an empty input message
// is the end of the client's input, which closes the container's stdin.
// The client's going closes nothing else: the container runs on.
func serveFirstClient(hub *attachHub, c *net.UnixConn) {
	hub.add(c)
	go func() {
		defer hub.remove(c)
		for {
			m, err := control.Receive(c)
			if err != nil {
				return
			}
			m.CloseFiles()
			if m.Kind != control.MsgStdin {
				continue
			}
			switch in := hub.stdin; {
			case in == nil:
			case len(m.Payload) == 0:
				// Writes after this fail quietly; the monitor's own
				// close at its end finds it closed.
				in.Close()
			default:
				_, _ = in.Write(m.Payload)
			}
		}
	}()
}

// runAttachedDetached starts a prepared container under its detached
// monitor and stays attached to it over the monitor's first client
// connection until the container ends, returning its code as an
// ExitError, or until this process is ended by a signal.
func (e *Engine) runAttachedDetached(ctx context.Context, c *prepared, io IO) (string, error) {
	m := c.mon
	c.mon = nil
	conn := m.client
	defer conn.Close()
	ended := untilExit(conn, "run "+c.id[:12], func(msg control.Message) {
		switch msg.Kind {
		case control.MsgStdout:
			_, _ = io.Stdout.Write(msg.Payload)
		case control.MsgStderr:
			_, _ = io.Stderr.Write(msg.Payload)
		}
	})
	if err := m.start(); err != nil {
		return "", err
	}
	// The container and its rootfs mount are the monitor's now.
	c.kept, c.detached = true, true
	if c.plan.opts.Interactive && io.Stdin != nil {
		go func() {
			toContainer := func(b []byte) error { return control.Send(conn, control.MsgStdin, b) }
			// No detach keys without a terminal, as Docker's.
			copyInput(toContainer, io.Stdin, nil)
			_ = control.Send(conn, control.MsgStdin, []byte{})
		}()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	select {
	case s := <-sigs:
		return c.id, &ExitError{Code: 128 + int(s.(syscall.Signal))}
	case r := <-ended:
		if r.err != nil {
			return c.id, r.err
		}
		if r.code != 0 {
			return c.id, &ExitError{Code: r.code}
		}
		return c.id, nil
	case <-ctx.Done():
		return c.id, ctx.Err()
	}
}
