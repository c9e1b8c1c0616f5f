package control

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/spec"
)

// pair is two connected ends of a SOCK_SEQPACKET socket, as the control
// socket's are.
func pair(t *testing.T) (client, server *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socket")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// receive is Receive bounded in time: a message the protocol cannot read
// must give an error, never a hang.
func receive(t *testing.T, c *net.UnixConn) (Message, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	m, err := Receive(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("Receive hung")
	}
	return m, err
}

// TestRoundTrip: every request and report comes out of the framing as it
// went in, with its kind.
func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		kind Kind
		v    any
	}{
		{"exec", MsgExec, &ExecRequest{ExecOptions: spec.ExecOptions{Args: []string{"sh", "-c", "echo hi"}, Env: []string{"A=b"}, User: "1:2", WorkingDir: "/tmp", TTY: true, Privileged: true}, Stdin: true}},
		{"attach", MsgAttach, &AttachRequest{Stdin: true}},
		{"signal", MsgSignal, &SignalMessage{Signal: int(syscall.SIGTERM)}},
		{"resize", MsgResize, &ResizeMessage{Width: 132, Height: 43}},
		{"root", MsgRoot, &RootRequest{What: TreeRootfs}},
		{"guest", MsgGuest, &GuestEnvelope{Run: []byte(`{"image":"alpine"}`), Env: []string{"HOME=/root"}, Dir: "/work"}},
		{"started", MsgStarted, &StartedReport{Pid: 4242}},
		{"exit", MsgExit, &ExitReport{Code: 137}},
		{"exit of a guest", MsgExit, &ExitReport{Code: 0, Guest: &GuestResult{ID: "abc", Code: 3, Error: &ErrorReport{Message: "no", Kind: KindUsage, Hint: "try yes"}}}},
		{"error", MsgError, &ErrorReport{Message: "exec failed", Kind: KindNotFound, Hint: "install it"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			client, server := pair(t)
			if err := Send(client, c.kind, c.v); err != nil {
				t.Fatal(err)
			}
			m, err := receive(t, server)
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != c.kind || len(m.Files) != 0 {
				t.Fatalf("kind %q with %d files; want %q with none", m.Kind, len(m.Files), c.kind)
			}
			got := reflect.New(reflect.TypeOf(c.v).Elem()).Interface()
			if err := m.Decode(got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.v) {
				t.Errorf("got %+v, want %+v", got, c.v)
			}
		})
	}
}

// TestKindsDistinct: no two kinds share a byte, so no message can be
// taken for another.
func TestKindsDistinct(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range []Kind{MsgExec, MsgAttach, MsgSignal, MsgResize, MsgStdin, MsgStop, MsgRoot, MsgGuest,
		MsgStarted, MsgFile, MsgStdout, MsgStderr, MsgExit, MsgError} {
		if seen[k] {
			t.Errorf("kind %q used twice", k)
		}
		seen[k] = true
	}
}

// TestStreamAndEmpty: raw bytes, up to MaxMessage in one message, and a
// message with no payload pass unchanged.
func TestStreamAndEmpty(t *testing.T) {
	client, server := pair(t)
	chunk := []byte(strings.Repeat("x", MaxMessage))
	for _, c := range []struct {
		kind    Kind
		payload []byte
	}{{MsgStdout, chunk}, {MsgStdin, []byte("ls\n")}, {MsgStop, nil}} {
		if err := Send(client, c.kind, c.payload); err != nil {
			t.Fatal(err)
		}
		m, err := receive(t, server)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != c.kind || string(m.Payload) != string(c.payload) {
			t.Errorf("got %q with %d bytes; want %q with %d", m.Kind, len(m.Payload), c.kind, len(c.payload))
		}
	}
}

// TestFiles: the files a message carries arrive open, in order, and are
// the same files.
func TestFiles(t *testing.T) {
	client, server := pair(t)
	var ends [][2]*os.File
	var sent []*os.File
	for range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		ends = append(ends, [2]*os.File{r, w})
		sent = append(sent, w)
	}
	if err := Send(client, MsgExec, ExecRequest{Stdin: true}, sent...); err != nil {
		t.Fatal(err)
	}
	m, err := receive(t, server)
	if err != nil {
		t.Fatal(err)
	}
	defer m.CloseFiles()
	if len(m.Files) != 3 {
		t.Fatalf("%d files arrived; want 3", len(m.Files))
	}
	for i, f := range m.Files {
		if flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("file %d: not close-on-exec (%v)", i, err)
		}
		msg := []byte{'a' + byte(i)}
		if _, err := f.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 1)
		if _, err := io.ReadFull(ends[i][0], got); err != nil || got[0] != msg[0] {
			t.Errorf("file %d: read %q, %v; want %q", i, got, err, msg)
		}
	}
}

// TestUnreadable: a message too long for the framing, one with more files
// than a message carries, a peer that went away, and a payload cut short
// each give an error, not a hang and not half a message.
func TestUnreadable(t *testing.T) {
	t.Run("too long", func(t *testing.T) {
		client, server := pair(t)
		if err := Send(client, MsgStdout, make([]byte, MaxMessage+1)); err != nil {
			t.Fatal(err)
		}
		if _, err := receive(t, server); !errors.Is(err, ErrTruncated) {
			t.Fatalf("got %v; want ErrTruncated", err)
		}
		// The next message is whole again.
		if err := Send(client, MsgStarted, StartedReport{Pid: 1}); err != nil {
			t.Fatal(err)
		}
		if m, err := receive(t, server); err != nil || m.Kind != MsgStarted {
			t.Fatalf("after a truncated message: %q, %v", m.Kind, err)
		}
	})
	t.Run("too many files", func(t *testing.T) {
		client, server := pair(t)
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		files := make([]*os.File, maxFiles+1)
		for i := range files {
			files[i] = null
		}
		if err := Send(client, MsgExec, ExecRequest{}, files...); err != nil {
			t.Fatal(err)
		}
		if _, err := receive(t, server); !errors.Is(err, ErrTruncated) {
			t.Fatalf("got %v; want ErrTruncated", err)
		}
	})
	t.Run("peer gone", func(t *testing.T) {
		client, server := pair(t)
		client.Close()
		if _, err := receive(t, server); err == nil {
			t.Fatal("Receive from a closed peer gave no error")
		}
	})
	t.Run("payload cut short", func(t *testing.T) {
		client, server := pair(t)
		if err := Send(client, MsgExec, []byte(`{"args":["sh"`)); err != nil {
			t.Fatal(err)
		}
		m, err := receive(t, server)
		if err != nil {
			t.Fatal(err)
		}
		var req ExecRequest
		if err := m.Decode(&req); err == nil {
			t.Fatal("a cut JSON payload decoded")
		}
	})
}

type fixable struct{}

func (fixable) Error() string { return "no room" }
func (fixable) Hint() string  { return "free some space" }

// TestErrorsKeepHint: an error's message and hint cross the socket.
func TestErrorsKeepHint(t *testing.T) {
	client, server := pair(t)
	for _, err := range []error{fixable{}, errors.New("plain")} {
		if err := Send(client, MsgError, Report(err)); err != nil {
			t.Fatal(err)
		}
		m, rerr := receive(t, server)
		if rerr != nil {
			t.Fatal(rerr)
		}
		var r ErrorReport
		if err := m.Decode(&r); err != nil {
			t.Fatal(err)
		}
		back := r.Err()
		if back.Error() != err.Error() {
			t.Errorf("message %q; want %q", back.Error(), err.Error())
		}
		var h interface{ Hint() string }
		wantHint := ""
		if errors.As(err, &h) {
			wantHint = h.Hint()
		}
		gotHint := ""
		if errors.As(back, &h) {
			gotHint = h.Hint()
		}
		if gotHint != wantHint {
			t.Errorf("%q: hint %q; want %q", err, gotHint, wantHint)
		}
	}
}

// TestGuestEnvelopeValid: exactly one of Run and Start.
func TestGuestEnvelopeValid(t *testing.T) {
	for _, c := range []struct {
		payload string
		valid   bool
	}{
		{`{"run":{"image":"alpine"},"env":[],"dir":"/"}`, true},
		{`{"start":{"name":"web"}}`, true},
		{`{"run":{},"start":{}}`, false},
		{`{"env":["A=b"]}`, false},
		{`{"run":null}`, false},
	} {
		var g GuestEnvelope
		if err := (Message{Payload: []byte(c.payload)}).Decode(&g); err != nil {
			t.Fatal(err)
		}
		if g.Valid() != c.valid {
			t.Errorf("%s: valid %v; want %v", c.payload, g.Valid(), c.valid)
		}
	}
}

// TestListenDial: a socket path too long for a socket address still
// serves, through the directory's handle; nobody listening is ENOENT or
// ECONNREFUSED, which the clients read as a container not running.
func TestListenDial(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 60), strings.Repeat("c", 64))
	for _, path := range []string{filepath.Join(dir, "ctl", "short"), long} {
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			c, err := ln.AcceptUnix()
			if err == nil {
				err = Send(c, MsgStarted, StartedReport{Pid: 7})
				c.Close()
			}
			done <- err
		}()
		c, err := Dial(path)
		if err != nil {
			t.Fatalf("dial %d-byte path: %v", len(path), err)
		}
		m, err := receive(t, c)
		c.Close()
		if err != nil || m.Kind != MsgStarted {
			t.Fatalf("%q, %v", m.Kind, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the socket file went with the listener: %v", err)
		}
		// A socket nobody serves any more.
		if _, err := Dial(path); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial a dead socket: %v; want ECONNREFUSED", err)
		}
		os.Remove(path)
		if _, err := Dial(path); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("dial no socket: %v; want ENOENT", err)
		}
	}
}
