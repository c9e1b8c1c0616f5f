package commands

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"box/storage"
)

// layerBars are the live per-layer bars pull and push show on a terminal.
type layerBars struct {
	w    io.Writer
	tty  bool          // w is a terminal with a width: bars, not lines
	bars *mpb.Progress // made at the first bar, after any header line
	byID map[string]*mpb.Bar
}

func newLayerBars(w io.Writer, quiet bool) layerBars {
	b := layerBars{w: w, byID: map[string]*mpb.Bar{}}
	// A terminal that reports no width (a pty nobody sized) would get
	// bars truncated to nothing: plain lines serve it better.
	if f, ok := w.(*os.File); ok && !quiet && term.IsTerminal(int(f.Fd())) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			b.tty = true
		}
	}
	return b
}

func (b *layerBars) progress() *mpb.Progress {
	if b.bars == nil {
		b.bars = mpb.New(mpb.WithOutput(b.w), mpb.WithWidth(40))
	}
	return b.bars
}

// add makes layer id's bar: "id: active" with the counts while it runs,
// "id: done" once complete.
func (b *layerBars) add(id string, size int64, active, done string) {
	b.byID[id] = b.progress().AddBar(max(size, 0),
		mpb.PrependDecorators(decor.Name(id+": "), decor.OnComplete(decor.Name(active+" "), done)),
		mpb.AppendDecorators(decor.OnComplete(decor.Counters(decor.SizeB1024(0), "%.1f / %.1f"), "")),
		mpb.BarFillerClearOnComplete(),
	)
}

// done shows layer id as already finished: "id: what".
func (b *layerBars) done(id, what string) {
	bar := b.progress().AddBar(0, mpb.PrependDecorators(decor.Name(id+": "+what)), mpb.BarFillerClearOnComplete())
	bar.SetTotal(-1, true)
	b.byID[id] = bar
}

// stop ends the bars still running; wait (outside the caller's lock)
// lets the last frame reach the terminal.
func (b *layerBars) stop() (wait func()) {
	for _, bar := range b.byID {
		if !bar.Completed() {
			bar.Abort(false)
		}
	}
	bars := b.bars
	return func() {
		if bars != nil {
			bars.Wait()
		}
	}
}

// pullProgress renders a pull's blob events: one live bar per layer on a
// terminal, Docker's plain status lines otherwise. It writes to stderr
// only; stdout keeps the machine-readable result.
type pullProgress struct {
	mu sync.Mutex
	layerBars
	quiet bool
	// header, when set, is printed once before the first layer's line:
	// Docker says "Pulling from" only once the registry has answered.
	header string
	// fetched counts blobs actually downloaded (not "Already exists").
	fetched int
}

// Fetched reports whether any blob was downloaded.
func (p *pullProgress) Fetched() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetched > 0
}

func newPullProgress(w io.Writer, quiet bool) *pullProgress {
	return &pullProgress{layerBars: newLayerBars(w, quiet), quiet: quiet}
}

// Header sets a line to print before the first event.
func (p *pullProgress) Header(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.header = line
}

func (p *pullProgress) printHeader() {
	if p.header != "" && !p.quiet {
		fmt.Fprintln(p.w, p.header)
	}
	p.header = ""
}

// Event handles one storage progress event.
func (p *pullProgress) Event(ev storage.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Kind == storage.BlobDone {
		p.fetched++
	}
	p.printHeader()
	if p.quiet || ev.IsConfig {
		return
	}
	if !p.tty {
		switch ev.Kind {
		case storage.BlobStarted:
			fmt.Fprintf(p.w, "%s: Pulling fs layer\n", ev.ID)
		case storage.BlobDone:
			fmt.Fprintf(p.w, "%s: Pull complete\n", ev.ID)
		case storage.BlobSkipped:
			fmt.Fprintf(p.w, "%s: Already exists\n", ev.ID)
		}
		return
	}
	bar := p.byID[ev.ID]
	switch ev.Kind {
	case storage.BlobStarted:
		if bar == nil {
			p.add(ev.ID, ev.Size, "Downloading", "Pull complete")
		}
	case storage.BlobProgress:
		if bar != nil {
			bar.SetCurrent(ev.Offset)
		}
	case storage.BlobDone:
		if bar != nil {
			bar.SetTotal(-1, true)
		}
	case storage.BlobSkipped:
		if bar == nil {
			p.done(ev.ID, "Already exists")
		}
	}
}

// Succeeded prints the header if no event did: a pull with nothing to
// report still says where it pulled from.
func (p *pullProgress) Succeeded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printHeader()
}

// Done finishes the bars before the final lines are printed.
func (p *pullProgress) Done() {
	p.mu.Lock()
	p.header = ""
	wait := p.stop()
	p.mu.Unlock()
	wait()
}
