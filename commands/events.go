package commands

import (
	"bytes"
	"fmt"
	"io"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"box/engine"
	"box/engine/events"
	"box/storage/filter"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "get real time events from box's event log",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since", Usage: "show all events created since timestamp"},
			&cli.StringFlag{Name: "until", Usage: "stream events until this timestamp"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output (container=, image=, event=, type=, label=, network=, volume=)"},
			&cli.StringFlag{Name: "format", Usage: "format the output using the given Go template, or json"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			opts, err := eventsOptions(c)
			if err != nil {
				return err
			}
			print, err := eventPrinter(c.App.Writer, c.String("format"))
			if err != nil {
				return err
			}
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				// Docker's events end quietly on an interrupt.
				ctx, stop := signal.NotifyContext(c.Context, unix.SIGINT, unix.SIGTERM)
				defer stop()
				return e.WatchEvents(ctx, opts, print)
			})
		},
	}
}

// eventsOptions reads --since, --until and --filter.
func eventsOptions(c *cli.Context) (events.ReadOptions, error) {
	var opts events.ReadOptions
	now := time.Now()
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &opts.Since}, {"until", &opts.Until}} {
		if v := c.String(f.name); v != "" {
			t, err := events.ParseTime(v, now)
			if err != nil {
				return opts, usageErrorf("--%s: %v", f.name, err)
			}
			*f.to = t
		}
	}
	args, err := filterArgs(c, filter.Spec{Keys: events.FilterKeys})
	if err != nil {
		return opts, usageErrorf("%v", err)
	}
	opts.Filter = events.Filter{}
	for _, k := range events.FilterKeys {
		if vs := args.Values(k); len(vs) > 0 {
			opts.Filter[k] = vs
		}
	}
	return opts, nil
}

// eventPrinter prints one event a line: Docker's line by default, else
// format ("json" or a template).
func eventPrinter(w io.Writer, format string) (func(events.Event) error, error) {
	if format == "" {
		return func(ev events.Event) error {
			_, err := io.WriteString(w, eventLine(ev))
			return err
		}, nil
	}
	if format == "json" {
		format = "{{json .}}"
	}
	t, err := parseTemplate(strings.ReplaceAll(format, `\n`, "\n"))
	if err != nil {
		return nil, err
	}
	return func(ev events.Event) error {
		var buf bytes.Buffer
		if err := t.Execute(&buf, ev); err != nil {
			return fmt.Errorf("format: %w", err)
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}, nil
}

// eventLine is docker-cli's line for an event: the time (RFC 3339 with
// nanoseconds, local), type, action and actor, then the attributes
// sorted by key.
func eventLine(ev events.Event) string {
	var b strings.Builder
	b.WriteString(time.Unix(0, ev.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00"))
	fmt.Fprintf(&b, " %s %s %s", ev.Type, ev.Action, ev.Actor.ID)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, len(keys))
		for i, k := range keys {
			attrs[i] = k + "=" + ev.Actor.Attributes[k]
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(attrs, ", "))
	}
	b.WriteByte('\n')
	return b.String()
}
