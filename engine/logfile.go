package engine

import (
	"bufio"
	"bytes"
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

	units "github.com/docker/go-units"

	"box/engine/monitor"
)

// Logging drivers box has.
const (
	// LogJSONFile is Docker's default: the container's output in ctr.log,
	// one JSON object per line, rotated by max-size and max-file.
	LogJSONFile = "json-file"
	// LogNone keeps nothing; `logs` refuses to read.
	LogNone = "none"
)

// ErrLogsUnsupported is `logs` of a container whose logging driver keeps
// nothing to read (Docker's words).
var ErrLogsUnsupported = errors.New("configured logging driver does not support reading")

// LogConfig is a container's --log-driver and --log-opt values, as
// inspect shows them in HostConfig.LogConfig.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// logPolicy is a json-file log's rotation: rotate once the file holds
// maxSize bytes (0: never), keeping maxFiles files in all, the current
// one included (Docker's default 1: the full file is dropped, no history).
type logPolicy struct {
	maxSize  int64
	maxFiles int
	discard  bool
}

// parseLogConfig checks --log-driver and --log-opt as Docker's json-file
// driver does: max-size is a size with a decimal unit ("10k" is 10000
// bytes, "1m" 1000000), max-file a count of at least 1.
func parseLogConfig(driver string, opts []string) (LogConfig, error) {
	cfg := LogConfig{Type: driver, Config: map[string]string{}}
	if cfg.Type == "" {
		cfg.Type = LogJSONFile
	}
	if cfg.Type != LogJSONFile && cfg.Type != LogNone {
		return cfg, &UsageError{Msg: fmt.Sprintf("invalid --log-driver %q: box supports json-file and none", driver)}
	}
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return cfg, &UsageError{Msg: fmt.Sprintf("invalid --log-opt %q: want KEY=VALUE", o)}
		}
		cfg.Config[k] = v
	}
	_, err := cfg.policy()
	return cfg, err
}

// policy reads the rotation a config asks for.
func (c LogConfig) policy() (logPolicy, error) {
	p := logPolicy{maxFiles: 1, discard: c.Type == LogNone}
	if p.discard {
		// Docker's none driver takes whatever options it is given.
		return p, nil
	}
	bad := func(format string, a ...any) error {
		return &UsageError{Msg: "invalid --log-opt: " + fmt.Sprintf(format, a...)}
	}
	for k, v := range c.Config {
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil || n <= 0 {
				return p, bad("max-size=%s: want a positive size such as 10k or 1m", v)
			}
			p.maxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return p, bad("max-file=%s: want a whole number of at least 1", v)
			}
			p.maxFiles = n
		case "compress":
			if b, err := strconv.ParseBool(v); err != nil || b {
				return p, bad("compress=%s: box does not compress rotated logs", v)
			}
		default:
			return p, bad("unknown log opt %q for json-file log driver: box knows max-size and max-file", k)
		}
	}
	return p, nil
}

// logEntry is one line of a json-file log.
type logEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logWriter writes a container's output in Docker's json-file format: one
// JSON object per line of output, {"log":"...\n","stream":"stdout",
// "time":"RFC3339Nano"}, rotating ctr.log to ctr.log.1, ctr.log.2, ... as
// its policy says. A write that fails (a full disk) is dropped and any
// part of it cut off again, so the log stays whole lines and the
// container keeps running.
type logWriter struct {
	mu     sync.Mutex
	path   string
	policy logPolicy
	f      *os.File // nil: discarding, or the file could not be reopened
	size   int64
}

// openLog opens (appending: a restarted container's log goes on) or
// creates the log at path.
func openLog(path string, p logPolicy) (*logWriter, error) {
	l := &logWriter{path: path, policy: p}
	if p.discard {
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

// maxLogLine is the longest entry Docker's log copier makes: a longer
// line (or output with no newline at all) is logged in pieces of this
// size, each without a trailing newline, which readers join again.
const maxLogLine = 16 * 1024

// copy logs what r yields as stream until r ends, one entry per line.
// The entries made from one read go to the file in one write: a line a
// write would cost more than the container took to print it.
func (l *logWriter) copy(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, maxLogLine)
	var batch, tail []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && !l.policy.discard {
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
func (l *logWriter) write(entries []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(entries) > 0 {
		if l.f != nil && l.policy.maxSize > 0 && l.size >= l.policy.maxSize {
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
		if l.policy.maxSize > 0 {
			room := max(l.policy.maxSize-l.size, 1)
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
func (l *logWriter) rotate() {
	_ = l.f.Close()
	l.f = nil
	if l.policy.maxFiles < 2 {
		_ = os.Remove(l.path)
	} else {
		_ = os.Remove(fmt.Sprintf("%s.%d", l.path, l.policy.maxFiles-1))
		for i := l.policy.maxFiles - 1; i > 1; i-- {
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

func (l *logWriter) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// rotatedLogs lists path's rotated files, oldest (highest number) first.
func rotatedLogs(path string) []string {
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

// logReader reads a json-file log across its rotated files, oldest first,
// and, when asked again later, goes on where it stopped, following the
// log through rotations: a file renamed or removed under it is read to
// its end before the files that came after it.
type logReader struct {
	path    string
	cur     *os.File
	rd      *bufio.Reader
	partial []byte
	queue   []*os.File // to read after cur, oldest first
}

// openLogReader opens the log at path and its rotated files; a log that
// does not exist yet reads as empty until it appears.
func openLogReader(path string) *logReader {
	r := &logReader{path: path}
	r.queue = openAll(append(rotatedLogs(path), path))
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
func (r *logReader) advance() bool {
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

// read calls emit for every whole entry written since the last call.
func (r *logReader) read(emit func(logEntry)) {
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
		names := rotatedLogs(r.path)
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
func (r *logReader) drain(emit func(logEntry)) {
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
		var ent logEntry
		if json.Unmarshal(line, &ent) == nil {
			emit(ent)
		}
	}
}

func (r *logReader) Close() {
	if r.cur != nil {
		r.cur.Close()
	}
	for _, f := range r.queue {
		f.Close()
	}
}

// removeLogs deletes a container's log files ahead of the container: when
// its output filled the disk, the room they free is what the store needs
// to rewrite its lists while it removes the container.
func removeLogs(e *Engine, id string) {
	dir, err := e.Store.ContainerDir(id)
	if err != nil {
		return
	}
	path := filepath.Join(dir, logFile)
	for _, f := range append(rotatedLogs(path), path) {
		_ = os.Remove(f)
	}
}

// logAttached makes a container run in the foreground log its output as a
// detached one does, as Docker logs every container whatever is attached:
// mio's Stdout and Stderr become pipes whose far ends go to the caller's
// files first and then, line by line, to the container's log. With the
// none driver mio is left alone and nothing is kept. The returned finish
// must be called once supervise has returned: it waits for the last
// output to reach both the caller and the log, and closes the log.
func logAttached(rec *record, dir string, mio *monitor.Config) (finish func(), err error) {
	policy, err := rec.Log.policy()
	if err != nil {
		return nil, err
	}
	if policy.discard {
		return func() {}, nil
	}
	logs, err := openLog(filepath.Join(dir, logFile), policy)
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
			relayAndLog(s.r, s.to, logs, s.stream)
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

// relayAndLog passes what the container writes to from on to the
// caller's to as it comes, and to the log beside: the log's encoding and
// writes run on a goroutine of their own, a few chunks behind, so that
// they neither hold up a prompt or a partial line nor, until that backlog
// fills, the container's output. It returns once from has ended and the
// log has all of it; from is closed then.
func relayAndLog(from, to *os.File, logs *logWriter, stream string) {
	defer from.Close()
	chunks := make(chan []byte, 32)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		logs.copy(&chunkReader{chunks: chunks}, stream)
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
