package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/monitor"
)

// MonitorRole is the hidden first argument with which box re-executes
// itself as a detached container's monitor.
const MonitorRole = "__monitor"

const (
	specFile = "spec.json"
	logFile  = "ctr.log"
)

// startMonitor hands a prepared container to a monitor process of its own
// and returns once the container runs, or with the reason it did not.
//
// Why a child process and these namespaces: the monitor is forked from
// this invocation, so it shares its user namespace and, crucially, its
// mount namespace, where the container's rootfs is mounted; that
// namespace lives on with the monitor after this invocation exits. Later
// invocations, in namespaces of their own, reach the container through
// the host pids recorded for it (signals, /proc), never through the mount.
func (e *Engine) startMonitor(id string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start monitor: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe", MonitorRole, e.Store.Root(), e.Store.RunRoot(), e.Store.Driver(), id)
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{w} // fd 3: the start report
	// A session of its own: the terminal closing or the caller's process
	// group being signalled does not reach the monitor.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start monitor: %w", err)
	}
	w.Close()
	report, _ := io.ReadAll(r)
	msg := strings.TrimSpace(string(report))
	if msg == "ok" {
		return cmd.Process.Release()
	}
	_ = cmd.Wait()
	if msg == "" {
		msg = "the monitor exited before the container started"
	}
	return &monitor.StartError{Err: errors.New(msg)}
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

// ServeMonitor is a detached container's monitor: box re-executed with
// MonitorRole. It runs the container prepared by `run -d`, writes its
// output to the container's log, records how it ended, releases its
// rootfs and removes it for --rm, then returns the exit code for the
// process. Start failures are reported on report (then closed).
func ServeMonitor(opts Options, id string, report *os.File) int {
	fail := func(err error) int {
		fmt.Fprintln(report, err.Error())
		report.Close()
		return 125
	}
	e, err := New(opts)
	if err != nil {
		return fail(err)
	}
	defer e.Close()
	dir, err := e.Store.Backing().ContainerDirectory(id)
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
		_, _ = e.Store.Backing().Unmount(id, true)
		if rec.Remove {
			_ = e.deleteWithVolumes(func() { _ = e.Store.Backing().DeleteContainer(id) }, rec.Volumes)
		}
	}

	logs, err := openLog(filepath.Join(dir, logFile))
	if err != nil {
		cleanup()
		return fail(err)
	}
	defer logs.Close()
	outR, outW, err1 := os.Pipe()
	errR, errW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		cleanup()
		return fail(err)
	}
	var copying sync.WaitGroup
	for _, s := range []struct {
		r    *os.File
		name string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		copying.Add(1)
		go func() {
			defer copying.Done()
			logs.copy(s.r, s.name)
		}()
	}
	mio := monitor.Config{
		ID: id, StateRoot: e.stateRoot(), Spec: sp, Rootless: e.Identity.Rootless(),
		Stdout: outW, Stderr: errW,
		Started: func(int) {
			// The container holds its own copies of the write ends now.
			outW.Close()
			errW.Close()
			fmt.Fprintln(report, "ok")
			report.Close()
		},
	}
	st, err := e.supervise(context.Background(), rec, dir, mio)
	if err != nil {
		outW.Close()
		errW.Close()
		copying.Wait()
		cleanup()
		return fail(err)
	}
	copying.Wait()
	cleanup()
	return st.ExitCode
}

// logWriter writes a container's output in Docker's json-file format: one
// JSON object per line of output, {"log":"...\n","stream":"stdout",
// "time":"RFC3339Nano"}. Writes that fail (a full disk) are dropped; the
// container keeps running.
type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

func openLog(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return &logWriter{f: f}, nil
}

// logEntry is one line of a json-file log.
type logEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func (l *logWriter) copy(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			data, _ := json.Marshal(logEntry{Log: line, Stream: stream, Time: time.Now().UTC()})
			l.mu.Lock()
			_, _ = l.f.Write(append(data, '\n'))
			l.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (l *logWriter) Close() error { return l.f.Close() }
