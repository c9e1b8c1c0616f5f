package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
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
	dir, err := e.Store.ContainerDir(c.ID)
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
	// --until: nothing logged after it would be shown. A write to the log
	// wakes the reader at once (the poll is the fallback): with a small
	// max-size and max-file=1 a reader that lags a whole file behind
	// loses that file, as Docker's does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := watchLog(ctx, dir)
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
		rd.read(show)
	}
	rd.read(show)
	return nil
}

// watchLog signals on the returned channel whenever a file in dir (the
// container's log and its rotations) is written, made, moved or removed,
// until ctx ends. Where inotify is not to be had the channel stays
// silent and the caller polls.
func watchLog(ctx context.Context, dir string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return ch
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY|unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_DELETE); err != nil {
		unix.Close(fd)
		return ch
	}
	// Non-blocking, so the runtime's poller serves it and Close ends the
	// read below.
	f := os.NewFile(uintptr(fd), "inotify")
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch
}
