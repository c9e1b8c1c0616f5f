package engine

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"
)

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
	dir, err := e.Store.Backing().ContainerDirectory(c.ID)
	if err != nil {
		return err
	}
	if rec, err := loadRecord(dir); err == nil && rec.Log.Type == LogNone {
		return ErrLogsUnsupported
	}
	rd := openLogReader(filepath.Join(dir, logFile))
	defer rd.Close()
	show := func(ent logEntry) {
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
	var pending []logEntry
	rd.read(func(ent logEntry) { pending = append(pending, ent) })
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
	// --until: nothing logged after it would be shown.
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
		case <-time.After(wait):
		}
		rd.read(show)
	}
	rd.read(show)
	return nil
}
