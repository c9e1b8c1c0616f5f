package monitor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The parts of the monitor that need no container: what it hands
// libcontainer, how it receives a pty, how it relays a terminal. Running
// a container end to end is the end-to-end suite's (commands/e2e).

func TestProcessCarriesTheSpec(t *testing.T) {
	sp := &specs.Process{
		Args: []string{"/bin/sh", "-c", "true"},
		Env:  []string{"PATH=/bin", "A=1"},
		Cwd:  "/work",
		User: specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}},
		ConsoleSize: &specs.Box{
			Width: 132, Height: 43,
		},
		NoNewPrivileges: true,
		Capabilities: &specs.LinuxCapabilities{
			Bounding:  []string{"CAP_CHOWN", "CAP_KILL"},
			Effective: []string{"CAP_KILL"},
			Permitted: []string{"CAP_KILL"},
		},
	}
	p := process(sp)
	if !reflect.DeepEqual(p.Args, sp.Args) || !reflect.DeepEqual(p.Env, sp.Env) || p.Cwd != "/work" {
		t.Errorf("args/env/cwd = %q %q %q", p.Args, p.Env, p.Cwd)
	}
	if p.UID != 1000 || p.GID != 100 || !reflect.DeepEqual(p.AdditionalGroups, []int{10, 20}) {
		t.Errorf("ids = %d:%d %v", p.UID, p.GID, p.AdditionalGroups)
	}
	if p.ConsoleWidth != 132 || p.ConsoleHeight != 43 {
		t.Errorf("console size = %dx%d", p.ConsoleWidth, p.ConsoleHeight)
	}
	if p.NoNewPrivileges == nil || !*p.NoNewPrivileges {
		t.Error("no_new_privileges lost")
	}
	if p.Capabilities == nil || !reflect.DeepEqual(p.Capabilities.Bounding, sp.Capabilities.Bounding) ||
		!reflect.DeepEqual(p.Capabilities.Effective, []string{"CAP_KILL"}) {
		t.Errorf("capabilities = %+v", p.Capabilities)
	}

	bare := process(&specs.Process{Args: []string{"true"}})
	if bare.Capabilities != nil || bare.ConsoleWidth != 0 || len(bare.AdditionalGroups) != 0 {
		t.Errorf("a bare process gained settings: %+v", bare)
	}
}

func TestLibcontainerConfigCgroups(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := func() *specs.Spec {
		s := specconv.Example()
		s.Root.Path = filepath.Join(dir, "rootfs")
		return s
	}

	// Rootful containers get a cgroup of their own under /box.
	lc, err := libcontainerConfig(Config{ID: "c1", Spec: spec()})
	if err != nil {
		t.Fatal(err)
	}
	if lc.Cgroups == nil || lc.Cgroups.Path != "/box/c1" {
		t.Errorf("rootful cgroup = %+v, want path /box/c1", lc.Cgroups)
	}
	if lc.RootlessCgroups {
		t.Error("rootful container marked rootless")
	}

	// Rootless ones make none: libcontainer must be told so.
	lc, err = libcontainerConfig(Config{ID: "c2", Spec: spec(), Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	if !lc.RootlessCgroups {
		t.Error("rootless container not marked rootless")
	}
	if lc.Cgroups != nil && lc.Cgroups.Path == "/box/c2" {
		t.Error("rootless container was given a cgroup path")
	}
	if !lc.NoNewKeyring {
		t.Error("containers must not get a new session keyring")
	}
}

func TestStartErrorSaysItOnce(t *testing.T) {
	inner := errors.New("exec: \"nope\": executable file not found in $PATH")
	err := error(&StartError{Err: inner})
	if got := err.Error(); got != "start container: "+inner.Error() || strings.Count(got, "start container") != 1 {
		t.Errorf("message = %q", got)
	}
	if !errors.Is(err, inner) {
		t.Error("StartError does not unwrap to its cause")
	}
}

// sendFile is libcontainer's side of the console socket: one file
// descriptor, named, in one message.
func sendFile(t *testing.T, sock *os.File, f *os.File) {
	t.Helper()
	rights := unix.UnixRights(int(f.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(f.Name()), rights, nil, 0); err != nil {
		t.Fatal(err)
	}
}

func TestRecvFile(t *testing.T) {
	parent, child, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()

	f, err := os.CreateTemp(t.TempDir(), "pty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("hello"); err != nil {
		t.Fatal(err)
	}
	sendFile(t, child, f)
	f.Close()

	got, err := recvFile(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Name() != f.Name() {
		t.Errorf("name = %q, want %q", got.Name(), f.Name())
	}
	b, err := io.ReadAll(io.NewSectionReader(got, 0, 100))
	if err != nil || string(b) != "hello" {
		t.Errorf("received file reads %q, %v", b, err)
	}
	flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Error("received descriptor is not close-on-exec: it would leak into the container's processes")
	}
}

func TestRecvFileWithoutDescriptor(t *testing.T) {
	parent, child, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	if _, err := child.Write([]byte("no fd here")); err != nil {
		t.Fatal(err)
	}
	if _, err := recvFile(parent); err == nil || !strings.Contains(err.Error(), "no file descriptor") {
		t.Errorf("err = %v, want a missing-descriptor error", err)
	}
}

// TestTTYRelay drives the relay the way a container's pty does: what the
// container writes reaches the caller's stdout, and Drain returns only
// once the last of it has.
func TestTTYRelay(t *testing.T) {
	master, slaveName, err := console.NewPty()
	if err != nil {
		t.Fatalf("no pty on this machine: %v", err)
	}
	slave, err := os.OpenFile(slaveName, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatal(err)
	}
	parent, child, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	masterFile := os.NewFile(master.Fd(), "pty-master")
	sendFile(t, child, masterFile)
	child.Close()
	master.Close()

	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	relay, err := newTTYRelay(parent, nil, outW)
	if err != nil {
		t.Fatal(err)
	}

	// A resize without a caller's terminal does nothing and does not fail.
	relay.Resize()
	r := &Running{tty: relay}
	r.Resize(100, 30)
	ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col != 100 || ws.Row != 30 {
		t.Errorf("container's terminal size = %+v, %v; want 100x30", ws, err)
	}

	if _, err := slave.WriteString("line one\nline two\n"); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the container ends: the master reads EOF/EIO

	drained := make(chan struct{})
	go func() {
		relay.Drain()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return after the container's side closed")
	}
	relay.Close()
	outW.Close()
	got, _ := io.ReadAll(outR)
	// The container's terminal makes its newlines CR LF, as Docker's does;
	// the relay passes them on unchanged.
	if !bytes.Equal(got, []byte("line one\r\nline two\r\n")) {
		t.Errorf("caller saw %q", got)
	}
}

// TestRawTerminal: the caller's terminal passes output on unprocessed
// (no second CR before each LF) and typed bytes uncooked, and gets its
// settings back.
func TestRawTerminal(t *testing.T) {
	master, slaveName, err := console.NewPty()
	if err != nil {
		t.Fatalf("no pty on this machine: %v", err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slaveName, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	host, err := console.ConsoleFromFile(slave)
	if err != nil {
		t.Fatal(err)
	}
	termios := func() *unix.Termios {
		t.Helper()
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		return tio
	}
	before := termios()
	if before.Oflag&unix.OPOST == 0 || before.Lflag&unix.ICANON == 0 {
		t.Fatalf("a new pty is not cooked: %+v", before)
	}
	restore, err := RawTerminal(host)
	if err != nil {
		t.Fatal(err)
	}
	raw := termios()
	if raw.Oflag&unix.OPOST != 0 || raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("raw terminal still processes: oflag %#x lflag %#x", raw.Oflag, raw.Lflag)
	}
	if _, err := slave.WriteString("a\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := master.Read(buf)
	if err != nil || string(buf[:n]) != "a\n" {
		t.Errorf("raw output came out as %q, %v", buf[:n], err)
	}
	restore()
	if after := termios(); after.Oflag != before.Oflag || after.Lflag != before.Lflag || after.Iflag != before.Iflag {
		t.Errorf("restore left %+v, want %+v", after, before)
	}
}

func TestReleaseOfUnknownContainer(t *testing.T) {
	// A monitor that died before libcontainer made any state leaves
	// nothing to release: that is not an error.
	if err := Release(t.TempDir(), "never-created"); err != nil {
		t.Errorf("Release = %v", err)
	}
}
