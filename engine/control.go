package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// The control socket is how a later invocation reaches a running
// container through its monitor: a fresh box process lives in a user
// namespace of its own, a sibling of the container's, and may not join
// it, but the monitor, its owner, may. Each container's monitor listens
// on <runroot>/ctl/<id>, in the user's private run root; only the user
// can connect.
//
// The socket is SOCK_SEQPACKET: every message keeps its boundary, so a
// message is one kind byte and a payload (JSON for requests and reports,
// raw bytes for streams), with the files it carries attached.
const (
	// client -> monitor
	msgExec   = 'E' // execRequest; files: [stdin] stdout stderr
	msgAttach = 'A' // attachRequest
	msgSignal = 'S' // signalMessage, for the exec'd process or the init
	msgResize = 'Z' // resizeMessage, for the container's terminal
	msgStdin  = 'I' // raw bytes for the container's stdin
	msgStop   = 'T' // box is stopping the container: restart no more
	msgRoot   = 'R' // rootRequest: a directory of the container, for cp and export
	msgGuest  = 'C' // guestRequest: a run or start in the container's network (joinnet.go)

	// monitor -> client
	msgStarted = 'P' // startedReport
	msgFile    = 'F' // a file: an exec'd process's pty master, a container's directory
	msgStdout  = 'O' // raw bytes the container wrote to stdout
	msgStderr  = 'e' // raw bytes the container wrote to stderr
	msgExit    = 'X' // exitReport
	msgError   = '!' // errorReport: the request failed; nothing started
)

// maxMessage bounds one message, and so one chunk of a stream.
const maxMessage = 32 * 1024

type signalMessage struct {
	Signal int `json:"signal"`
}

type resizeMessage struct {
	Width  uint16 `json:"width"`
	Height uint16 `json:"height"`
}

type startedReport struct {
	Pid int `json:"pid"`
}

type exitReport struct {
	Code int `json:"code"`
	// Guest is what a network guest reported (guest_server.go).
	Guest *guestResult `json:"guest,omitempty"`
}

// errorReport carries an error across the socket with its kind, so that
// the client can give it the exit code it would have had locally.
type errorReport struct {
	Message string `json:"message"`
	Kind    string `json:"kind"` // "usage", "notfound", "noexec", "isdir", "notrunning" or ""
	// Hint is the error's fix, when it knows one (see hintError).
	Hint string `json:"hint,omitempty"`
}

func reportOf(err error) errorReport {
	var usage *UsageError
	var cmd *CommandError
	var h interface{ Hint() string }
	hint := ""
	if errors.As(err, &h) {
		hint = h.Hint()
	}
	switch {
	case errors.As(err, &cmd) && cmd.NotFound:
		return errorReport{Message: cmd.Path, Kind: "notfound"}
	case errors.As(err, &cmd) && errors.Is(cmd.Err, syscall.EISDIR):
		return errorReport{Message: cmd.Path, Kind: "isdir"}
	case errors.As(err, &cmd):
		return errorReport{Message: cmd.Path, Kind: "noexec"}
	case errors.As(err, &usage):
		return errorReport{Message: err.Error(), Kind: "usage", Hint: hint}
	}
	return errorReport{Message: err.Error(), Hint: hint}
}

// hintError is an error that came from another process with its fix.
type hintError struct{ Msg, Fix string }

func (e *hintError) Error() string { return e.Msg }

// Hint says how to fix it.
func (e *hintError) Hint() string { return e.Fix }

// err is the error again; name is the container as the client named it.
func (r errorReport) err(name string) error {
	switch r.Kind {
	case "notrunning":
		return &NotRunningError{Name: name}
	case "notfound":
		return &CommandError{Path: r.Message, NotFound: true, Err: os.ErrNotExist}
	case "noexec":
		return &CommandError{Path: r.Message, Err: os.ErrPermission}
	case "isdir":
		return &CommandError{Path: r.Message, Err: syscall.EISDIR}
	case "usage":
		return &UsageError{Msg: r.Message, Fix: r.Hint}
	}
	if r.Hint != "" {
		return &hintError{Msg: r.Message, Fix: r.Hint}
	}
	return errors.New(r.Message)
}

// controlPath is where the monitor of container id listens.
func (e *Engine) controlPath(id string) string {
	return filepath.Join(e.runRoot, "ctl", id)
}

// shortAddr makes a socket path usable when it is longer than a socket
// address can hold (108 bytes): through /proc/self/fd and an open handle
// on its directory, which done closes.
func shortAddr(path string) (addr string, done func(), err error) {
	if len(path) < 100 {
		return path, func() {}, nil
	}
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)), func() { dir.Close() }, nil
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
	if send(c, msgStop, nil) == nil {
		_, _ = receive(c)
	}
}

func listenControl(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	_ = os.Remove(path) // left by a monitor that was killed
	addr, done, err := shortAddr(path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	defer done()
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: addr, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The file is removed by whoever removes the run state; Close must not
	// try through the /proc address, which means nothing later.
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// dialControl connects to the monitor of container id; a monitor that is
// not there means a container that is not running.
func (e *Engine) dialControl(id, name string) (*net.UnixConn, error) {
	addr, done, err := shortAddr(e.controlPath(id))
	if err != nil {
		return nil, &NotRunningError{Name: name}
	}
	defer done()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &NotRunningError{Name: name}
		}
		return nil, fmt.Errorf("reach the monitor of %s: %w", name, err)
	}
	return c, nil
}

// send writes one message: kind, v as JSON (or as bytes when it is
// []byte), and files.
func send(c *net.UnixConn, kind byte, v any, files ...*os.File) error {
	var payload []byte
	switch v := v.(type) {
	case nil:
	case []byte:
		payload = v
	default:
		var err error
		if payload, err = json.Marshal(v); err != nil {
			return err
		}
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	_, _, err := c.WriteMsgUnix(append([]byte{kind}, payload...), oob, nil)
	return err
}

// message is one received message.
type message struct {
	kind    byte
	payload []byte
	files   []*os.File
}

func (m message) decode(v any) error { return json.Unmarshal(m.payload, v) }

// receive reads one message; io.EOF-like errors mean the peer is gone.
func receive(c *net.UnixConn) (message, error) {
	buf := make([]byte, maxMessage+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return message{}, err
	}
	if n == 0 {
		return message{}, net.ErrClosed
	}
	m := message{kind: buf[0], payload: buf[1:n]}
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return message{}, err
		}
		for _, scm := range scms {
			fds, err := unix.ParseUnixRights(&scm)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				unix.CloseOnExec(fd)
				m.files = append(m.files, os.NewFile(uintptr(fd), "received"))
			}
		}
	}
	return m, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
