package commands

import (
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"box/engine"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "fetch the logs of a container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp or relative time"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			opts := engine.LogOptions{Follow: c.Bool("follow"), Timestamps: c.Bool("timestamps"), Tail: -1}
			if t := c.String("tail"); t != "all" {
				n, err := strconv.Atoi(t)
				if err != nil {
					return usageErrorf("invalid --tail %q: want a number or all", t)
				}
				opts.Tail = n
			}
			var err error
			if opts.Since, err = logTime(c.String("since")); err != nil {
				return usageErrorf("invalid --since: %v", err)
			}
			if opts.Until, err = logTime(c.String("until")); err != nil {
				return usageErrorf("invalid --until: %v", err)
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return e.Logs(c.Context, c.Args().First(), opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// logTime reads Docker's --since/--until: RFC 3339 times, Unix seconds,
// or a duration before now ("42m").
func logTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}
