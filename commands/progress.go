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

// pullProgress renders a pull's blob events: one live bar per layer on a
// terminal, Docker's plain status lines otherwise. It writes to stderr
// only; stdout keeps the machine-readable result.
type pullProgress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	bars  *mpb.Progress // made at the first bar, after any header line
	byID  map[string]*mpb.Bar
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
	p := &pullProgress{w: w, byID: map[string]*mpb.Bar{}, quiet: quiet}
	// A terminal that reports no width (a pty nobody sized) would get
	// bars truncated to nothing: plain lines serve it better.
	if f, ok := w.(*os.File); ok && !quiet && term.IsTerminal(int(f.Fd())) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			p.tty = true
		}
	}
	return p
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
	if p.bars == nil {
		p.bars = mpb.New(mpb.WithOutput(p.w), mpb.WithWidth(40))
	}
	bar := p.byID[ev.ID]
	switch ev.Kind {
	case storage.BlobStarted:
		if bar == nil {
			p.byID[ev.ID] = p.bars.AddBar(max(ev.Size, 0),
				mpb.PrependDecorators(decor.Name(ev.ID+": "), decor.OnComplete(decor.Name("Downloading "), "Pull complete")),
				mpb.AppendDecorators(decor.OnComplete(decor.Counters(decor.SizeB1024(0), "%.1f / %.1f"), "")),
				mpb.BarFillerClearOnComplete(),
			)
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
			b := p.bars.AddBar(0, mpb.PrependDecorators(decor.Name(ev.ID+": Already exists")),
				mpb.BarFillerClearOnComplete())
			b.SetTotal(-1, true)
			p.byID[ev.ID] = b
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
	bars := p.bars
	for _, b := range p.byID {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	p.mu.Unlock()
	if bars != nil {
		bars.Wait()
	}
}
