package commands

import (
	"fmt"
	"strings"

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
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "download all tagged images in the repository"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
			&cli.StringFlag{Name: "platform", Usage: "set platform if server is multi-platform capable (os/arch[/variant])"},
		},
		Action: runPull,
	}
}

func runPull(c *cli.Context) error {
	if err := requireArgs(c, 1, 1); err != nil {
		return err
	}
	ref, err := storage.ParseReference(c.Args().First())
	if err != nil {
		return err
	}
	allTags := c.Bool("all-tags")
	if _, digested := ref.(reference.Digested); allTags && (digested || hasExplicitTag(c.Args().First())) {
		return usageErrorf("tag can't be used with --all-tags/-a")
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()

	out, errOut := c.App.Writer, c.App.ErrWriter
	quiet := c.Bool("quiet")
	refs := []reference.Named{ref}
	if allTags {
		tags, err := e.Store.ListTags(c.Context, ref)
		if err != nil {
			return err
		}
		refs = refs[:0]
		for _, t := range tags {
			if tagged, err := reference.WithTag(reference.TrimNamed(ref), t); err == nil {
				refs = append(refs, tagged)
			}
		}
		if !quiet {
			fmt.Fprintf(errOut, "Pulling all tags of %s\n", reference.FamiliarName(ref))
		}
	} else if !quiet && !hasExplicitTag(c.Args().First()) {
		if _, digested := ref.(reference.Digested); !digested {
			fmt.Fprintln(errOut, "Using default tag: latest")
		}
	}
	for _, r := range refs {
		if err := pullOne(c, e, r, quiet); err != nil {
			return err
		}
		if !allTags {
			fmt.Fprintln(out, r.String())
		}
	}
	if allTags {
		fmt.Fprintln(out, reference.TrimNamed(ref).String())
	}
	return nil
}

// pullOne pulls one reference, printing Docker's progress to stderr.
func pullOne(c *cli.Context, e *engine.Engine, ref reference.Named, quiet bool) error {
	errOut := c.App.ErrWriter
	if !quiet {
		label := "latest"
		if t, ok := ref.(reference.Tagged); ok {
			label = t.Tag()
		}
		if d, ok := ref.(reference.Digested); ok {
			label = d.Digest().String()
		}
		fmt.Fprintf(errOut, "%s: Pulling from %s\n", label, reference.Path(ref))
	}
	prog := newPullProgress(errOut, quiet)
	rep, err := e.Store.Pull(c.Context, ref, storage.PullOptions{Platform: c.String("platform"), Progress: prog.Event})
	prog.Done()
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(errOut, "Digest: %s\n", rep.Digest)
		status := "Downloaded newer image for"
		if !prog.Fetched() {
			status = "Image is up to date for"
		}
		fmt.Fprintf(errOut, "Status: %s %s\n", status, storage.FamiliarString(ref))
	}
	return nil
}

// hasExplicitTag reports whether the user wrote a tag (name:tag), as
// opposed to a registry port (host:5000/name).
func hasExplicitTag(s string) bool {
	s, _, _ = strings.Cut(s, "@")
	i := strings.LastIndexByte(s, ':')
	return i >= 0 && strings.LastIndexByte(s, '/') < i
}
