package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"box/storage"
)

// Progress is told what a build does while it does it, so that a view
// can show it: Docker's classic lines (Plain) or a live terminal view.
// Build calls it from one goroutine, in order: Step, what happened in
// that step, the next Step, and Built and Tagged once all steps ended.
// A step ends when the next one starts or the build ends.
type Progress interface {
	// Step starts step n of total; text is the instruction as written.
	Step(n, total int, text string)
	// Note is a line of Docker's classic builder about the current
	// step: " ---> Running in 0123456789ab", " ---> 0123456789ab",
	// "# Executing 2 build triggers".
	Note(line string)
	// Cached says the current step's image, id, came from the cache.
	Cached(id string)
	// Warning is something the user should read, whatever the view.
	Warning(text string)
	// Built names the image the build made; Tagged each name given it.
	Built(id string)
	Tagged(name string)
}

// Plain is Progress as Docker's classic builder writes it: "Step 1/5 :
// FROM alpine", " ---> Using cache" and so on, one line at a time to w.
func Plain(w io.Writer) Progress { return plain{w} }

type plain struct{ w io.Writer }

func (p plain) Step(n, total int, text string) { fmt.Fprintf(p.w, "Step %d/%d : %s\n", n, total, text) }
func (p plain) Note(line string)               { fmt.Fprintln(p.w, line) }
func (p plain) Cached(id string) {
	fmt.Fprintf(p.w, " ---> Using cache\n ---> %s\n", storage.ShortID(id))
}
func (p plain) Warning(text string) { fmt.Fprintf(p.w, "[Warning] %s\n", text) }
func (p plain) Built(id string)     { fmt.Fprintf(p.w, "Successfully built %s\n", storage.ShortID(id)) }
func (p plain) Tagged(name string)  { fmt.Fprintf(p.w, "Successfully tagged %s\n", name) }

// drainWait is how long a step's output may still arrive after its
// command ended: only a process that escaped the container's end could
// hold the pipe open that long.
var drainWait = 2 * time.Second

// stepOutput is where a RUN step's command writes: Options.Output itself
// when it is a file (the container gets its descriptor), else a pipe
// copied into it. finish, called once the command ended, waits until
// all the output was copied, so that it lands in the step that made
// it, and leaves no goroutine behind.
func (b *builder) stepOutput() (f *os.File, finish func(), err error) {
	if file, ok := b.opts.Output.(*os.File); ok {
		return file, func() {}, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("make a pipe for the step's output: %w", err)
	}
	// Fd puts the write end in blocking mode: the command shares it,
	// and a command's output should never fail with EAGAIN.
	_ = w.Fd()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, err := io.Copy(b.opts.Output, r)
		if err != nil && !errors.Is(err, os.ErrClosed) {
			// The view failed: drain the pipe so the command never blocks.
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	return w, func() {
		w.Close()
		select {
		case <-copied:
		case <-time.After(drainWait):
		}
		r.Close()
		<-copied
	}, nil
}
