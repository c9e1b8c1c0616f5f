package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"

	"box/engine"
	"box/storage"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "upload an image to a registry",
		ArgsUsage: "NAME[:TAG] [DESTINATION]",
		Description: "Sends the image to the registry its name says, or to DESTINATION (host/repo[:tag]).\n" +
			"Layers the registry has already are not sent again; an image pulled and pushed keeps its digest\n" +
			"when the registry holds its layers. Credentials come from box login (auth.json), ~/.docker/config.json\n" +
			"or $REGISTRY_AUTH_FILE; registries.conf insecure registries are reached over plain http.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "push all tags of the repository"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (false: plain http or any certificate)"},
		},
		Action: runPush,
	}
}

func runPush(c *cli.Context) error {
	if err := requireArgs(c, 1, 2); err != nil {
		return err
	}
	name := c.Args().Get(0)
	allTags := c.Bool("all-tags")
	if allTags && hasExplicitTag(name) {
		return errAllTagsWithTag
	}
	if allTags && c.NArg() == 2 {
		return usageErrorf("--all-tags cannot be used with a DESTINATION\nSee 'box %s --help'.", c.Command.FullName())
	}
	var dest reference.Named
	if c.NArg() == 2 {
		d, err := storage.ParseReference(strings.TrimPrefix(c.Args().Get(1), "docker://"))
		if err != nil {
			return err
		}
		dest = d
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	ctx, interrupted := interruptible(c.Context)
	err = pushAll(ctx, c, e, name, dest, allTags)
	e.Close()
	if sig := interrupted(); sig != nil {
		reraise(sig)
	}
	return err
}

func pushAll(ctx context.Context, c *cli.Context, e *engine.Engine, name string, dest reference.Named, allTags bool) error {
	quiet := c.Bool("quiet")
	names := []string{name}
	repo := dest
	if repo == nil {
		ref, err := storage.ParseReference(name)
		if err != nil {
			return err
		}
		repo = ref
	}
	if allTags {
		tags, err := e.Store.LocalTags(repo)
		if err != nil {
			return err
		}
		if len(tags) == 0 {
			return &shownError{msg: "An image does not exist locally with the tag: " + reference.FamiliarName(repo), err: storage.ErrNoLocalTag}
		}
		names = names[:0]
		for _, t := range tags {
			names = append(names, t.String())
		}
	}
	if !quiet {
		fmt.Fprintf(c.App.ErrWriter, "The push refers to repository [%s]\n", repo.Name())
	}
	for _, n := range names {
		if err := pushOne(ctx, c, e, n, dest, quiet); err != nil {
			return err
		}
	}
	return nil
}

// pushOne pushes one name, printing Docker's progress to stderr and the
// digest line (or, with -q, the reference) to stdout.
func pushOne(ctx context.Context, c *cli.Context, e *engine.Engine, name string, dest reference.Named, quiet bool) error {
	prog := newPushProgress(c.App.ErrWriter, quiet)
	rep, err := e.Store.Push(ctx, name, storage.PushOptions{
		Destination:   dest,
		SkipTLSVerify: c.IsSet("tls-verify") && !c.Bool("tls-verify"),
		Progress:      prog.Event,
	})
	prog.Done()
	if err != nil {
		return err
	}
	if quiet {
		fmt.Fprintln(c.App.Writer, rep.Ref.String())
		return nil
	}
	tag := "latest"
	if t, ok := rep.Ref.(reference.Tagged); ok {
		tag = t.Tag()
	}
	fmt.Fprintf(c.App.Writer, "%s: digest: %s size: %d\n", tag, rep.Digest, rep.Size)
	return nil
}

// pushProgress renders a push's blob events as Docker does: a line per
// layer and state, or live bars on a terminal. Config blobs stay silent.
type pushProgress struct {
	mu sync.Mutex
	layerBars
	quiet bool
	// said remembers the last state printed per layer, so that a layer
	// found at the registry after all is not also "Pushed".
	said map[string]storage.ProgressKind
}

func newPushProgress(w io.Writer, quiet bool) *pushProgress {
	return &pushProgress{layerBars: newLayerBars(w, quiet), quiet: quiet, said: map[string]storage.ProgressKind{}}
}

// Event handles one storage progress event.
func (p *pushProgress) Event(ev storage.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet || ev.IsConfig {
		return
	}
	if ev.Kind != storage.BlobPreparing && ev.Kind != storage.BlobProgress {
		if _, known := p.said[ev.ID]; !known {
			// A blob the plan did not list (the config of an OCI image
			// under another media type): not a layer Docker would show.
			return
		}
	}
	prev := p.said[ev.ID]
	if ev.Kind != storage.BlobProgress {
		p.said[ev.ID] = ev.Kind
	}
	if !p.tty {
		switch {
		case ev.Kind == storage.BlobPreparing:
			fmt.Fprintf(p.w, "%s: Preparing\n", ev.ID)
		case ev.Kind == storage.BlobStarted:
			fmt.Fprintf(p.w, "%s: Pushing\n", ev.ID)
		case ev.Kind == storage.BlobDone && prev == storage.BlobStarted:
			fmt.Fprintf(p.w, "%s: Pushed\n", ev.ID)
		case ev.Kind == storage.BlobSkipped:
			fmt.Fprintf(p.w, "%s: Layer already exists\n", ev.ID)
		}
		return
	}
	bar := p.byID[ev.ID]
	switch ev.Kind {
	case storage.BlobPreparing:
		if bar == nil {
			p.add(ev.ID, ev.Size, "Pushing", "Pushed")
		}
	case storage.BlobStarted:
		if bar != nil && ev.Size > 0 {
			bar.SetTotal(ev.Size, false)
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
		if bar != nil {
			bar.Abort(true)
		}
		p.done(ev.ID, "Layer already exists")
	}
}

// Done finishes the bars before the final line is printed.
func (p *pushProgress) Done() {
	p.mu.Lock()
	wait := p.stop()
	p.mu.Unlock()
	wait()
}
