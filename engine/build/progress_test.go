package build

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the copier and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestStepOutputDrainsBeforeTheStepEnds(t *testing.T) {
	var out lockedBuffer
	b := &builder{opts: Options{Output: &out}}
	f, finish, err := b.stepOutput()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := interface{}(f).(*os.File); !ok || f == nil {
		t.Fatal("the command needs a file to write to")
	}
	want := strings.Repeat("a line of the step's output\n", 5000)
	if _, err := f.WriteString(want); err != nil {
		t.Fatal(err)
	}
	finish()
	if out.String() != want {
		t.Fatalf("after finish all the output is copied: have %d bytes of %d", len(out.String()), len(want))
	}
}

func TestStepOutputGivesUpOnAnEscapedWriter(t *testing.T) {
	old := drainWait
	drainWait = 50 * time.Millisecond
	defer func() { drainWait = old }()
	var out lockedBuffer
	b := &builder{opts: Options{Output: &out}}
	f, finish, err := b.stepOutput()
	if err != nil {
		t.Fatal(err)
	}
	// A process that outlived the step still holds the pipe.
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	done := make(chan struct{})
	go func() { finish(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("finish waits for ever on a pipe another process holds")
	}
}

func TestStepOutputPassesFilesThrough(t *testing.T) {
	b := &builder{opts: Options{Output: os.Stderr}}
	f, finish, err := b.stepOutput()
	if err != nil || f != os.Stderr {
		t.Fatalf("a file is the command's output itself: %v %v", f, err)
	}
	finish()
}

func TestPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := Plain(&out)
	p.Step(1, 2, "FROM busybox")
	p.Note(" ---> 0123456789ab")
	p.Step(2, 2, "RUN true")
	p.Cached(strings.Repeat("f", 64))
	p.Warning("One or more build-args [X] were not consumed")
	p.Built(strings.Repeat("e", 64))
	p.Tagged("x:latest")
	want := "Step 1/2 : FROM busybox\n ---> 0123456789ab\nStep 2/2 : RUN true\n ---> Using cache\n ---> ffffffffffff\n" +
		"[Warning] One or more build-args [X] were not consumed\nSuccessfully built eeeeeeeeeeee\nSuccessfully tagged x:latest\n"
	if out.String() != want {
		t.Fatalf("plain progress:\n%s\nwant\n%s", out.String(), want)
	}
}
