package commands

import (
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"box/storage"
)

const (
	defaultHistoryTable  = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	nonHumanHistoryTable = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
)

var historyHeaders = map[string]string{
	"ID":           "IMAGE",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"CreatedBy":    "CREATED BY",
	"Size":         "SIZE",
	"Comment":      "COMMENT",
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "show the history of an image",
		ArgsUsage: "IMAGE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "print sizes and dates in human readable format"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
		},
		Action: runHistory,
	}
}

func runHistory(c *cli.Context) error {
	if err := requireArgs(c, 1, 1); err != nil {
		return err
	}
	human := c.Bool("human")
	format := c.String("format")
	if format == "" || format == "table" {
		switch {
		case c.Bool("quiet"):
			format = "{{.ID}}"
		case !human:
			format = nonHumanHistoryTable
		default:
			format = defaultHistoryTable
		}
	}
	out, err := newLister(c.App.Writer, format, defaultHistoryTable, historyHeaders)
	if err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	name := c.Args().First()
	entries, err := e.Store.History(name)
	if err != nil {
		return imageError(name, err)
	}
	for _, row := range historyRows(entries, !c.Bool("no-trunc"), human, time.Now()) {
		if err := out.Row(row, nil); err != nil {
			return err
		}
	}
	return out.Flush()
}

// historyRow is one line of `history`, with Docker's template fields.
type historyRow struct {
	ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment string
}

// MarshalJSON prints the row as Docker's `--format json` and `{{json .}}`.
func (r historyRow) MarshalJSON() ([]byte, error) {
	return marshalRow(map[string]string{
		"ID": r.ID, "CreatedSince": r.CreatedSince, "CreatedAt": r.CreatedAt,
		"CreatedBy": r.CreatedBy, "Size": r.Size, "Comment": r.Comment,
	})
}

// historyRows formats history entries as Docker does: CREATED BY cut to
// 45 columns unless no-trunc; sizes and times human or exact.
func historyRows(entries []storage.HistoryEntry, trunc, human bool, now time.Time) []historyRow {
	rows := make([]historyRow, 0, len(entries))
	for _, h := range entries {
		r := historyRow{ID: h.ID, Comment: h.Comment}
		if trunc {
			r.ID = truncateID(r.ID)
		}
		created := h.Created
		if created.IsZero() {
			// Docker reports a missing time as the epoch.
			created = time.Unix(0, 0)
		}
		r.CreatedAt = created.UTC().Format(time.RFC3339)
		r.CreatedSince = r.CreatedAt
		r.Size = strconv.FormatInt(h.Size, 10)
		if human {
			r.CreatedSince = createdSince(created, now)
			r.Size = humanSize(h.Size)
		}
		r.CreatedBy = strings.ReplaceAll(h.CreatedBy, "\t", " ")
		if trunc {
			r.CreatedBy = ellipsis(r.CreatedBy, 45)
		}
		rows = append(rows, r)
	}
	return rows
}
