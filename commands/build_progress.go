package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// buildView is box build's live view on a terminal, as BuildKit's tty
// progress shows a build: finished steps stay as one line each, with
// their time and CACHED where the cache served them; below them the
// running step's line with its timer, the last lines of its output and a
// status line are redrawn in place, at every tick and at every step. On
// a failure the failed step's whole output stays on the screen.
//
// It is the build's build.Progress, and its Write takes the RUN
// commands' output. finish ends it; after that no goroutine of it runs.
type buildView struct {
	mu    sync.Mutex
	w     io.Writer
	width func() int // the terminal's columns now; 0 when unknown
	now   func() time.Time
	start time.Time

	total, done int
	cur         *viewStep
	pending     []viewLine // finished lines not yet on the screen
	live        int        // lines of the redrawn part now on the screen
	warnings    []string

	stop, stopped chan struct{}
}

type viewStep struct {
	n, total int
	text     string
	start    time.Time
	cached   bool
	lines    []string // the whole output, complete lines, made printable
	partial  []byte   // output after the last newline
	dropped  int      // lines no longer kept, the oldest
}

// viewLine is a line printed once; full ones are not cut to the width
// (the terminal wraps them), as they are never redrawn.
type viewLine struct {
	text string
	full bool
}

const (
	// viewWindow is how many of the running step's last lines show.
	viewWindow = 6
	// viewKeep is how much of a step's output is kept at least (at
	// most twice that), shown whole if the step fails.
	viewKeep = 10000
	// viewTick is how often the view is redrawn while a step runs.
	viewTick = 100 * time.Millisecond
)

// newBuildView starts a view that writes to w, a terminal width()
// columns wide; tick 0 never redraws by itself (for tests).
func newBuildView(w io.Writer, width func() int, now func() time.Time, tick time.Duration) *buildView {
	v := &buildView{w: w, width: width, now: now, start: now()}
	if tick > 0 {
		v.stop, v.stopped = make(chan struct{}), make(chan struct{})
		go v.run(tick)
	}
	return v
}

func (v *buildView) run(tick time.Duration) {
	defer close(v.stopped)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.mu.Lock()
			if v.cur != nil {
				v.draw("")
			}
			v.mu.Unlock()
		}
	}
}

func (v *buildView) Step(n, total int, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.endStep("")
	v.total = total
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	v.cur = &viewStep{n: n, total: total, text: text, start: v.now()}
	v.draw("")
}

// Note: the classic builder's lines (container and image ids) are not
// part of this view.
func (v *buildView) Note(string) {}

func (v *buildView) Cached(string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cur != nil {
		v.cur.cached = true
	}
}

func (v *buildView) Warning(text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.warnings = append(v.warnings, text)
}

func (v *buildView) Built(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.endStep("")
	v.pending = append(v.pending, viewLine{text: " => writing image sha256:" + id})
	v.draw("")
}

func (v *buildView) Tagged(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pending = append(v.pending, viewLine{text: " => naming to " + name})
	v.draw("")
}

// Write takes output of the running step; the next tick shows it.
func (v *buildView) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.cur
	if s == nil {
		return len(p), nil
	}
	data := append(s.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		s.lines = append(s.lines, printable(string(data[:i])))
		data = data[i+1:]
	}
	if len(s.lines) >= 2*viewKeep {
		// In batches: a step that prints without end costs no more
		// than one that prints viewKeep lines.
		over := len(s.lines) - viewKeep
		s.lines = append([]string(nil), s.lines[over:]...)
		s.dropped += over
	}
	s.partial = append([]byte(nil), data...)
	return len(p), nil
}

// finish ends the view after the build: the last step's line, then the
// status, FINISHED or, with the failed step's output, an error. The
// error itself is for the caller to print.
func (v *buildView) finish(err error) {
	if v.stop != nil {
		close(v.stop)
		<-v.stopped
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil && v.total == 0 {
		// Failed before its first step (a Dockerfile that does not
		// parse): the error alone says it.
		return
	}
	status := "FINISHED"
	if err != nil {
		status = "ERROR"
		if errors.Is(err, context.Canceled) {
			status = "CANCELED"
		}
		if s := v.cur; s != nil {
			if len(s.partial) > 0 {
				s.lines = append(s.lines, printable(string(s.partial)))
				s.partial = nil
			}
			v.endStep(status)
			if len(s.lines) > 0 {
				v.pending = append(v.pending, viewLine{text: "------"}, viewLine{text: fmt.Sprintf(" > [%d/%d] %s:", s.n, s.total, s.text), full: true})
				if s.dropped > 0 {
					v.pending = append(v.pending, viewLine{text: fmt.Sprintf("[%d earlier lines not kept]", s.dropped)})
				}
				for _, l := range s.lines {
					v.pending = append(v.pending, viewLine{text: l, full: true})
				}
				v.pending = append(v.pending, viewLine{text: "------"})
			}
		}
	}
	v.endStep("")
	v.draw(status)
	for _, w := range v.warnings {
		fmt.Fprintf(v.w, "WARNING: %s\n", w)
	}
}

// endStep puts the running step's line among the finished ones; mark
// is ERROR or CANCELED for a step that failed.
func (v *buildView) endStep(mark string) {
	s := v.cur
	if s == nil {
		return
	}
	v.cur = nil
	if mark == "" {
		v.done++
	}
	v.pending = append(v.pending, viewLine{text: v.stepLine(s, mark)})
}

func (v *buildView) columns() int {
	w := 80
	if v.width != nil {
		if n := v.width(); n > 0 {
			w = n
		}
	}
	// Never the last column: a line that fills it makes some terminals
	// wrap, and the lines counted to redraw would be off.
	return w - 1
}

// stepLine is " => [2/4] RUN make" with the step's time at the right.
func (v *buildView) stepLine(s *viewStep, mark string) string {
	left := " => "
	if s.cached && mark == "" {
		left += "CACHED "
	}
	if mark != "" {
		left += mark + " "
	}
	left += fmt.Sprintf("[%d/%d] %s", s.n, s.total, s.text)
	right := fmt.Sprintf("%.1fs", v.now().Sub(s.start).Seconds())
	cols := v.columns()
	room := cols - len(right) - 1
	if room < 8 {
		return runewidth.Truncate(left, cols, "")
	}
	left = runewidth.Truncate(left, room, "")
	return left + strings.Repeat(" ", cols-runewidth.StringWidth(left)-len(right)) + right
}

// draw writes the finished lines not yet shown, then the redrawn part in
// place of the one before: the running step, the last lines of its
// output and the status line (with final, the last status). One write,
// each line cleared as it is written over: no flicker.
func (v *buildView) draw(final string) {
	var buf bytes.Buffer
	if v.live > 0 {
		fmt.Fprintf(&buf, "\r\x1b[%dA", v.live)
	}
	cols := v.columns()
	for _, l := range v.pending {
		t := l.text
		if !l.full {
			t = runewidth.Truncate(t, cols, "")
		}
		buf.WriteString("\x1b[2K" + t + "\n")
	}
	v.pending = nil
	var frame []string
	if s := v.cur; s != nil {
		frame = append(frame, v.stepLine(s, ""))
		tail := s.lines
		if len(s.partial) > 0 {
			tail = append(tail[:len(tail):len(tail)], printable(string(s.partial)))
		}
		if len(tail) > viewWindow {
			tail = tail[len(tail)-viewWindow:]
		}
		for _, l := range tail {
			frame = append(frame, runewidth.Truncate(" => => # "+l, cols, ""))
		}
	}
	status := fmt.Sprintf("[+] Building %.1fs (%d/%d)", v.now().Sub(v.start).Seconds(), v.done, v.total)
	if final != "" {
		status += " " + final
	}
	frame = append(frame, runewidth.Truncate(status, cols, ""))
	for _, l := range frame {
		buf.WriteString("\x1b[2K" + l + "\n")
	}
	buf.WriteString("\x1b[J")
	v.live = len(frame)
	_, _ = v.w.Write(buf.Bytes())
}

// printable is a line of a command's output as one line of the view:
// what a carriage return wrote over is gone, tabs are spaces, and escape
// sequences and other control characters are left out.
func printable(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	var b strings.Builder
	col := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		default:
			b.WriteRune(r)
			col += runewidth.RuneWidth(r)
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s:
// CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \) or ESC and
// one character.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return len(s)
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 2
}
