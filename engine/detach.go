package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/flags"
	"box/engine/logfile"
	"box/engine/monitor"
	"box/rootless"
)

const (
	specFile = "spec.json"
	logFile  = "ctr.log"
)

// monitorProcess is a detached container's monitor, started before the
// container is ready so that its own start-up (the runtime, the store)
// overlaps this invocation's preparing of the container (about 8 of the
// 60 ms of `run -d` here).
//
// Why a child process and these namespaces: the monitor is forked from
// this invocation, so it shares its user namespace and, crucially, its
// mount namespace, where the container's rootfs is (or will be) mounted;
// that namespace lives on with the monitor after this invocation exits.
// Later invocations, in namespaces of their own, reach the container
// through its monitor's control socket and the host pids recorded for it,
// never through the mount.
type monitorProcess struct {
	cmd *exec.Cmd
	// gate takes one byte once the container is ready to start; closed
	// without it, the monitor leaves quietly.
	gate *os.File
	// report says "ok" once the container runs, or why it did not.
	report *os.File
	// client is the run's end of a connection the monitor serves as an
	// attached client from the container's first output on (a foreground
	// run --sig-proxy=false, run_attached.go); nil for a detached run.
	client *net.UnixConn
}

// spawnMonitor starts the monitor of container id, which waits for start.
// The monitor inherits lock, the container's mount lock this process
// holds, and keeps it until it has unmounted the container's rootfs (see
// mountLockPath); the caller closes its own copy when done. attached
// gives the monitor a first attached client, whose other end is the
// returned monitorProcess's client.
func (e *Engine) spawnMonitor(id string, lock *os.File, attached bool) (*monitorProcess, error) {
	reportR, reportW, err1 := os.Pipe()
	gateR, gateW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	cmd := exec.Command("/proc/self/exe", string(rootless.RoleMonitor), e.Store.Root(), e.Store.RunRoot(), e.Store.Driver(), id)
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{reportW, gateR, lock} // fds 3, 4 and 5
	var client *net.UnixConn
	if attached {
		ours, theirs, err := attachedPair()
		if err != nil {
			reportR.Close()
			reportW.Close()
			gateR.Close()
			gateW.Close()
			return nil, fmt.Errorf("start monitor: %w", err)
		}
		defer theirs.Close()
		client = ours
		cmd.Args = append(cmd.Args, monitorAttachedArg)
		cmd.ExtraFiles = append(cmd.ExtraFiles, theirs) // fd 6
	}
	// A session of its own: the terminal closing or the caller's process
	// group being signalled does not reach the monitor.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err := cmd.Start()
	reportW.Close()
	gateR.Close()
	if err != nil {
		reportR.Close()
		gateW.Close()
		if client != nil {
			client.Close()
		}
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	return &monitorProcess{cmd: cmd, gate: gateW, report: reportR, client: client}, nil
}

// start lets the monitor start the prepared container and returns once
// it runs, or with the reason it did not.
func (m *monitorProcess) start() error {
	defer m.report.Close()
	_, err := m.gate.Write([]byte{1})
	m.gate.Close()
	report, _ := io.ReadAll(m.report)
	msg := strings.TrimSpace(string(report))
	if err == nil && msg == "ok" {
		return m.cmd.Process.Release()
	}
	_ = m.cmd.Wait()
	if msg == "" {
		msg = "the monitor exited before the container started"
	}
	return &monitor.StartError{Err: errors.New(msg)}
}

// cancel sends the monitor away: there is no container for it.
func (m *monitorProcess) cancel() {
	if m.client != nil {
		m.client.Close()
	}
	m.gate.Close()
	m.report.Close()
	_ = m.cmd.Wait()
}

// startMonitor hands a prepared container, its mount and lock, to a
// monitor process of its own and returns once the container runs, or with
// the reason it did not.
func (e *Engine) startMonitor(id string, lock *os.File) error {
	m, err := e.spawnMonitor(id, lock, false)
	if err != nil {
		return err
	}
	return m.start()
}

// saveSpec keeps the container's runtime spec for its monitor and for
// later starts.
func saveSpec(dir string, sp *specs.Spec) error {
	data, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, specFile), data, 0o600); err != nil {
		return fmt.Errorf("save container spec: %w", err)
	}
	return nil
}

func loadSpec(dir string) (*specs.Spec, error) {
	var sp specs.Spec
	data, err := os.ReadFile(filepath.Join(dir, specFile))
	if err == nil {
		err = json.Unmarshal(data, &sp)
	}
	if err != nil {
		return nil, fmt.Errorf("read container spec: %w", err)
	}
	return &sp, nil
}

// monitorAttachedArg, after the container id, tells the monitor that fd
// 6 is its first attached client.
const monitorAttachedArg = "attached"

// MonitorMain is the monitor role (rootless.RoleMonitor) as main.go
// dispatches it: args are those spawnMonitor gives after the role's name
// (store root, run root, driver, container id, and "attached" when fd 6
// is a first attached client); fd 3 reports the start, fd 4 gates it and
// fd 5 is the container's mount lock, held until the monitor exits. It
// returns the process's exit code.
func MonitorMain(args []string) int {
	attached := len(args) == 5 && args[4] == monitorAttachedArg
	if len(args) != 4 && !attached {
		fmt.Fprintf(os.Stderr, "box: %s takes a store root, run root, driver and container id\n", rootless.RoleMonitor)
		return 125
	}
	opts := Options{Root: args[0], RunRoot: args[1], Driver: args[2]}
	// The lock is this process's to hold, not the container's processes'.
	unix.CloseOnExec(5)
	var first *net.UnixConn
	if attached {
		unix.CloseOnExec(6)
		f := os.NewFile(6, "attached-client")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "box: %s: the attached client: %v\n", rootless.RoleMonitor, err)
			return 125
		}
		first = c.(*net.UnixConn)
	}
	return ServeMonitor(opts, args[3], os.NewFile(4, "start-gate"), os.NewFile(3, "start-report"), first)
}

// ServeMonitor is a detached container's monitor: box re-executed as
// rootless.RoleMonitor. It runs the container prepared by `run -d`, writes its
// output to the container's log, records how it ended, releases its
// rootfs and removes it for --rm, then returns the exit code for the
// process. It starts the container once gate gives a byte, and leaves
// at once when gate closes without one. Start failures are reported on
// report (then closed). first, when not nil, is an attached client from
// the container's first output on (serveFirstClient).
func ServeMonitor(opts Options, id string, gate, report *os.File, first *net.UnixConn) int {
	fail := func(err error) int {
		// The caller makes the report a StartError of its own.
		var se *monitor.StartError
		if errors.As(err, &se) {
			err = se.Err
		}
		fmt.Fprintln(report, err.Error())
		report.Close()
		return 125
	}
	e, err := New(opts)
	if err != nil {
		return fail(err)
	}
	defer e.Close()
	spawner := os.Getppid()
	if !awaitGate(gate, func() bool { return os.Getppid() == spawner }) {
		return 0 // the container was never made
	}
	gate.Close()
	dir, err := e.Store.ContainerDir(id)
	if err != nil {
		return fail(err)
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return fail(err)
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return fail(err)
	}
	cleanup := func() {
		_ = e.Store.UnmountContainer(id)
		if rec.Remove {
			_ = e.deleteWithVolumes(func() { _ = e.Store.DeleteContainer(id) }, rec.Volumes)
			e.recordEvent("destroy", rec)
			e.removeMountLock(id)
		}
	}

	policy, err := flags.LogConfig(rec.Log).Rotation()
	if err != nil {
		cleanup()
		return fail(err)
	}
	logs, err := logfile.Open(filepath.Join(dir, logFile), policy)
	if err != nil {
		cleanup()
		return fail(err)
	}
	defer logs.Close()
	hub := newAttachHub(nil)
	var stdin *os.File
	if rec.Interactive {
		// Attached clients write into the container's stdin here.
		var inW *os.File
		if stdin, inW, err = os.Pipe(); err != nil {
			cleanup()
			return fail(err)
		}
		defer inW.Close()
		defer stdin.Close()
		hub.stdin = inW
	}
	ctl, err := e.serveControl(id, sp, hub)
	if err != nil {
		cleanup()
		return fail(err)
	}
	defer ctl.close()
	if first != nil {
		serveFirstClient(hub, first)
	}

	var reported sync.Once
	started := func() {
		reported.Do(func() {
			fmt.Fprintln(report, "ok")
			report.Close()
		})
	}
	var delay time.Duration
	for first := true; ; first = false {
		began := time.Now()
		st, err := e.runLogged(rec, dir, sp, stdin, logs, hub, ctl, started)
		if err != nil {
			if first {
				cleanup()
				return fail(err)
			}
			// A restart that cannot start ends the policy; the last exit
			// stays recorded.
			break
		}
		if !rec.Restarting {
			cleanup()
			return st.ExitCode
		}
		delay = nextRestartDelay(delay, time.Since(began))
		if !ctl.waitStop(delay) {
			rec.Restarting, rec.Monitor = false, nil
			_ = rec.save(dir)
			cleanup()
			return st.ExitCode
		}
		rec.RestartCount++
		// Limits `box update` changed meanwhile hold for the new run.
		if onDisk, err := loadSpec(dir); err == nil && onDisk.Linux != nil {
			sp.Linux.Resources = onDisk.Linux.Resources
		}
	}
	rec.Restarting, rec.Monitor = false, nil
	_ = rec.save(dir)
	cleanup()
	return 125
}

// runLogged runs the container once under this monitor, its output going
// to the log and to attached clients, whom it tells how the run ended.
func (e *Engine) runLogged(rec *record, dir string, sp *specs.Spec, stdin *os.File, logs *logfile.Writer, hub *attachHub, ctl *controlServer, started func()) (monitor.Status, error) {
	outR, outW, err1 := os.Pipe()
	errR, errW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		return monitor.Status{}, &monitor.StartError{Err: err}
	}
	var copying sync.WaitGroup
	for _, s := range []struct {
		r    *os.File
		name string
		kind byte
	}{{outR, "stdout", control.MsgStdout}, {errR, "stderr", control.MsgStderr}} {
		copying.Add(1)
		go func() {
			defer copying.Done()
			defer s.r.Close()
			logs.Copy(hub.tee(s.r, s.kind), s.name)
		}()
	}
	mio := monitor.Config{
		ID: rec.ID, StateRoot: e.stateRoot(), Spec: sp, Rootless: e.Identity.Rootless(),
		Stdin: stdin, Stdout: outW, Stderr: errW,
		Started: func(*monitor.Running) {
			if !sp.Process.Terminal {
				// The container holds its own copies of the write ends
				// now; with a terminal, the monitor's relay writes to
				// outW until the container ends.
				outW.Close()
				errW.Close()
			}
			started()
		},
	}
	st, err := e.supervise(context.Background(), rec, dir, mio, ctl, func(code int) bool {
		reloadRestart(rec, dir)
		return !ctl.stopRequested() && rec.Restart.restarts(code, rec.RestartCount)
	})
	outW.Close()
	errW.Close()
	copying.Wait()
	if err == nil {
		hub.finish(st.ExitCode)
	}
	return st, err
}

// awaitGate waits for the byte on gate that lets the container start,
// and says whether it came. The spawner closes the gate when it dies, or
// so it should: a spawner SIGKILLed just after it started the monitor
// once left a fork of itself that never reached exec (stuck in the Go
// runtime, in CI) holding the gate's write end, and the monitor waited
// for ever. So once spawnerAlive says no, whatever still holds the gate
// open is such a leftover of the dead spawner, and is ended.
func awaitGate(gate *os.File, spawnerAlive func() bool) bool {
	got := make(chan bool, 1)
	go func() {
		n, _ := gate.Read(make([]byte, 1))
		got <- n == 1
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ok := <-got:
			return ok
		case <-tick.C:
		}
		if spawnerAlive() {
			continue
		}
		select {
		case ok := <-got:
			return ok
		default:
		}
		endPipeHolders(gate)
		select {
		case ok := <-got:
			return ok
		case <-time.After(time.Second):
			return false
		}
	}
}

// endPipeHolders SIGKILLs the other processes that have the pipe f is
// an end of open.
func endPipeHolders(f *os.File) {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return
	}
	want := fmt.Sprintf("pipe:[%d]", st.Ino)
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); l == want {
				_ = unix.Kill(pid, unix.SIGKILL)
				break
			}
		}
	}
}
