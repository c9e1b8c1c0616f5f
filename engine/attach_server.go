package engine

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/monitor"
)

// attachHub is a detached container's monitor relaying the container's
// output to every attached client, and their input to its stdin.
type attachHub struct {
	mu      sync.Mutex
	clients map[*net.UnixConn]struct{}
	// stdin is the write end of the container's stdin; nil when the
	// container was not made with -i.
	stdin *os.File
}

func newAttachHub(stdin *os.File) *attachHub {
	return &attachHub{clients: map[*net.UnixConn]struct{}{}, stdin: stdin}
}

// tee passes what r yields on to the attached clients as kind messages.
func (h *attachHub) tee(r io.Reader, kind byte) io.Reader { return &teeReader{r, h, kind} }

type teeReader struct {
	r    io.Reader
	hub  *attachHub
	kind byte
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.hub.broadcast(t.kind, p[:n])
	}
	return n, err
}

// attachWriteTimeout drops a client that stops reading, so that it cannot
// stall the container's output (which waits for the relay) for long.
const attachWriteTimeout = 5 * time.Second

func (h *attachHub) broadcast(kind byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		_ = c.SetWriteDeadline(time.Now().Add(attachWriteTimeout))
		for rest := p; len(rest) > 0; {
			chunk := rest[:min(len(rest), control.MaxMessage)]
			rest = rest[len(chunk):]
			if err := control.Send(c, kind, chunk); err != nil {
				delete(h.clients, c)
				c.Close()
				break
			}
		}
	}
}

func (h *attachHub) add(c *net.UnixConn) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *attachHub) remove(c *net.UnixConn) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		c.Close()
	}
	h.mu.Unlock()
}

// finish tells every attached client how the container ended, once its
// last output has been relayed.
func (h *attachHub) finish(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		_ = c.SetWriteDeadline(time.Now().Add(attachWriteTimeout))
		_ = control.Send(c, control.MsgExit, control.ExitReport{Code: code})
		c.Close()
		delete(h.clients, c)
	}
}

// attach serves one `box attach` client until it or the container goes.
func (s *controlServer) attach(c *net.UnixConn, r *monitor.Running, m control.Message) {
	m.CloseFiles()
	if s.hub == nil {
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "the container runs in the foreground of another box command, which holds its input and output"})
		c.Close()
		return
	}
	var req control.AttachRequest
	if err := m.Decode(&req); err != nil {
		_ = control.Send(c, control.MsgError, reportOf(err))
		c.Close()
		return
	}
	if err := control.Send(c, control.MsgStarted, control.StartedReport{Pid: r.Pid}); err != nil {
		c.Close()
		return
	}
	s.hub.add(c)
	defer s.hub.remove(c)
	for {
		m, err := control.Receive(c)
		if err != nil {
			return
		}
		switch m.Kind {
		case control.MsgStdin:
			if req.Stdin && s.hub.stdin != nil {
				_, _ = s.hub.stdin.Write(m.Payload)
			}
		case control.MsgResize:
			var size control.ResizeMessage
			if m.Decode(&size) == nil {
				r.Resize(size.Width, size.Height)
			}
		case control.MsgSignal:
			var sig control.SignalMessage
			if m.Decode(&sig) == nil {
				_ = unix.Kill(r.Pid, syscall.Signal(sig.Signal))
			}
		}
	}
}
