// Package monitor runs one container's init through libcontainer and
// stays its parent until it ends: it holds the container's stdio or pty,
// forwards signals and window size, and collects the exit status. A
// foreground `box run` is a monitor attached to the caller's terminal;
// a detached container gets the same monitor in a process of its own.
// It never touches the image store and never prints on its own.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"
	_ "github.com/opencontainers/cgroups/devices" // registers the device cgroup manager libcontainer needs
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Config describes one container to run.
type Config struct {
	ID string
	// StateRoot is where libcontainer keeps its state (under the run root).
	StateRoot string
	Spec      *specs.Spec
	// Rootless is set inside box's user namespace: no cgroup is made
	// unless the spec names one (a delegated cgroup v2 subtree).
	Rootless bool
	// Stdin is nil for no input (/dev/null). With a TTY it is the
	// caller's terminal, set to raw mode while the container runs.
	Stdin          *os.File
	Stdout, Stderr *os.File
	// Started, when set, is given the running container once its init
	// runs: its pid (as this process sees it) and a handle for exec and
	// the terminal. The handle is valid until Run returns.
	Started func(*Running)
	// Exited, when set, runs as soon as the container's init has
	// ended, before the container is torn down: what serves the
	// container alone may start ending meanwhile.
	Exited func()
	// Ready, when set, runs once the container is created, before its
	// command starts: the container's network, begun before the
	// container in namespaces it joins, may finish meanwhile. An error
	// ends the container.
	Ready func() error
}

// Status is how the container's init ended.
type Status struct {
	ExitCode int // 128+N when killed by signal N
	Signal   syscall.Signal
	// OOMKilled: the kernel killed it for going over its memory limit.
	OOMKilled bool
}

// StartError is a container that could not be started at all.
type StartError struct{ Err error }

func (e *StartError) Error() string { return "start container: " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Run creates the container, starts its init, relays signals and the
// terminal until it exits, and destroys the libcontainer state. The
// caller's mounts (rootfs) stay; releasing them is the caller's job.
func Run(ctx context.Context, cfg Config) (Status, error) {
	lc, err := libcontainerConfig(cfg)
	if err != nil {
		return Status{}, &StartError{Err: err}
	}
	ctr, err := libcontainer.Create(cfg.StateRoot, cfg.ID, lc)
	if err != nil {
		return Status{}, &StartError{Err: err}
	}
	defer func() { _ = ctr.Destroy() }()

	p := process(cfg.Spec.Process)
	p.Init = true
	var started func(int, *ttyRelay)
	if cfg.Started != nil {
		started = func(pid int, tty *ttyRelay) { cfg.Started(&Running{Pid: pid, ctr: ctr, tty: tty}) }
	}
	st, err := runProcess(ctx, ctr, p, cfg.Spec.Process.Terminal, cfg.Stdin, cfg.Stdout, cfg.Stderr, cfg.Ready, started, cfg.Exited)
	if err == nil && st.Signal == unix.SIGKILL {
		st.OOMKilled = oomKilled(ctr)
	}
	return st, err
}

// oomKilled says whether the kernel's OOM killer killed a process of
// the container's cgroup (its memory limit was reached), as Docker's
// State.OOMKilled: cgroup v1's memory.oom_control or v2's memory.events
// count the kills. A container without a cgroup of its own says no.
func oomKilled(ctr *libcontainer.Container) bool {
	st, err := ctr.State()
	if err != nil {
		return false
	}
	// A hybrid layout has both: v1's memory and a v2 tree without it.
	var files []string
	if p, ok := st.CgroupPaths["memory"]; ok {
		files = append(files, filepath.Join(p, "memory.oom_control"))
	}
	if p, ok := st.CgroupPaths[""]; ok {
		files = append(files, filepath.Join(p, "memory.events"))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if n, ok := strings.CutPrefix(line, "oom_kill "); ok && strings.TrimSpace(n) != "0" {
				return true
			}
		}
	}
	return false
}

// start creates the container with its init p and starts p's command
// once ready (if set) says so.
func start(ctr *libcontainer.Container, p *libcontainer.Process, ready func() error) error {
	if ready == nil {
		return ctr.Run(p)
	}
	if err := ctr.Start(p); err != nil {
		return err
	}
	if err := ready(); err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return err
	}
	return ctr.Exec()
}

// runProcess starts the container's init p, relays the caller's stdio or
// terminal and signals until it exits, and returns how it ended. started
// is told p's pid and terminal once it runs. (Processes that join the
// container come through Running.Exec, and relay nothing here.)
func runProcess(ctx context.Context, ctr *libcontainer.Container, p *libcontainer.Process, terminal bool, stdin, stdout, stderr *os.File, ready func() error, started func(int, *ttyRelay), exited func()) (Status, error) {
	// Catch signals before the start so none is lost in between.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	defer signal.Stop(sigs)

	var tty *ttyRelay
	if terminal {
		parent, child, err := socketPair()
		if err != nil {
			return Status{}, &StartError{Err: err}
		}
		defer parent.Close()
		p.ConsoleSocket = child
		if err := start(ctr, p, ready); err != nil {
			child.Close()
			return Status{}, &StartError{Err: err}
		}
		child.Close()
		tty, err = newTTYRelay(parent, stdin, stdout)
		if err != nil {
			_ = p.Signal(unix.SIGKILL)
			_, _ = p.Wait()
			return Status{}, &StartError{Err: err}
		}
		defer tty.Close()
	} else {
		if stdin != nil {
			p.Stdin = stdin
		}
		p.Stdout, p.Stderr = stdout, stderr
		if err := start(ctr, p, ready); err != nil {
			return Status{}, &StartError{Err: err}
		}
	}

	if started != nil {
		if pid, err := p.Pid(); err == nil {
			started(pid, tty)
		}
	}
	waited := make(chan struct{})
	var st Status
	var werr error
	go func() {
		defer close(waited)
		st, werr = wait(p)
	}()
	done := ctx.Done()
	for {
		select {
		case <-waited:
			if exited != nil {
				exited()
			}
			if tty != nil {
				tty.Drain()
			}
			return st, werr
		case <-done:
			_ = p.Signal(unix.SIGKILL)
			done = nil // once is enough; wait for the exit
		case s := <-sigs:
			switch s {
			case unix.SIGCHLD, unix.SIGPIPE, unix.SIGURG:
				// Ours, not the container's.
			case unix.SIGWINCH:
				if tty != nil {
					tty.Resize()
				}
			default:
				_ = p.Signal(s)
			}
		}
	}
}

func wait(p *libcontainer.Process) (Status, error) {
	ps, err := p.Wait()
	if ps == nil {
		return Status{}, err
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return Status{ExitCode: ps.ExitCode()}, nil
	}
	if ws.Signaled() {
		return Status{ExitCode: 128 + int(ws.Signal()), Signal: ws.Signal()}, nil
	}
	return Status{ExitCode: ws.ExitStatus()}, nil
}

func libcontainerConfig(cfg Config) (*configs.Config, error) {
	if !cfg.Rootless && cfg.Spec.Linux.CgroupsPath == "" {
		// Rootful containers get a cgroup of their own under /box (or
		// the --cgroup-parent the engine put in the spec); a rootless
		// one has one only where the engine found a delegated subtree.
		cfg.Spec.Linux.CgroupsPath = "/box/" + cfg.ID
	}
	lc, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      cfg.ID,
		Spec:            cfg.Spec,
		RootlessEUID:    false, // euid is 0 inside box's namespace
		RootlessCgroups: cfg.Rootless,
		NoNewKeyring:    true,
	})
	if err != nil {
		return nil, err
	}
	// specconv leaves the process's rlimits to the caller (runc sets
	// them on its process); set on the config, exec's processes get
	// them too.
	for _, r := range cfg.Spec.Process.Rlimits {
		n, ok := rlimitTypes[r.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %s", r.Type)
		}
		lc.Rlimits = append(lc.Rlimits, configs.Rlimit{Type: n, Hard: r.Hard, Soft: r.Soft})
	}
	return lc, nil
}

var rlimitTypes = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

func process(sp *specs.Process) *libcontainer.Process {
	p := &libcontainer.Process{
		Args:            sp.Args,
		Env:             sp.Env,
		UID:             int(sp.User.UID),
		GID:             int(sp.User.GID),
		Cwd:             sp.Cwd,
		NoNewPrivileges: &sp.NoNewPrivileges,
	}
	for _, g := range sp.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, int(g))
	}
	if sp.ConsoleSize != nil {
		p.ConsoleWidth, p.ConsoleHeight = uint16(sp.ConsoleSize.Width), uint16(sp.ConsoleSize.Height)
	}
	if c := sp.Capabilities; c != nil {
		p.Capabilities = &configs.Capabilities{
			Bounding: c.Bounding, Effective: c.Effective, Permitted: c.Permitted,
			Inheritable: c.Inheritable, Ambient: c.Ambient,
		}
	}
	return p
}

func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console socket: %w", err)
	}
	return os.NewFile(uintptr(fds[1]), "console-parent"), os.NewFile(uintptr(fds[0]), "console-child"), nil
}

// recvFile receives the pty master libcontainer sends over the socket.
func recvFile(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive pty: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("receive pty: no file descriptor in message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("receive pty: no file descriptor in message")
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}

// ttyRelay copies between the caller's terminal and the container's pty.
type ttyRelay struct {
	master  console.Console
	host    console.Console // nil when stdin is not a terminal
	out     sync.WaitGroup
	restore func()
}

func newTTYRelay(sock, stdin, stdout *os.File) (*ttyRelay, error) {
	f, err := recvFile(sock)
	if err != nil {
		return nil, err
	}
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	t := &ttyRelay{master: master, restore: func() {}}
	if stdin != nil {
		if host, err := console.ConsoleFromFile(stdin); err == nil {
			t.host = host
			if restore, err := RawTerminal(host); err == nil {
				t.restore = restore
			}
			t.Resize()
		}
		go func() { _, _ = io.Copy(master, stdin) }()
	}
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		_, _ = io.Copy(stdout, master)
	}()
	return t, nil
}

// RawTerminal puts the caller's terminal in raw mode, as Docker's client
// does: nothing it is typed is cooked, and the container's output is
// passed on as it comes, with no output processing. The container's own
// terminal turns its newlines into CR LF, as any terminal does (so `run
// -t` output read from a pipe has them too, as Docker's has). The other
// way round, a container terminal without that and the caller's adding
// it, goes wrong whenever a program in the container saves its terminal's
// settings before they are changed and later restores them. restore
// gives the terminal back its settings.
func RawTerminal(host console.Console) (restore func(), err error) {
	if err := host.SetRaw(); err != nil {
		return nil, err
	}
	restore = func() { _ = host.Reset() }
	t, err := unix.IoctlGetTermios(int(host.Fd()), unix.TCGETS)
	if err == nil {
		t.Oflag &^= unix.OPOST
		err = unix.IoctlSetTermios(int(host.Fd()), unix.TCSETS, t)
	}
	if err != nil {
		restore()
		return nil, err
	}
	return restore, nil
}

// Resize gives the container's pty the caller's terminal size.
func (t *ttyRelay) Resize() {
	if t.host != nil {
		_ = t.master.ResizeFrom(t.host)
	}
}

// Drain waits for the container's last output to reach the caller.
func (t *ttyRelay) Drain() { t.out.Wait() }

func (t *ttyRelay) Close() {
	t.restore()
	_ = t.master.Close()
}

// Release frees what a container's monitor would have freed had it not
// died first: libcontainer's state and, for rootful containers, their
// cgroups. An init still running (its monitor died before box recorded
// it) is killed first.
func Release(stateRoot, id string) error {
	ctr, err := libcontainer.Load(stateRoot, id)
	if err != nil {
		// Never created, or already destroyed.
		return nil
	}
	if st, err := ctr.Status(); err == nil && st != libcontainer.Stopped {
		_ = ctr.Signal(unix.SIGKILL)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if st, err := ctr.Status(); err != nil || st == libcontainer.Stopped {
				break
			}
		}
	}
	return ctr.Destroy()
}
