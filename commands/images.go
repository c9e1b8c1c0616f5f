package commands

import (
	"errors"
	"sort"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"

	"box/storage"
	"box/storage/filter"
)

const (
	defaultImagesTable           = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
	defaultImagesTableWithDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)

// imageHeaders are the column headers of `images`, by template field.
var imageHeaders = map[string]string{
	"ID":           "IMAGE ID",
	"Repository":   "REPOSITORY",
	"Tag":          "TAG",
	"Digest":       "DIGEST",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"Size":         "SIZE",
	"Containers":   "CONTAINERS",
	"VirtualSize":  "SIZE",
	"SharedSize":   "SHARED SIZE",
	"UniqueSize":   "UNIQUE SIZE",
}

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "list images",
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (default hides intermediate images)"},
			&cli.BoolFlag{Name: "digests", Usage: "show digests"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (reference=, dangling=, label=, before=, since=)"},
		},
		Action: runImages,
	}
}

func runImages(c *cli.Context) error {
	if c.NArg() > 1 {
		name := c.Command.FullName()
		return usageErrorf("\"box %s\" requires at most 1 argument.\nSee 'box %s --help'.", name, name)
	}
	var extra []string
	if c.NArg() == 1 {
		extra = append(extra, "reference="+c.Args().First())
	}
	args, err := filterArgs(c, storage.ImageFilters, extra...)
	if err != nil {
		return err
	}
	format := imagesFormat(c.String("format"), c.Bool("quiet"), c.Bool("digests"))
	out, err := newLister(c.App.Writer, format, defaultImagesTable, imageHeaders)
	if err != nil {
		return err
	}

	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	list, err := e.Store.ListImages(storage.ListOptions{Filters: args, All: c.Bool("all")})
	if err != nil {
		var notFound *storage.NotFoundError
		if errors.As(err, &notFound) {
			return imageError(notFound.Ref, err)
		}
		return err
	}

	digests := c.Bool("digests") || strings.Contains(format, "{{.Digest}}")
	for _, row := range imageRows(list, !c.Bool("no-trunc"), digests, time.Now()) {
		if err := out.Row(row, nil); err != nil {
			return err
		}
	}
	return out.Flush()
}

// filterArgs parses --filter (and extra, filters the verb adds itself)
// against the keys a verb takes: a value without "=" is a usage error, as
// Docker's flag parser says; a key the verb does not take is the daemon's
// "invalid filter" (exit 1).
func filterArgs(c *cli.Context, spec filter.Spec, extra ...string) (filter.Args, error) {
	raw, err := filterFlag(c)
	if err != nil {
		return filter.Args{}, err
	}
	return filter.Parse(append(raw, extra...), spec)
}

// filterFlag returns --filter values, each checked to be "key=value" as
// Docker's flag parser does.
func filterFlag(c *cli.Context) ([]string, error) {
	filters := c.StringSlice("filter")
	for _, f := range filters {
		if !strings.Contains(f, "=") {
			return nil, usageErrorf("invalid argument %q for \"-f, --filter\" flag: bad format of filter (expected name=value)\nSee 'box %s --help'.", f, c.Command.FullName())
		}
	}
	return filters, nil
}

// imagesFormat picks the template as Docker's images does: -q prints ids
// unless a format is given, and --digests adds a DIGEST column to tables.
func imagesFormat(format string, quiet, digests bool) string {
	switch format {
	case "", "table":
		switch {
		case quiet:
			return "{{.ID}}"
		case digests:
			return defaultImagesTableWithDigest
		}
		return defaultImagesTable
	}
	if strings.HasPrefix(format, "table") && digests && !strings.Contains(format, "{{.Digest}}") {
		format += "\t{{.Digest}}"
	}
	return format
}

// imageRow is one line of `images`: an image under one repository and
// tag. Its fields are Docker's template fields.
type imageRow struct {
	ID, Repository, Tag, Digest        string
	CreatedSince, CreatedAt            string
	Size, VirtualSize                  string
	Containers, SharedSize, UniqueSize string
}

// MarshalJSON prints the row as Docker's `--format json` and `{{json .}}`.
func (r imageRow) MarshalJSON() ([]byte, error) {
	return marshalRow(map[string]string{
		"ID": r.ID, "Repository": r.Repository, "Tag": r.Tag, "Digest": r.Digest,
		"CreatedSince": r.CreatedSince, "CreatedAt": r.CreatedAt,
		"Size": r.Size, "VirtualSize": r.VirtualSize,
		"Containers": r.Containers, "SharedSize": r.SharedSize, "UniqueSize": r.UniqueSize,
	})
}

// imageRows lays images out as Docker does: one row per repository and
// tag (each tag once per digest when digests show), a row per repository
// known only by digest, and "<none>" for an image without any name.
func imageRows(list []storage.Summary, trunc, digests bool, now time.Time) []imageRow {
	var rows []imageRow
	for _, s := range list {
		base := imageRow{
			ID:           "sha256:" + s.Image.ID,
			CreatedSince: createdSince(s.Image.Created, now),
			CreatedAt:    createdAt(s.Image.Created),
			Size:         humanSize(s.Size),
			VirtualSize:  units.HumanSize(float64(s.Size)),
			Containers:   "N/A",
			SharedSize:   "N/A",
			UniqueSize:   "N/A",
		}
		if trunc {
			base.ID = truncateID(base.ID)
		}
		add := func(repo, tag, digest string) {
			r := base
			r.Repository, r.Tag, r.Digest = repo, tag, digest
			rows = append(rows, r)
		}
		if len(s.RepoTags) == 0 && len(s.RepoDigests) == 0 {
			add("<none>", "<none>", "<none>")
			continue
		}
		tags := splitRefs(s.RepoTags, false)
		byDigest := splitRefs(s.RepoDigests, true)
		for _, repo := range sortedKeys(tags) {
			ds := byDigest[repo]
			delete(byDigest, repo)
			for _, tag := range tags[repo] {
				if !digests || len(ds) == 0 {
					add(repo, tag, "<none>")
					continue
				}
				for _, d := range ds {
					add(repo, tag, d)
				}
			}
		}
		for _, repo := range sortedKeys(byDigest) {
			if !digests {
				add(repo, "<none>", "")
				continue
			}
			for _, d := range byDigest[repo] {
				add(repo, "<none>", d)
			}
		}
	}
	return rows
}

// splitRefs groups familiar references by repository: the tags of
// "repo:tag" names, or the digests of "repo@digest" ones.
func splitRefs(refs []string, digests bool) map[string][]string {
	out := map[string][]string{}
	for _, s := range refs {
		named, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue
		}
		repo := reference.FamiliarName(named)
		if c, ok := named.(reference.Canonical); ok && digests {
			out[repo] = append(out[repo], c.Digest().String())
		} else if t, ok := named.(reference.NamedTagged); ok && !digests {
			out[repo] = append(out[repo], t.Tag())
		}
	}
	for _, list := range out {
		sort.Strings(list)
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// createdAt is Docker's CreatedAt: the time in the local zone, to the
// second ("2024-09-06 00:00:00 +0000 UTC").
func createdAt(t time.Time) string {
	return time.Unix(t.Unix(), 0).String()
}
