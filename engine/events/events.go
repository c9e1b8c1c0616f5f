// Package events is box's event log: with no daemon to hold events in
// memory, every invocation and every monitor appends what it did to one
// file, one JSON line per event, as Podman's file backend does, and
// `box events` reads and follows that file.
//
// A line goes out in one write(2) on a file opened O_APPEND, so writers in
// concurrent processes never interleave within a line. The file is capped:
// past MaxSize the writer that notices renames it to events.log.1 (keeping
// one old file, which readers read first) under a lock, so two writers do
// not rotate twice. A line torn by a writer killed mid-write is skipped by
// readers, and the line after it is still read.
//
// The package knows no containers or images: callers name the Type,
// Action and Actor. It never prints; appending is best effort and its
// error is the caller's to ignore (an event log must not fail a run).
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Types of event, as Docker names them.
const (
	Container = "container"
	Image     = "image"
	Network   = "network"
	Volume    = "volume"
)

// Actor is what an event happened to: its ID and attributes (name,
// image, labels, exitCode, ...).
type Actor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// Event is one line of the log, in Docker's shape (events.Message):
// Status, ID and From are Docker's older fields, kept for containers and
// images as Docker keeps them.
type Event struct {
	Status   string `json:"status,omitempty"`
	ID       string `json:"id,omitempty"`
	From     string `json:"from,omitempty"`
	Type     string `json:"Type"`
	Action   string `json:"Action"`
	Actor    Actor  `json:"Actor"`
	Scope    string `json:"scope"`
	Time     int64  `json:"time"`
	TimeNano int64  `json:"timeNano"`
}

// linePrefixes start every stored line (Docker's order: status first
// when there is one, else Type): they are how a reader finds the intact
// line glued behind a torn one.
var linePrefixes = []string{`{"status":`, `{"Type":`}

// MaxSize is the size past which the log is rotated.
const MaxSize = 1 << 20

// File names inside the log's directory.
const (
	fileName = "events.log"
	oldName  = "events.log.1"
	lockName = "events.lock"
)

// Log is the event log kept in one directory.
type Log struct {
	dir     string
	maxSize int64
}

// Open returns the log kept in dir; nothing is created until the first
// Append.
func Open(dir string) *Log { return &Log{dir: dir, maxSize: MaxSize} }

// WithMaxSize returns a copy of l that rotates past n bytes (for tests).
func (l *Log) WithMaxSize(n int64) *Log { c := *l; c.maxSize = n; return &c }

func (l *Log) path() string { return filepath.Join(l.dir, fileName) }

// New makes an event of typ and action for the actor id with attrs, timed
// now; containers and images get Docker's legacy fields too.
func New(typ, action, id string, attrs map[string]string) Event {
	now := time.Now()
	ev := Event{
		Type: typ, Action: action, Scope: "local",
		Actor: Actor{ID: id, Attributes: attrs},
		Time:  now.Unix(), TimeNano: now.UnixNano(),
	}
	if ev.Actor.Attributes == nil {
		ev.Actor.Attributes = map[string]string{}
	}
	if typ == Container || typ == Image {
		ev.Status, ev.ID = action, id
		if typ == Container {
			ev.From = attrs["image"]
		}
	}
	return ev
}

// Append adds ev to the log: one line, one write. A nil log does nothing.
func (l *Log) Append(ev Event) error {
	if l == nil {
		return nil
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	f, err := os.OpenFile(l.path(), os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(l.dir, 0o700); err != nil {
			return err
		}
		f, err = os.OpenFile(l.path(), os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	}
	if err != nil {
		return err
	}
	var st unix.Stat_t
	full := unix.Fstat(int(f.Fd()), &st) == nil && st.Size+int64(len(line)) > l.maxSize && st.Size > 0
	_, err = f.Write(line)
	f.Close()
	if full && err == nil {
		l.rotate(st.Ino)
	}
	return err
}

// Emit is New then Append, its error dropped: events are best effort.
func (l *Log) Emit(typ, action, id string, attrs map[string]string) {
	_ = l.Append(New(typ, action, id, attrs))
}

// rotate moves the full log (inode ino) aside, once: under the lock, and
// only if the file at the path is still that one.
func (l *Log) rotate(ino uint64) {
	lk, err := os.OpenFile(filepath.Join(l.dir, lockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return
	}
	defer lk.Close()
	if unix.Flock(int(lk.Fd()), unix.LOCK_EX) != nil {
		return
	}
	var st unix.Stat_t
	if unix.Stat(l.path(), &st) == nil && st.Ino == ino {
		_ = os.Rename(l.path(), filepath.Join(l.dir, oldName))
	}
}

// parseLine reads one stored line; ok is false for a torn or foreign one.
// A line that holds a torn write followed by an intact one yields the
// intact one.
func parseLine(b []byte) (Event, bool) {
	var ev Event
	if len(b) == 0 {
		return ev, false
	}
	if json.Unmarshal(b, &ev) == nil && ev.Type != "" {
		return ev, true
	}
	i := -1
	for _, p := range linePrefixes {
		i = max(i, strings.LastIndex(string(b), p))
	}
	if i > 0 {
		return parseLine(b[i:])
	}
	return ev, false
}

// ParseTime reads --since and --until as Docker does: a duration before
// now ("10m"), an RFC 3339 time (with or without zone, or a date alone,
// in local time), or Unix seconds with an optional fraction.
func ParseTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	secs, frac, _ := strings.Cut(v, ".")
	var s, ns int64
	if _, err := fmt.Sscanf(secs, "%d", &s); err == nil && secs != "" && isDigits(secs) && isDigits(frac) && len(frac) <= 9 {
		if frac != "" {
			frac += strings.Repeat("0", 9-len(frac))
			_, _ = fmt.Sscanf(frac, "%d", &ns)
		}
		return time.Unix(s, ns), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want a duration (10m), an RFC 3339 time or Unix seconds", v)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
