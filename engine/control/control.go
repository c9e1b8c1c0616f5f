// Package control is the wire protocol of a container's control socket,
// the way a later invocation reaches a running container through its
// monitor: a fresh box process lives in a user namespace of its own, a
// sibling of the container's, and may not join it, but the monitor, its
// owner, may. Each container's monitor listens on <runroot>/ctl/<id>, in
// the user's private run root; only the user can connect. The network
// holder (engine/usernet_holder.go) speaks it too, with kinds of its own.
//
// The socket is SOCK_SEQPACKET: every message keeps its boundary, so a
// message is one kind byte and a payload (JSON for requests and reports,
// raw bytes for streams), with the files it carries attached.
//
// The package is only the encoding: the message kinds, the plain-data
// requests and reports, the framing, and errors as they cross. The
// monitor's side (engine/control_server.go and its helpers) and the
// clients' side (engine/control_client.go, attach.go, exec.go, …) each
// build on it and not on each other.
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Kind is what a message is; its payload is the type named beside it.
type Kind = byte

const (
	// client -> monitor
	MsgExec   Kind = 'E' // ExecRequest; files: [stdin] stdout stderr
	MsgAttach Kind = 'A' // AttachRequest
	MsgSignal Kind = 'S' // SignalMessage, for the exec'd process or the init
	MsgResize Kind = 'Z' // ResizeMessage, for the container's terminal
	MsgStdin  Kind = 'I' // raw bytes for the container's stdin
	MsgStop   Kind = 'T' // box is stopping the container: restart no more
	MsgRoot   Kind = 'R' // RootRequest: a directory of the container, for cp and export
	MsgGuest  Kind = 'C' // a guest request: a run or start in the container's network (GuestEnvelope)

	// monitor -> client
	MsgStarted Kind = 'P' // StartedReport
	MsgFile    Kind = 'F' // a file: an exec'd process's pty master, a container's directory
	MsgStdout  Kind = 'O' // raw bytes the container wrote to stdout
	MsgStderr  Kind = 'e' // raw bytes the container wrote to stderr
	MsgExit    Kind = 'X' // ExitReport
	MsgError   Kind = '!' // ErrorReport: the request failed; nothing started
)

// MaxMessage bounds one message's payload, and so one chunk of a stream.
const MaxMessage = 32 * 1024

// maxFiles bounds the files one message carries.
const maxFiles = 4

// Send writes one message: kind, v as JSON (or as bytes when it is
// []byte), and files.
func Send(c *net.UnixConn, kind Kind, v any, files ...*os.File) error {
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

// Message is one received message. Its files are the receiver's to
// close.
type Message struct {
	Kind    Kind
	Payload []byte
	Files   []*os.File
}

// Decode reads the message's JSON payload into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Payload, v) }

// CloseFiles closes the files the message carried.
func (m Message) CloseFiles() {
	for _, f := range m.Files {
		f.Close()
	}
}

// ErrTruncated is a message longer than MaxMessage, or with more files
// than a message carries: its end is lost, so it is refused whole.
var ErrTruncated = errors.New("control message truncated")

// Receive reads one message; io.EOF-like errors (and net.ErrClosed, for
// an empty one) mean the peer is gone.
func Receive(c *net.UnixConn) (Message, error) {
	buf := make([]byte, 1+MaxMessage)
	oob := make([]byte, unix.CmsgSpace(maxFiles*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Message{}, err
	}
	m := Message{}
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return Message{}, err
		}
		for _, scm := range scms {
			fds, err := unix.ParseUnixRights(&scm)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				unix.CloseOnExec(fd)
				m.Files = append(m.Files, os.NewFile(uintptr(fd), "received"))
			}
		}
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		m.CloseFiles()
		return Message{}, ErrTruncated
	}
	if n == 0 {
		m.CloseFiles()
		return Message{}, net.ErrClosed
	}
	m.Kind, m.Payload = buf[0], buf[1:n]
	return m, nil
}

// Listen serves the socket at path, replacing one a killed process left.
func Listen(path string) (*net.UnixListener, error) {
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

// Dial connects to the socket at path. Nobody listening there shows as
// syscall.ENOENT or syscall.ECONNREFUSED.
func Dial(path string) (*net.UnixConn, error) {
	addr, done, err := shortAddr(path)
	if err != nil {
		return nil, err
	}
	defer done()
	return net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
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
