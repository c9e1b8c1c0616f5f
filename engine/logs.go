package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"box/engine/flags"
	"box/engine/logfile"
	"box/engine/monitor"
)

// Logging drivers box has (see engine/flags).
const (
	LogJSONFile = flags.LogJSONFile
	LogNone     = flags.LogNone
)

// ErrLogsUnsupported is `logs` of a container whose logging driver keeps
// nothing to read (Docker's words).
var ErrLogsUnsupported = errors.New("configured logging driver does not support reading")

// LogConfig is a container's --log-driver and --log-opt values
// (engine/flags checks them), as inspect shows them in
// HostConfig.LogConfig.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// removeLogs deletes a container's log files ahead of the container: when
// its output filled the disk, the room they free is what the store needs
// to rewrite its lists while it removes the container.
func removeLogs(e *Engine, id string) {
	dir, err := e.Store.ContainerDir(id)
	if err != nil {
		return
	}
	logfile.Remove(filepath.Join(dir, logFile))
}

// logAttached makes a container run in the foreground log its output as a
// detached one does, as Docker logs every container whatever is attached:
// mio's Stdout and Stderr become pipes whose far ends go to the caller's
// files first and then, line by line, to the container's log. With the
// none driver mio is left alone and nothing is kept. The returned finish
// must be called once supervise has returned: it waits for the last
// output to reach both the caller and the log, and closes the log.
func logAttached(rec *record, dir string, mio *monitor.Config) (finish func(), err error) {
	policy, err := flags.LogConfig(rec.Log).Rotation()
	if err != nil {
		return nil, err
	}
	if policy.Discard {
		return func() {}, nil
	}
	logs, err := logfile.Open(filepath.Join(dir, logFile), policy)
	if err != nil {
		return nil, err
	}
	outR, outW, err1 := os.Pipe()
	errR, errW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		for _, f := range []*os.File{outR, outW, errR, errW} {
			if f != nil {
				f.Close()
			}
		}
		logs.Close()
		return nil, fmt.Errorf("container output: %w", err)
	}
	var copying sync.WaitGroup
	for _, s := range []struct {
		r      *os.File
		to     *os.File
		stream string
	}{{outR, mio.Stdout, "stdout"}, {errR, mio.Stderr, "stderr"}} {
		copying.Add(1)
		go func() {
			defer copying.Done()
			logfile.Relay(s.r, s.to, logs, s.stream)
		}()
	}
	mio.Stdout, mio.Stderr = outW, errW
	then, terminal := mio.Started, mio.Spec.Process.Terminal
	mio.Started = func(r *monitor.Running) {
		if !terminal {
			// The container holds its own copies of the write ends now;
			// with a terminal, the monitor's relay writes to outW until
			// the container ends.
			outW.Close()
			errW.Close()
		}
		if then != nil {
			then(r)
		}
	}
	return func() {
		outW.Close()
		errW.Close()
		copying.Wait()
		logs.Close()
	}, nil
}

// LogOptions select what `logs` prints.
type LogOptions struct {
	Follow     bool
	Tail       int // lines from the end; negative means all
	Timestamps bool
	Since      time.Time
	Until      time.Time
}

// Logs writes a container's logged output, stdout lines to stdout and
// stderr lines to stderr. With Follow it keeps writing what the
// container prints until it stops or ctx ends. Every container has a
// log, attached or not, unless its logging driver is none.
func (e *Engine) Logs(ctx context.Context, nameOrID string, opts LogOptions, stdout, stderr io.Writer) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return err
	}
	if rec, err := loadRecord(dir); err == nil && rec.Log.Type == LogNone {
		return ErrLogsUnsupported
	}
	rd := logfile.OpenReader(filepath.Join(dir, logFile))
	defer rd.Close()
	show := func(ent logfile.Entry) {
		if !opts.Since.IsZero() && ent.Time.Before(opts.Since) || !opts.Until.IsZero() && ent.Time.After(opts.Until) {
			return
		}
		w := stdout
		if ent.Stream == "stderr" {
			w = stderr
		}
		if opts.Timestamps {
			fmt.Fprintf(w, "%s %s", ent.Time.Format(time.RFC3339Nano), ent.Log)
			return
		}
		io.WriteString(w, ent.Log)
	}
	var pending []logfile.Entry
	rd.Read(func(ent logfile.Entry) { pending = append(pending, ent) })
	if opts.Tail >= 0 && len(pending) > opts.Tail {
		pending = pending[len(pending)-opts.Tail:]
	}
	for _, ent := range pending {
		show(ent)
	}
	if !opts.Follow {
		return nil
	}
	// As Docker's follow, the stream ends with the container or at
	// --until: nothing logged after it would be shown. A write to the log
	// wakes the reader at once (the poll is the fallback): with a small
	// max-size and max-file=1 a reader that lags a whole file behind
	// loses that file, as Docker's does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := logfile.Watch(ctx, dir)
	for c.State == Running && c.monitor.alive() {
		wait := 100 * time.Millisecond
		if !opts.Until.IsZero() {
			left := time.Until(opts.Until)
			if left < 0 {
				break
			}
			wait = min(wait, left)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-time.After(wait):
		}
		rd.Read(show)
	}
	rd.Read(show)
	return nil
}
