package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"

	"box/engine"
	"box/storage"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "download an image from a registry",
		ArgsUsage: "NAME[:TAG|@DIGEST]",
		Description: "Short names are Docker Hub's (alpine is docker.io/library/alpine:latest); registries.conf\n" +
			"mirrors and insecure registries apply, and credentials come from auth.json, ~/.docker/config.json\n" +
			"or $REGISTRY_AUTH_FILE. A registry that does not answer within 20s ($BOX_REGISTRY_TIMEOUT) fails the pull.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "download all tagged images in the repository"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
			&cli.StringFlag{Name: "platform", Usage: "set platform if server is multi-platform capable (os/arch[/variant])"},
		},
		Action: runPull,
	}
}

// errAllTagsWithTag is Docker's message, and like Docker box exits 1 on
// it: the CLI reports it as a failed pull, not as a flag-parsing error.
var errAllTagsWithTag = errors.New("tag can't be used with --all-tags/-a")

func runPull(c *cli.Context) error {
	if err := requireArgs(c, 1, 1); err != nil {
		return err
	}
	arg := c.Args().First()
	ref, err := storage.ParseReference(arg)
	if err != nil {
		return err
	}
	allTags := c.Bool("all-tags")
	_, digested := ref.(reference.Digested)
	if allTags && (digested || hasExplicitTag(arg)) {
		return errAllTagsWithTag
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	ctx, interrupted := interruptible(c.Context)
	err = pullAll(ctx, c, e, ref, allTags, digested || hasExplicitTag(arg))
	e.Close()
	if sig := interrupted(); sig != nil {
		// The pull has cleaned up after itself; die of the signal, as
		// Docker's CLI exits 128+N, so that shells see the interrupt.
		reraise(sig)
	}
	return err
}

// pullAll pulls ref, or with allTags every tag of its repository, as
// Docker prints it: for -a, each tag's progress and digest, then one
// status line for the repository.
func pullAll(ctx context.Context, c *cli.Context, e *engine.Engine, ref reference.Named, allTags, explicit bool) error {
	out, errOut := c.App.Writer, c.App.ErrWriter
	quiet := c.Bool("quiet")
	if !allTags {
		if !quiet && !explicit {
			fmt.Fprintln(errOut, "Using default tag: latest")
		}
		if _, err := pullOne(ctx, c, e, ref, quiet, true); err != nil {
			return err
		}
		fmt.Fprintln(out, ref.String())
		return nil
	}
	repo := reference.TrimNamed(ref)
	tags, err := e.Store.ListTags(ctx, ref, 0)
	if err != nil {
		return err
	}
	upToDate := true
	for _, t := range tags {
		tagged, err := reference.WithTag(repo, t)
		if err != nil {
			continue
		}
		rep, err := pullOne(ctx, c, e, tagged, quiet, false)
		if err != nil {
			return err
		}
		upToDate = upToDate && rep.UpToDate
	}
	if !quiet {
		fmt.Fprintf(errOut, "Status: %s %s\n", pullStatus(upToDate), reference.FamiliarName(repo))
	}
	fmt.Fprintln(out, repo.String())
	return nil
}

func pullStatus(upToDate bool) string {
	if upToDate {
		return "Image is up to date for"
	}
	return "Downloaded newer image for"
}

// pullOne pulls one reference, printing Docker's progress and the digest
// to stderr, and with status the line that says what the pull brought.
func pullOne(ctx context.Context, c *cli.Context, e *engine.Engine, ref reference.Named, quiet, status bool) (*storage.PullReport, error) {
	errOut := c.App.ErrWriter
	label := "latest"
	if t, ok := ref.(reference.Tagged); ok {
		label = t.Tag()
	}
	if d, ok := ref.(reference.Digested); ok {
		label = d.Digest().String()
	}
	prog := newPullProgress(errOut, quiet)
	prog.Header(fmt.Sprintf("%s: Pulling from %s", label, reference.Path(ref)))
	rep, err := e.Store.Pull(ctx, ref, storage.PullOptions{Platform: c.String("platform"), Progress: prog.Event})
	if err == nil {
		prog.Succeeded()
	}
	prog.Done()
	if err != nil {
		return nil, err
	}
	if !quiet {
		fmt.Fprintf(errOut, "Digest: %s\n", rep.Digest)
		if status {
			fmt.Fprintf(errOut, "Status: %s %s\n", pullStatus(rep.UpToDate), storage.FamiliarString(ref))
		}
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(errOut, "WARNING: %s\n", w)
	}
	return rep, nil
}

// interruptible returns a context that SIGINT or SIGTERM cancels, and a
// function that says which signal did (nil if none). A second signal
// while the pull cleans up ends box at once.
func interruptible(parent context.Context) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	go func() {
		s := <-sigs
		mu.Lock()
		got = s
		mu.Unlock()
		cancel()
		s = <-sigs
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	return ctx, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// reraise ends box with sig, its default action restored.
func reraise(sig os.Signal) {
	signal.Reset(sig)
	_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
	// A signal delivered to this thread acts at once; if it somehow does
	// not, exit with the code a shell would show.
	os.Exit(128 + int(sig.(syscall.Signal)))
}

// hasExplicitTag reports whether the user wrote a tag (name:tag), as
// opposed to a registry port (host:5000/name).
func hasExplicitTag(s string) bool {
	s, _, _ = strings.Cut(s, "@")
	i := strings.LastIndexByte(s, ':')
	return i >= 0 && strings.LastIndexByte(s, '/') < i
}
