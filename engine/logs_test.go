package engine

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/logfile"
	"box/engine/monitor"
)

// TestLogAttached: a foreground container's output reaches the caller as
// it comes, a partial line included, and the log gets every line, the
// last unfinished one too, once finish returns.
func TestLogAttached(t *testing.T) {
	dir := t.TempDir()
	callerR, callerW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer callerR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer errR.Close()
	mio := monitor.Config{Spec: &specs.Spec{Process: &specs.Process{}}, Stdout: callerW, Stderr: errW}
	finish, err := logAttached(&record{}, dir, &mio)
	if err != nil {
		t.Fatal(err)
	}
	if mio.Stdout == callerW {
		t.Fatal("the container still writes to the caller directly")
	}
	if _, err := mio.Stdout.WriteString("prompt> "); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := callerR.Read(buf)
	if err != nil || string(buf[:n]) != "prompt> " {
		t.Fatalf("a partial line waited for its end: %q %v", buf[:n], err)
	}
	_, _ = mio.Stdout.WriteString("answer\nlast")
	_, _ = mio.Stderr.WriteString("oops\n")
	finish()
	callerW.Close()
	errW.Close()
	rest, _ := io.ReadAll(callerR)
	errs, _ := io.ReadAll(errR)
	if string(rest) != "answer\nlast" || string(errs) != "oops\n" {
		t.Fatalf("the caller got %q and %q", rest, errs)
	}
	rd := logfile.OpenReader(filepath.Join(dir, logFile))
	defer rd.Close()
	var got []string
	rd.Read(func(e logfile.Entry) { got = append(got, e.Stream+":"+e.Log) })
	slices.Sort(got)
	want := []string{"stderr:oops\n", "stdout:last", "stdout:prompt> answer\n"}
	if !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q", got, want)
	}
}

// TestLogAttachedNone: with the none driver the container writes to the
// caller directly and nothing is kept.
func TestLogAttachedNone(t *testing.T) {
	dir := t.TempDir()
	mio := monitor.Config{Spec: &specs.Spec{Process: &specs.Process{}}, Stdout: os.Stdout, Stderr: os.Stderr}
	finish, err := logAttached(&record{Log: LogConfig{Type: LogNone}}, dir, &mio)
	if err != nil {
		t.Fatal(err)
	}
	finish()
	if mio.Stdout != os.Stdout || mio.Stderr != os.Stderr {
		t.Fatal("the none driver put a relay in the way")
	}
	if _, err := os.Stat(filepath.Join(dir, logFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the none driver made a log: %v", err)
	}
}
