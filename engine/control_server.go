package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/monitor"
	"box/engine/spec"
)

// controlServer is the monitor's side of the control socket
// (box/engine/control is the protocol; control_client.go the clients'
// side): it serves exec, attach (attach_server.go), cp's and export's
// directories, stop and network guests (guest_server.go).
type controlServer struct {
	ln   *net.UnixListener
	path string
	id   string
	sp   *specs.Spec
	// hub relays the container's output to attached clients; nil when the
	// container's stdio is the caller's own (a foreground run).
	hub *attachHub

	mu      sync.Mutex
	running *monitor.Running
	execs   sync.WaitGroup
	// runs are the network guests started for clients (guest_server.go),
	// children of this process.
	runs sync.WaitGroup
	// stop is closed when box stops, kills or removes the container:
	// no restart policy applies after that.
	stop     chan struct{}
	stopOnce sync.Once
	// event, when set, logs an event of the container (events.go).
	event func(action string, extra ...string)
}

// serveControl listens on the container's control socket and serves it
// until close. Requests that need the container wait for setRunning.
func (e *Engine) serveControl(id string, sp *specs.Spec, hub *attachHub) (*controlServer, error) {
	path := e.controlPath(id)
	ln, err := control.Listen(path)
	if err != nil {
		return nil, err
	}
	s := &controlServer{ln: ln, path: path, id: id, sp: sp, hub: hub, stop: make(chan struct{})}
	go s.accept()
	return s, nil
}

func (s *controlServer) setRunning(r *monitor.Running) {
	s.mu.Lock()
	s.running = r
	s.mu.Unlock()
}

func (s *controlServer) current() *monitor.Running {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// close stops serving once the container has ended. Processes started by
// exec die with the container's pid namespace; their clients are still
// told how they ended, within a bound.
func (s *controlServer) close() {
	s.setRunning(nil)
	_ = s.ln.Close()
	_ = os.Remove(s.path)
	done := make(chan struct{})
	go func() {
		s.execs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	if s.hub != nil {
		// A detached monitor stays while a box it runs for a client
		// does (a foreground run in this container's network), so that
		// the client hears its exit code; a foreground run, the user's
		// own box run, does not wait for another's.
		s.runs.Wait()
	}
}

func (s *controlServer) accept() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

// stopRequested says whether box has stopped the container on purpose.
func (s *controlServer) stopRequested() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// waitStop waits out a restart delay; false means box stopped the
// container meanwhile.
func (s *controlServer) waitStop(d time.Duration) bool {
	select {
	case <-s.stop:
		return false
	case <-time.After(d):
		return true
	}
}

func (s *controlServer) handle(c *net.UnixConn) {
	m, err := control.Receive(c)
	if err != nil {
		c.Close()
		return
	}
	if m.Kind == control.MsgStop {
		m.CloseFiles()
		s.stopOnce.Do(func() { close(s.stop) })
		_ = control.Send(c, control.MsgStarted, control.StartedReport{})
		c.Close()
		return
	}
	r := s.current()
	if r == nil {
		m.CloseFiles()
		_ = control.Send(c, control.MsgError, control.ErrorReport{Kind: control.KindNotRunning})
		c.Close()
		return
	}
	switch m.Kind {
	case control.MsgExec:
		s.exec(c, r, m)
	case control.MsgAttach:
		s.attach(c, r, m)
	case control.MsgRoot:
		s.root(c, r, m)
	case control.MsgGuest:
		s.guest(c, m)
	default:
		m.CloseFiles()
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "unknown request"})
		c.Close()
	}
}

// exec starts a process in the container for `box exec` and reports its
// pid and, later, its exit code. The process writes straight to the
// client's files; with a terminal, the client gets the pty master and
// relays it itself.
func (s *controlServer) exec(c *net.UnixConn, r *monitor.Running, m control.Message) {
	fail := func(err error) {
		m.CloseFiles()
		_ = control.Send(c, control.MsgError, reportOf(err))
		c.Close()
	}
	var req control.ExecRequest
	if err := m.Decode(&req); err != nil {
		fail(err)
		return
	}
	files := m.Files
	var stdin *os.File
	if req.Stdin && len(files) > 0 {
		stdin, files = files[0], files[1:]
	}
	if !req.TTY && len(files) != 2 {
		fail(errors.New("exec: want stdout and stderr"))
		return
	}
	var stdout, stderr *os.File
	if !req.TTY {
		stdout, stderr = files[0], files[1]
	}
	x, err := startExec(s.sp, r, req.ExecOptions, stdin, stdout, stderr)
	if err != nil {
		fail(err)
		return
	}
	// The process has its own copies now; holding ours would keep the
	// client's pipes open after it ends.
	m.CloseFiles()
	s.execs.Add(1)
	defer s.execs.Done()
	if x.Master != nil {
		// The monitor keeps a copy of the pty master for as long as the
		// process runs: a client that detaches or dies must not hang
		// the terminal up under it.
		defer x.Master.Close()
		if err := control.Send(c, control.MsgFile, nil, x.Master); err != nil {
			_ = x.Signal(syscall.SIGKILL)
		}
	}
	_ = control.Send(c, control.MsgStarted, control.StartedReport{Pid: x.Pid})
	execID := s.execEvent("exec_start: "+strings.Join(req.Args, " "), "")
	var ended atomic.Bool // set before this side closes the connection
	go func() {
		// Signals the client passes on, until it goes away.
		for {
			m, err := control.Receive(c)
			if err != nil {
				if x.Master != nil && !ended.Load() {
					// The client left first and nobody reads the
					// terminal now: drain it, so that the process does
					// not block on a full pty.
					_, _ = io.Copy(io.Discard, x.Master)
				}
				return
			}
			var sig control.SignalMessage
			if m.Kind == control.MsgSignal && m.Decode(&sig) == nil {
				_ = x.Signal(syscall.Signal(sig.Signal))
			}
		}
	}()
	st, _ := x.Wait()
	s.execEvent("exec_die", execID, "exitCode", strconv.Itoa(st.ExitCode))
	ended.Store(true)
	_ = control.Send(c, control.MsgExit, control.ExitReport{Code: st.ExitCode})
	c.Close()
}

// root answers a control.RootRequest for `box cp` and `box export` (cp.go).
// The monitor may open /proc/PID/root of the container's init: it owns
// the namespaces the container lives in.
func (s *controlServer) root(c *net.UnixConn, r *monitor.Running, m control.Message) {
	defer c.Close()
	m.CloseFiles()
	var req control.RootRequest
	if err := m.Decode(&req); err != nil {
		_ = control.Send(c, control.MsgError, reportOf(err))
		return
	}
	var p string
	switch req.What {
	case control.TreeRoot:
		p = fmt.Sprintf("/proc/%d/root", r.Pid)
	case control.TreeRootfs:
		p = s.sp.Root.Path
	default:
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: fmt.Sprintf("unknown tree %q", req.What)})
		return
	}
	f, err := os.OpenFile(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) && req.What == control.TreeRoot {
		// The container ended before its monitor knew: the caller may
		// mount its layers once the monitor lets go of them.
		_ = control.Send(c, control.MsgError, control.ErrorReport{Kind: control.KindNotRunning})
		return
	}
	if err != nil {
		_ = control.Send(c, control.MsgError, reportOf(err))
		return
	}
	defer f.Close()
	_ = control.Send(c, control.MsgFile, nil, f)
}

// startExec starts a process in the container made from sp, running as
// r, as `box exec` asks for it: the monitor's exec requests and its
// healthchecks both come this way.
func startExec(sp *specs.Spec, r *monitor.Running, o spec.ExecOptions, stdin, stdout, stderr *os.File) (*monitor.Exec, error) {
	rootfs := sp.Root.Path
	p, err := spec.ExecProcess(sp, rootfs, o)
	if err != nil {
		return nil, err
	}
	if err := checkCommand(rootfs, &specs.Spec{Process: p}, bindMounts(sp)); err != nil {
		return nil, err
	}
	return r.Exec(p, stdin, stdout, stderr)
}

// bindMounts lists a spec's bind mounts in the form checkCommand reads.
func bindMounts(sp *specs.Spec) []spec.Mount {
	var out []spec.Mount
	for _, m := range sp.Mounts {
		if m.Type == "bind" {
			out = append(out, spec.Mount{Type: "bind", Source: m.Source, Destination: m.Destination})
		}
	}
	return out
}

// reportOf is err as the monitor reports it to a client: typed, so that
// the client gives it the exit code it would have had locally
// (control_client.go's errOf reads it back), and with its hint.
func reportOf(err error) control.ErrorReport {
	var usage *UsageError
	var cmd *CommandError
	switch {
	case errors.As(err, &cmd) && cmd.NotFound:
		return control.ErrorReport{Message: cmd.Path, Kind: control.KindNotFound}
	case errors.As(err, &cmd) && errors.Is(cmd.Err, syscall.EISDIR):
		return control.ErrorReport{Message: cmd.Path, Kind: control.KindIsDir}
	case errors.As(err, &cmd):
		return control.ErrorReport{Message: cmd.Path, Kind: control.KindNoExec}
	}
	r := control.Report(err)
	if errors.As(err, &usage) {
		r.Kind = control.KindUsage
	}
	return r
}
