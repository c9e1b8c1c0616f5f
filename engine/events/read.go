package events

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Filter is `box events --filter`: values of one key are alternatives,
// different keys must all hold, as in Docker. Keys: container, image,
// event, type, label, network, volume.
type Filter map[string][]string

// FilterKeys are the keys Filter takes.
var FilterKeys = []string{"container", "image", "event", "type", "label", "network", "volume"}

// Match says whether ev passes f.
func (f Filter) Match(ev Event) bool {
	attrs := ev.Actor.Attributes
	any := func(key string, ok func(string) bool) bool {
		vs := f[key]
		if len(vs) == 0 {
			return true
		}
		for _, v := range vs {
			if ok(v) {
				return true
			}
		}
		return false
	}
	// As Docker's daemon matches container=, network= and volume= (its
	// events.Filter's fuzzyMatchName): the value names the event's actor,
	// whatever its type; a network's connect event, whose actor is the
	// network, is not one of the container's.
	actor := func(v string) bool {
		return v == attrs["name"] || v != "" && strings.HasPrefix(ev.Actor.ID, v)
	}
	return any("type", func(v string) bool { return v == ev.Type }) &&
		any("event", func(v string) bool { return v == ev.Action || strings.HasPrefix(ev.Action, v+":") }) &&
		any("container", actor) &&
		any("network", actor) &&
		any("volume", actor) &&
		any("image", func(v string) bool {
			if ev.Type == Image {
				return v == attrs["name"] || strings.HasPrefix(ev.Actor.ID, v) || strings.HasPrefix(ev.Actor.ID, "sha256:"+v) || v == ev.Actor.ID
			}
			return ev.Type == Container && (v == attrs["image"] || strings.TrimSuffix(attrs["image"], ":latest") == v)
		}) &&
		any("label", func(v string) bool {
			k, want, withValue := strings.Cut(v, "=")
			got, ok := attrs[k]
			return ok && (!withValue || got == want)
		})
}

// ReadOptions say which events Read and Follow pass on.
type ReadOptions struct {
	// Since and Until bound the events' times; zero means unbounded.
	Since, Until time.Time
	Filter       Filter
}

func (o ReadOptions) passes(ev Event) bool {
	t := time.Unix(0, ev.TimeNano)
	if !o.Since.IsZero() && t.Before(o.Since) {
		return false
	}
	if !o.Until.IsZero() && t.After(o.Until) {
		return false
	}
	return o.Filter.Match(ev)
}

// pollInterval is how often a follower looks at the log's size: a stat,
// never a re-read.
const pollInterval = 100 * time.Millisecond

// Follow calls fn for every stored event since opts.Since that passes
// opts, oldest first (the rotated file, then the current one), and then,
// with follow, for every event appended later, until ctx ends or
// opts.Until has passed. With no Since, following starts at the end of
// the log, as Docker's events show only what happens from now on. fn's
// error ends it.
func (l *Log) Follow(ctx context.Context, follow bool, opts ReadOptions, fn func(Event) error) error {
	fromNow := opts.Since.IsZero() && follow
	if !fromNow {
		if err := readFile(filepath.Join(l.dir, oldName), opts, fn); err != nil {
			return err
		}
	}
	f, err := os.Open(l.path())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if fromNow && f != nil {
		// Each line lands in one write, so the end is a line's end (or a
		// torn line's, which is skipped either way).
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return err
		}
	}
	t := &tail{f: f, opts: opts, fn: fn}
	defer t.close()
	if err := t.drain(); err != nil {
		return err
	}
	for follow {
		if !opts.Until.IsZero() && !time.Now().Before(opts.Until) {
			return nil
		}
		wait := pollInterval
		if !opts.Until.IsZero() {
			wait = min(wait, time.Until(opts.Until)+time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if err := t.drain(); err != nil {
			return err
		}
		// A rotation replaced the file: finish the old one (writers that
		// opened it before the rename may still have added to it), then
		// read the new one from its start.
		var st unix.Stat_t
		if unix.Stat(l.path(), &st) != nil {
			continue
		}
		if t.f != nil {
			var cur unix.Stat_t
			if unix.Fstat(int(t.f.Fd()), &cur) == nil && cur.Ino == st.Ino {
				continue
			}
		}
		nf, err := os.Open(l.path())
		if err != nil {
			continue
		}
		if err := t.drain(); err != nil {
			nf.Close()
			return err
		}
		t.close()
		t.f, t.partial = nf, nil
		if err := t.drain(); err != nil {
			return err
		}
	}
	return nil
}

// tail reads one file from where it last stopped, keeping an unfinished
// last line until the rest of it comes.
type tail struct {
	f       *os.File
	partial []byte
	opts    ReadOptions
	fn      func(Event) error
}

func (t *tail) close() {
	if t.f != nil {
		t.f.Close()
	}
}

func (t *tail) drain() error {
	if t.f == nil {
		return nil
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := t.f.Read(buf)
		data := append(t.partial, buf[:n]...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if ev, ok := parseLine(data[:i]); ok && t.opts.passes(ev) {
				if err := t.fn(ev); err != nil {
					return err
				}
			}
			data = data[i+1:]
		}
		t.partial = append([]byte(nil), data...)
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readFile passes on the complete lines of a whole file that may not
// exist; a torn last line (no newline) is skipped.
func readFile(path string, opts ReadOptions, fn func(Event) error) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if ev, ok := parseLine(sc.Bytes()); ok && opts.passes(ev) {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
