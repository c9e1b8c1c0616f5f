package engine

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"box/engine/control"
)

func TestParseDetachKeys(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
		bad  bool
	}{
		{"", []byte{0x10, 0x11}, false},
		{"ctrl-p,ctrl-q", []byte{0x10, 0x11}, false},
		{"ctrl-a,x", []byte{0x01, 'x'}, false},
		{"ctrl-@,ctrl-_,ctrl-\\", []byte{0x00, 0x1f, 0x1c}, false},
		{"ctrl-7", nil, true},
		{"ab", nil, true},
		{"ctrl-", nil, true},
	} {
		got, err := ParseDetachKeys(c.in)
		if (err != nil) != c.bad || !bytes.Equal(got, c.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

// TestCopyInput: the detach keys end the input and never reach the
// container; a partial match is passed on as typed.
func TestCopyInput(t *testing.T) {
	for _, c := range []struct {
		typed, sent string
		detached    bool
	}{
		{"hello\x10\x11rest", "hello", true},
		{"a\x10b\x10\x10\x11", "a\x10b\x10", true},
		{"plain", "plain", false},
		{"end\x10", "end", false},
	} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
		if err != nil {
			t.Fatal(err)
		}
		client, server := fileConn(t, fds[0]), fileConn(t, fds[1])
		detached := copyInput(func(b []byte) error { return control.Send(client, control.MsgStdin, b) }, strings.NewReader(c.typed), []byte{0x10, 0x11})
		client.Close()
		var sent strings.Builder
		for {
			m, err := control.Receive(server)
			if err != nil {
				break
			}
			sent.Write(m.Payload)
		}
		server.Close()
		if detached != c.detached || sent.String() != c.sent {
			t.Errorf("typed %q: sent %q, detached %v; want %q, %v", c.typed, sent.String(), detached, c.sent, c.detached)
		}
	}
}

func fileConn(t *testing.T, fd int) *net.UnixConn {
	t.Helper()
	f := os.NewFile(uintptr(fd), "socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.UnixConn)
}
