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
	bars  *mpb.Progress
	byID  map[string]*mpb.Bar
	quiet bool
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
	if f, ok := w.(*os.File); ok && !quiet && term.IsTerminal(int(f.Fd())) {
		p.bars = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
	}
	return p
}

// Event handles one storage progress event.
func (p *pullProgress) Event(ev storage.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Kind == storage.BlobDone {
		p.fetched++
	}
	if p.quiet || ev.IsConfig {
		return
	}
	if p.bars == nil {
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
			p.byID[ev.ID] = p.bars.AddBar(ev.Size,
				mpb.PrependDecorators(decor.Name(ev.ID+": "), decor.OnComplete(decor.Name("Downloading "), "Pull complete")),
				mpb.AppendDecorators(decor.OnComplete(decor.Counters(decor.SizeB1024(0), "%.1f / %.1f"), "")),
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
			b := p.bars.AddBar(0, mpb.PrependDecorators(decor.Name(ev.ID+": Already exists")))
			b.SetTotal(-1, true)
			p.byID[ev.ID] = b
		}
	}
}

// Done finishes the bars before the final lines are printed.
func (p *pullProgress) Done() {
	if p.bars == nil {
		return
	}
	for _, b := range p.byID {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	p.bars.Wait()
}
