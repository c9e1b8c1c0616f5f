// Package logfile keeps a container's output in Docker's json-file
// format: a Writer that rotates the log as --log-opt max-size and max-file
// ask, a Reader that follows it across rotations, and the relay that passes
// a foreground container's output to its caller and its log at once. The
// engine decides where a log lives and which containers have one.
package logfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"box/engine/flags"
)

// Entry is one line of a json-file log.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Writer writes a container's output in Docker's json-file format: one
// JSON object per line of output, {"log":"...\n","stream":"stdout",
// "time":"RFC3339Nano"}, rotating ctr.log to ctr.log.1, ctr.log.2, ... as
// its policy says. A write that fails (a full disk) is dropped and any
// part of it cut off again, so the log stays whole lines and the
// container keeps running.
type Writer struct {
	mu     sync.Mutex
	path   string
	policy flags.LogRotation
	f      *os.File // nil: discarding, or the file could not be reopened
	size   int64
}

// Open opens (appending: a restarted container's log goes on) or
// creates the log at path.
func Open(path string, p flags.LogRotation) (*Writer, error) {
	l := &Writer{path: path, policy: p}
	if p.Discard {
		return l, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	if st, err := f.Stat(); err == nil {
		l.size = st.Size()
	}
	l.f = f
	return l, nil
}

// MaxLine is the longest entry Docker's log copier makes: a longer
// line (or output with no newline at all) is logged in pieces of this
// size, each without a trailing newline, which readers join again.
const MaxLine = 16 * 1024

// Copy logs what r yields as stream until r ends, one entry per line.
// The entries made from one read go to the file in one write: a line a
// write would cost more than the container took to print it.
func (l *Writer) Copy(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, MaxLine)
	var batch, tail []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && !l.policy.Discard {
			if len(batch) == 0 {
				// One time for what one read brought: the end of each
				// entry after its text.
				tail = append(append(append(tail[:0], `,"stream":"`...), stream...), `","time":"`...)
				tail = append(time.Now().UTC().AppendFormat(tail, time.RFC3339Nano), "\"}\n"...)
			}
			batch = append(appendJSONString(append(batch, `{"log":`...), line), tail...)
		}
		ended := err != nil && !errors.Is(err, bufio.ErrBufferFull)
		if len(batch) > 0 && (ended || br.Buffered() == 0 || len(batch) >= 64*1024) {
			l.write(batch)
			batch = batch[:0]
		}
		if ended {
			return
		}
	}
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// (bytes that are not UTF-8 become U+FFFD) without its reflection and
// copies: this runs for every line a container prints.
func appendJSONString(buf, s []byte) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' && b < utf8.RuneSelf {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				// Control characters, and <, > and & as encoding/json
				// escapes them.
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			switch r {
			case utf8.RuneError:
				buf = append(buf, `\ufffd`...)
			default:
				buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// write appends whole entries to the log. As Docker, it rotates before
// an entry that would go past max-size, so a file ends at most one entry
// beyond it.
func (l *Writer) write(entries []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(entries) > 0 {
		if l.f != nil && l.policy.MaxSize > 0 && l.size >= l.policy.MaxSize {
			l.rotate()
		}
		if l.f == nil {
			f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return
			}
			l.f, l.size = f, 0
			if st, err := f.Stat(); err == nil {
				l.size = st.Size()
			}
		}
		// Up to the entry that fills the file: entries are lines, and
		// JSON holds no raw newline.
		n := len(entries)
		if l.policy.MaxSize > 0 {
			room := max(l.policy.MaxSize-l.size, 1)
			if room < int64(n) {
				n = int(room) + bytes.IndexByte(entries[room-1:], '\n')
			}
		}
		chunk := entries[:n]
		entries = entries[n:]
		written, err := l.f.Write(chunk)
		if err != nil {
			if written > 0 {
				// Half an entry would spoil the line after it too.
				_ = l.f.Truncate(l.size)
			}
			return
		}
		l.size += int64(written)
	}
}

// rotate moves the full log aside, ctr.log.N-1 dropping off the end, and
// starts an empty one. With max-file 1 the full log is removed: readers
// that have it open finish it, then go on with the new one.
func (l *Writer) rotate() {
	_ = l.f.Close()
	l.f = nil
	if l.policy.MaxFiles < 2 {
		_ = os.Remove(l.path)
	} else {
		_ = os.Remove(fmt.Sprintf("%s.%d", l.path, l.policy.MaxFiles-1))
		for i := l.policy.MaxFiles - 1; i > 1; i-- {
			_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i-1), fmt.Sprintf("%s.%d", l.path, i))
		}
		_ = os.Rename(l.path, l.path+".1")
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	l.f, l.size = f, 0
}

func (l *Writer) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Remove deletes the log at path and its rotated files.
func Remove(path string) {
	for _, f := range append(Rotated(path), path) {
		_ = os.Remove(f)
	}
}

// Rotated lists path's rotated files, oldest (highest number) first.
func Rotated(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	type numbered struct {
		name string
		n    int
	}
	var files []numbered
	for _, m := range matches {
		if n, err := strconv.Atoi(strings.TrimPrefix(m, path+".")); err == nil && n > 0 {
			files = append(files, numbered{m, n})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].n > files[j].n })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out
}

// Reader reads a json-file log across its rotated files, oldest first,
// and, when asked again later, goes on where it stopped, following the
// log through rotations: a file renamed or removed under it is read to
// its end before the files that came after it.
type Reader struct {
	path    string
	cur     *os.File
	rd      *bufio.Reader
	partial []byte
	queue   []*os.File // to read after cur, oldest first
}

// OpenReader opens the log at path and its rotated files; a log that
// does not exist yet reads as empty until it appears.
func OpenReader(path string) *Reader {
	r := &Reader{path: path}
	r.queue = openAll(append(Rotated(path), path))
	r.advance()
	return r
}

func openAll(names []string) []*os.File {
	var files []*os.File
	for _, n := range names {
		if f, err := os.Open(n); err == nil {
			files = append(files, f)
		}
	}
	return files
}

// advance moves to the next queued file.
func (r *Reader) advance() bool {
	if len(r.queue) == 0 {
		return false
	}
	if r.cur != nil {
		r.cur.Close()
	}
	r.cur, r.queue = r.queue[0], r.queue[1:]
	r.rd, r.partial = bufio.NewReader(r.cur), nil
	return true
}

// Read calls emit for every whole entry written since the last call.
func (r *Reader) Read(emit func(Entry)) {
	for {
		if r.cur == nil {
			// The log did not exist yet.
			r.queue = openAll([]string{r.path})
			if !r.advance() {
				return
			}
		}
		r.drain(emit)
		if r.advance() {
			continue
		}
		// cur is the file we believe current: has it been rotated away?
		here, err1 := r.cur.Stat()
		there, err2 := os.Stat(r.path)
		if err1 != nil || err2 != nil || os.SameFile(here, there) {
			// Not rotated, or mid-rotation (the new file not there yet).
			return
		}
		// Nothing is written to a rotated file: what it got before the
		// rotation is all there is.
		r.drain(emit)
		names := Rotated(r.path)
		next := names
		for i, n := range names {
			if st, err := os.Stat(n); err == nil && os.SameFile(here, st) {
				next = names[i+1:]
				break
			}
		}
		r.queue = openAll(append(next, r.path))
		r.advance()
	}
}

// drain reads cur's whole lines; a last partial line waits for its end.
func (r *Reader) drain(emit func(Entry)) {
	for {
		line, err := r.rd.ReadBytes('\n')
		if err != nil {
			r.partial = append(r.partial, line...)
			return
		}
		if len(r.partial) > 0 {
			line = append(r.partial, line...)
			r.partial = nil
		}
		var ent Entry
		if json.Unmarshal(line, &ent) == nil {
			emit(ent)
		}
	}
}

func (r *Reader) Close() {
	if r.cur != nil {
		r.cur.Close()
	}
	for _, f := range r.queue {
		f.Close()
	}
}

// Relay passes what the container writes to from on to the
// caller's to as it comes, and to the log beside: the log's encoding and
// writes run on a goroutine of their own, a few chunks behind, so that
// they neither hold up a prompt or a partial line nor, until that backlog
// fills, the container's output. It returns once from has ended and the
// log has all of it; from is closed then.
func Relay(from, to *os.File, w *Writer, stream string) {
	defer from.Close()
	chunks := make(chan []byte, 32)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		w.Copy(&chunkReader{chunks: chunks}, stream)
	}()
	buf := make([]byte, 64*1024)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if to != nil {
				if _, werr := to.Write(buf[:n]); werr != nil {
					// The reader went away (`box run ... | head -1`): as
					// when the container wrote to it directly, its next
					// write gets EPIPE or SIGPIPE rather than blocking on
					// a full pipe.
					from.Close()
					to = nil
				}
			}
			chunks <- bytes.Clone(buf[:n])
		}
		if err != nil {
			break
		}
	}
	close(chunks)
	<-logged
}

// chunkReader reads the chunks sent on a channel until it is closed.
type chunkReader struct {
	chunks <-chan []byte
	cur    []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		c, ok := <-r.chunks
		if !ok {
			return 0, io.EOF
		}
		r.cur = c
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Watch signals on the returned channel whenever a file in dir (the
// container's log and its rotations) is written, made, moved or removed,
// until ctx ends. Where inotify is not to be had the channel stays
// silent and the caller polls.
func Watch(ctx context.Context, dir string) <-chan struct{} {
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
