package commands

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"box/storage"
)

func searchCommand() *cli.Command {
	return &cli.Command{
		Name:      "search",
		Usage:     "search a registry for images",
		ArgsUsage: "[REGISTRY/]TERM",
		Description: "A plain TERM asks Docker Hub; REGISTRY/TERM lists the repositories in that registry's\n" +
			"catalog (/v2/_catalog) whose name contains TERM.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Value: 25, Usage: "max number of search results"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (stars=N, is-official=true|false, is-automated=true|false)"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
			&cli.StringFlag{Name: "authfile", Usage: "credentials file (default $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json)"},
		},
		Action: runSearch,
	}
}

const defaultSearchTable = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"

var searchHeaders = map[string]string{
	"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL", "IsAutomated": "AUTOMATED",
}

// searchRow is one line of `search`, with Docker's template fields:
// OFFICIAL is "[OK]" or empty in tables, as Docker prints it.
type searchRow struct {
	Name, Description, StarCount, IsOfficial, IsAutomated string
}

// searchFilter is --filter, parsed.
type searchFilter struct {
	stars               int
	official, automated *bool
}

func parseSearchFilters(c *cli.Context) (*searchFilter, error) {
	filters, err := filterFlag(c)
	if err != nil {
		return nil, err
	}
	f := &searchFilter{}
	for _, kv := range filters {
		key, value, _ := strings.Cut(kv, "=")
		switch key {
		case "stars":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, usageErrorf("invalid filter 'stars=%s'", value)
			}
			f.stars = n
		case "is-official", "is-automated":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return nil, usageErrorf("invalid filter '%s=%s'", key, value)
			}
			if key == "is-official" {
				f.official = &b
			} else {
				f.automated = &b
			}
		default:
			return nil, usageErrorf("invalid filter '%s'", key)
		}
	}
	return f, nil
}

func (f *searchFilter) keep(r storage.SearchResult) bool {
	return r.StarCount >= f.stars &&
		(f.official == nil || *f.official == r.IsOfficial) &&
		(f.automated == nil || *f.automated == r.IsAutomated)
}

func runSearch(c *cli.Context) error {
	if err := requireArgs(c, 1, 1); err != nil {
		return err
	}
	filter, err := parseSearchFilters(c)
	if err != nil {
		return err
	}
	limit := c.Int("limit")
	if limit < 1 || limit > 100 {
		return usageErrorf("limit %d is outside the range of [1, 100]", limit)
	}
	format := c.String("format")
	out, err := newLister(c.App.Writer, format, defaultSearchTable, searchHeaders)
	if err != nil {
		return err
	}
	results, err := storage.Search(c.Context, c.Args().First(), storage.SearchOptions{Limit: limit, CredentialsOptions: credentialsOptions(c)})
	if err != nil {
		return err
	}
	trunc := !c.Bool("no-trunc")
	table := format == "" || strings.HasPrefix(format, "table")
	for _, r := range results {
		if !filter.keep(r) {
			continue
		}
		row := searchRow{Name: r.Name, Description: r.Description, StarCount: strconv.Itoa(r.StarCount)}
		if trunc {
			row.Description = ellipsis(strings.ReplaceAll(row.Description, "\n", " "), 45)
		}
		switch {
		case table && r.IsOfficial:
			row.IsOfficial = "[OK]"
		case !table:
			row.IsOfficial = strconv.FormatBool(r.IsOfficial)
		}
		if r.IsAutomated {
			row.IsAutomated = "[OK]"
		}
		if err := out.Row(row, searchJSON(r)); err != nil {
			return err
		}
	}
	return out.Flush()
}

// searchJSON is what `--format json` prints for a result: Docker's
// field names with typed values.
func searchJSON(r storage.SearchResult) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"Name": r.Name, "Description": r.Description, "StarCount": r.StarCount,
		"IsOfficial": r.IsOfficial, "IsAutomated": r.IsAutomated,
	})
	return b
}
