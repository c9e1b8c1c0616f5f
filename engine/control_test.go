package engine

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/monitor"
)

// controlPair is two connected ends of a control socket.
func controlPair(t *testing.T) (client, server *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	client, server = fileConn(t, fds[0]), fileConn(t, fds[1])
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// answer sends one request to a monitor's control server and reads its
// answer, which must come, followed by the end of the connection.
func answer(t *testing.T, s *controlServer, kind control.Kind, payload any) control.Message {
	t.Helper()
	client, server := controlPair(t)
	if err := control.Send(client, kind, payload); err != nil {
		t.Fatal(err)
	}
	go s.handle(server)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := control.Receive(client)
	if err != nil {
		t.Fatalf("no answer to %q: %v", kind, err)
	}
	if _, err := control.Receive(client); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after its answer to %q the monitor kept the connection: %v", kind, err)
	}
	return m
}

// TestControlServerRefuses: requests the monitor cannot serve are
// answered with an error the client can read, never left hanging.
func TestControlServerRefuses(t *testing.T) {
	running := &monitor.Running{Pid: os.Getpid()}
	for _, c := range []struct {
		name    string
		running *monitor.Running
		kind    control.Kind
		payload any
		want    control.ErrorReport
	}{
		{"not running", nil, control.MsgExec, control.ExecRequest{}, control.ErrorReport{Kind: control.KindNotRunning}},
		{"unknown kind", running, 'Q', nil, control.ErrorReport{Message: "unknown request"}},
		{"cut exec request", running, control.MsgExec, []byte(`{"Args":["sh"`), control.ErrorReport{Message: "unexpected end of JSON input"}},
		{"exec without files", running, control.MsgExec, control.ExecRequest{}, control.ErrorReport{Message: "exec: want stdout and stderr"}},
		{"guest without files", running, control.MsgGuest, control.GuestEnvelope{Run: []byte(`{}`)}, control.ErrorReport{Message: "malformed guest request"}},
		{"guest with neither call", running, control.MsgGuest, control.GuestEnvelope{}, control.ErrorReport{Message: "malformed guest request"}},
		{"unknown tree", running, control.MsgRoot, control.RootRequest{What: "etc"}, control.ErrorReport{Message: `unknown tree "etc"`}},
		{"attach to a foreground run", running, control.MsgAttach, control.AttachRequest{}, control.ErrorReport{Message: "the container runs in the foreground of another box command, which holds its input and output"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &controlServer{id: "c", running: c.running, stop: make(chan struct{})}
			m := answer(t, s, c.kind, c.payload)
			if m.Kind != control.MsgError {
				t.Fatalf("answer %q; want an error", m.Kind)
			}
			var r control.ErrorReport
			if err := m.Decode(&r); err != nil {
				t.Fatal(err)
			}
			if r != c.want {
				t.Errorf("got %+v; want %+v", r, c.want)
			}
		})
	}
}

// TestControlServerStop: a stop request is acknowledged and ends the
// restart policy, whether or not the container runs.
func TestControlServerStop(t *testing.T) {
	s := &controlServer{id: "c", stop: make(chan struct{})}
	if s.stopRequested() {
		t.Fatal("stop requested before any request")
	}
	if m := answer(t, s, control.MsgStop, nil); m.Kind != control.MsgStarted {
		t.Fatalf("answer %q; want started", m.Kind)
	}
	if !s.stopRequested() || s.waitStop(time.Hour) {
		t.Error("the stop did not reach the restart policy")
	}
	// A second stop is no error.
	if m := answer(t, s, control.MsgStop, nil); m.Kind != control.MsgStarted {
		t.Fatalf("second stop: answer %q", m.Kind)
	}
}

// TestErrorsCrossTheSocket: an error the monitor reports reaches the
// client with the type it had, so the same exit code, and with its hint.
func TestErrorsCrossTheSocket(t *testing.T) {
	client, server := controlPair(t)
	for _, c := range []struct {
		err   error
		check func(error) bool
	}{
		{&CommandError{Path: "nope", NotFound: true, Err: os.ErrNotExist}, func(e error) bool {
			var ce *CommandError
			return errors.As(e, &ce) && ce.NotFound && ce.Path == "nope" && errors.Is(ce.Err, os.ErrNotExist)
		}},
		{&CommandError{Path: "/etc", Err: syscall.EISDIR}, func(e error) bool {
			var ce *CommandError
			return errors.As(e, &ce) && !ce.NotFound && errors.Is(ce.Err, syscall.EISDIR)
		}},
		{&CommandError{Path: "/etc/passwd", Err: os.ErrPermission}, func(e error) bool {
			var ce *CommandError
			return errors.As(e, &ce) && errors.Is(ce.Err, os.ErrPermission)
		}},
		{&UsageError{Msg: "bad user", Fix: "name a user of the image"}, func(e error) bool {
			var ue *UsageError
			return errors.As(e, &ue) && ue.Fix == "name a user of the image"
		}},
		{&NoRoomError{Dir: "/var", Free: 1}, func(e error) bool {
			var h interface{ Hint() string }
			return errors.As(e, &h) && h.Hint() == (&NoRoomError{}).Hint()
		}},
		{errors.New("plain"), func(e error) bool {
			var h interface{ Hint() string }
			return !errors.As(e, &h)
		}},
	} {
		if err := control.Send(server, control.MsgError, reportOf(c.err)); err != nil {
			t.Fatal(err)
		}
		m, err := control.Receive(client)
		if err != nil {
			t.Fatal(err)
		}
		var r control.ErrorReport
		if err := m.Decode(&r); err != nil {
			t.Fatal(err)
		}
		back := errOf(r, "c")
		if back.Error() != c.err.Error() || !c.check(back) {
			t.Errorf("%T %q came back as %T %q", c.err, c.err, back, back)
		}
	}
	if err := errOf(control.ErrorReport{Kind: control.KindNotRunning}, "web"); !errors.As(err, new(*NotRunningError)) || err.Error() != "container web is not running" {
		t.Errorf("not running came back as %T %q", err, err)
	}
}

// TestDialNoMonitor: a container whose monitor is not there is not
// running, to every client.
func TestDialNoMonitor(t *testing.T) {
	e := &Engine{runRoot: t.TempDir()}
	if _, err := e.dialControl("abc", "web"); !errors.As(err, new(*NotRunningError)) {
		t.Errorf("no socket: %v; want not running", err)
	}
	ln, err := control.Listen(e.controlPath("abc"))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := e.dialControl("abc", "web"); !errors.As(err, new(*NotRunningError)) {
		t.Errorf("a dead monitor's socket: %v; want not running", err)
	}
}

// TestGuestRequestEnvelope: the monitor reads the engine's guest request
// as far as it needs (control.GuestEnvelope) and agrees on what is valid.
func TestGuestRequestEnvelope(t *testing.T) {
	for _, c := range []struct {
		req   guestRequest
		valid bool
	}{
		{guestRequest{Run: &RunOptions{Image: "alpine"}, Env: []string{"A=b"}, Dir: "/w"}, true},
		{guestRequest{Start: &startAction{Name: "web"}, Env: []string{"A=b"}, Dir: "/w"}, true},
		{guestRequest{Env: []string{"A=b"}, Dir: "/w"}, false},
	} {
		client, server := controlPair(t)
		if err := control.Send(client, control.MsgGuest, c.req); err != nil {
			t.Fatal(err)
		}
		m, err := control.Receive(server)
		if err != nil {
			t.Fatal(err)
		}
		var g control.GuestEnvelope
		if err := m.Decode(&g); err != nil {
			t.Fatal(err)
		}
		if g.Valid() != c.valid || g.Dir != "/w" || len(g.Env) != 1 || g.Env[0] != "A=b" {
			t.Errorf("%+v read as %+v (valid %v)", c.req, g, g.Valid())
		}
	}
}
