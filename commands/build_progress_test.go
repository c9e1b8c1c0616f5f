package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeTerminal keeps what a terminal would show after the escape
// sequences the build view uses: CR, LF, CUU (ESC[nA), EL (ESC[K,
// ESC[2K) and ED (ESC[J). Anything else fails the test.
type fakeTerminal struct {
	t        *testing.T
	rows     [][]rune
	row, col int
	widest   int
}

func (f *fakeTerminal) Write(p []byte) (int, error) {
	s := string(p)
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\r':
			f.col = 0
			i++
		case '\n':
			f.row++
			f.col = 0
			i++
		case 0x1b:
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if s[i+1] != '[' || j >= len(s) {
				f.t.Fatalf("unexpected escape %q", s[i:])
			}
			arg, final := s[i+2:j], s[j]
			switch final {
			case 'A':
				n, _ := strconv.Atoi(arg)
				f.row = max(f.row-max(n, 1), 0)
			case 'K':
				f.grow()
				if arg == "2" {
					f.rows[f.row] = nil
				} else if f.col < len(f.rows[f.row]) {
					f.rows[f.row] = f.rows[f.row][:f.col]
				}
			case 'J':
				f.grow()
				if f.col < len(f.rows[f.row]) {
					f.rows[f.row] = f.rows[f.row][:f.col]
				}
				f.rows = f.rows[:f.row+1]
			default:
				f.t.Fatalf("unexpected escape %q", s[i:j+1])
			}
			i = j + 1
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r < 0x20 {
				f.t.Fatalf("control character %q written to the terminal", r)
			}
			f.grow()
			line := f.rows[f.row]
			for len(line) <= f.col {
				line = append(line, ' ')
			}
			line[f.col] = r
			f.rows[f.row] = line
			f.col++
			f.widest = max(f.widest, f.col)
			i += size
		}
	}
	return len(p), nil
}

func (f *fakeTerminal) grow() {
	for len(f.rows) <= f.row {
		f.rows = append(f.rows, nil)
	}
}

// text is the screen, trailing blank rows left out.
func (f *fakeTerminal) text() string {
	var lines []string
	for _, r := range f.rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// fakeClock advances only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestView(t *testing.T, width int) (*buildView, *fakeTerminal, *fakeClock) {
	term := &fakeTerminal{t: t}
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	return newBuildView(term, func() int { return width }, clock.now, 0), term, clock
}

// tick redraws as the view's ticker does.
func tick(v *buildView) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.draw("")
}

func TestBuildViewRunningStep(t *testing.T) {
	v, term, clock := newTestView(t, 60)
	v.Step(1, 3, "FROM busybox")
	clock.advance(500 * time.Millisecond)
	v.Step(2, 3, "RUN echo cached")
	v.Cached("0123")
	clock.advance(100 * time.Millisecond)
	v.Step(3, 3, "RUN make")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(v, "line %d\n", i)
	}
	fmt.Fprint(v, "partial")
	clock.advance(1200 * time.Millisecond)
	tick(v)
	want := strings.Join([]string{
		" => [1/3] FROM busybox                                 0.5s",
		" => CACHED [2/3] RUN echo cached                       0.1s",
		" => [3/3] RUN make                                     1.2s",
		" => => # line 6",
		" => => # line 7",
		" => => # line 8",
		" => => # line 9",
		" => => # line 10",
		" => => # partial",
		"[+] Building 1.8s (2/3)",
	}, "\n")
	if got := term.text(); got != want {
		t.Fatalf("the running step with its last %d lines:\n%s\nwant\n%s", viewWindow, got, want)
	}

	// Done: each step one line, its output gone, the image and its name.
	fmt.Fprint(v, " more\n")
	clock.advance(300 * time.Millisecond)
	v.Built("abcdef")
	v.Tagged("docker.io/library/x:latest")
	v.Warning("One or more build-args [X] were not consumed")
	v.finish(nil)
	want = strings.Join([]string{
		" => [1/3] FROM busybox                                 0.5s",
		" => CACHED [2/3] RUN echo cached                       0.1s",
		" => [3/3] RUN make                                     1.5s",
		" => writing image sha256:abcdef",
		" => naming to docker.io/library/x:latest",
		"[+] Building 2.1s (3/3) FINISHED",
		"WARNING: One or more build-args [X] were not consumed",
	}, "\n")
	if got := term.text(); got != want {
		t.Fatalf("the finished build:\n%s\nwant\n%s", got, want)
	}
	if term.widest > 59 {
		t.Fatalf("a line of %d columns on a terminal of 60", term.widest)
	}
}

func TestBuildViewFailureKeepsOutput(t *testing.T) {
	v, term, clock := newTestView(t, 50)
	v.Step(1, 2, "FROM busybox")
	v.Step(2, 2, "RUN for i in $(seq 20); do echo out $i; done; false")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(v, "out %d\n", i)
	}
	fmt.Fprint(v, "no newline at the end")
	clock.advance(2 * time.Second)
	tick(v)
	v.finish(errors.New("The command returned a non-zero code: 1"))
	got := term.text()
	var outs []string
	for i := 1; i <= 20; i++ {
		outs = append(outs, fmt.Sprintf("out %d", i))
	}
	want := strings.Join(append(append([]string{
		" => [1/2] FROM busybox                       0.0s",
		" => ERROR [2/2] RUN for i in $(seq 20); do e 2.0s",
		"------",
		" > [2/2] RUN for i in $(seq 20); do echo out $i; done; false:",
	}, outs...),
		"no newline at the end",
		"------",
		"[+] Building 2.0s (1/2) ERROR",
	), "\n")
	if got != want {
		t.Fatalf("a failed step keeps its whole output:\n%s\nwant\n%s", got, want)
	}
}

func TestBuildViewSilentBeforeTheFirstStep(t *testing.T) {
	v, term, _ := newTestView(t, 80)
	v.finish(errors.New("dockerfile parse error on Dockerfile line 1: unknown instruction: FORM"))
	if got := term.text(); got != "" {
		t.Fatalf("a build that never started a step shows nothing but its error: %q", got)
	}
}

func TestBuildViewKeepsTheLastOutput(t *testing.T) {
	v, term, _ := newTestView(t, 80)
	v.Step(1, 1, "RUN yes | head")
	for i := 0; i < 3*viewKeep; i++ {
		fmt.Fprintf(v, "y%d\n", i)
	}
	v.finish(errors.New("failed"))
	got := term.text()
	if strings.Contains(got, "\ny0\n") || !strings.Contains(got, "earlier lines not kept]") || !strings.Contains(got, fmt.Sprintf("\ny%d\n", 3*viewKeep-1)) {
		t.Fatalf("a failed step shows its last lines and says the first are gone:\n%.300s", got)
	}
	if n := strings.Count(got, "\ny"); n < viewKeep || n > 2*viewKeep {
		t.Fatalf("%d lines of output kept, want between %d and %d", n, viewKeep, 2*viewKeep)
	}
}

// The exact bytes of a first frame and of a redraw over it.
func TestBuildViewEscapes(t *testing.T) {
	var out strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	v := newBuildView(&out, func() int { return 40 }, clock.now, 0)
	v.Step(1, 1, "FROM busybox")
	first := "\x1b[2K => [1/1] FROM busybox             0.0s\n\x1b[2K[+] Building 0.0s (0/1)\n\x1b[J"
	if out.String() != first {
		t.Fatalf("first frame %q, want %q", out.String(), first)
	}
	out.Reset()
	clock.advance(time.Second)
	v.finish(nil)
	again := "\r\x1b[2A\x1b[2K => [1/1] FROM busybox             1.0s\n\x1b[2K[+] Building 1.0s (1/1) FINISHED\n\x1b[J"
	if out.String() != again {
		t.Fatalf("last frame %q, want %q", out.String(), again)
	}
}

func TestBuildViewNarrowAndWide(t *testing.T) {
	for _, width := range []int{0, 12, 200} {
		v, term, _ := newTestView(t, width)
		v.Step(1, 1, "RUN "+strings.Repeat("x", 300)+"\nsecond line of a heredoc")
		fmt.Fprintf(v, "%s\n", strings.Repeat("y", 500))
		tick(v)
		v.finish(nil)
		cols := width
		if cols <= 0 {
			cols = 80
		}
		if term.widest > cols-1 {
			t.Errorf("width %d: a line of %d columns", width, term.widest)
		}
		if strings.Contains(term.text(), "second line") {
			t.Errorf("width %d: a step shows its first line only:\n%s", width, term.text())
		}
	}
}

func TestBuildViewTickerStops(t *testing.T) {
	var out syncBuffer
	v := newBuildView(&out, func() int { return 80 }, time.Now, 5*time.Millisecond)
	v.Step(1, 1, "RUN sleep")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "[+] Building") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the running step was never redrawn: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	v.finish(nil)
	select {
	case <-v.stopped:
	default:
		t.Fatal("the ticker goroutine still runs after finish")
	}
	n := len(out.String())
	time.Sleep(30 * time.Millisecond)
	if len(out.String()) != n {
		t.Fatal("the view drew after finish")
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                          "plain",
		"\x1b[31mred\x1b[0m text":        "red text",
		"10%\r50%\r100%":                 "100%",
		"windows line\r":                 "windows line",
		"a\tb":                           "a       b",
		"title\x1b]0;set title\x07 here": "title here",
		"bell\x07 and del\x7f":           "bell and del",
		"wide 漢字":                        "wide 漢字",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a strings.Builder the view's ticker and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
