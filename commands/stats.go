package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/engine"
)

// defaultStatsTable is Docker's (cli/command/container/formatter_stats.go).
const defaultStatsTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

var statsHeaders = map[string]string{
	"Container": "CONTAINER", "Name": "NAME", "ID": "CONTAINER ID", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
	"BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

// statsInterval is how far apart readings are: Docker's daemon samples
// every second, and CPU % is over that interval.
const statsInterval = time.Second

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "display a live stream of container(s) resource usage statistics",
		ArgsUsage: "[CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "no-stream", Usage: "disable streaming stats and only pull the first result"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 0, -1, func(e *engine.Engine) error {
				ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
				defer stop()
				return runStats(ctx, c, e)
			})
		},
	}
}

// statsTarget is one container stats follows: as the user named it, or
// by short id when stats lists them itself.
type statsTarget struct {
	asked string
	ctr   *engine.Container
}

func runStats(ctx context.Context, c *cli.Context, e *engine.Engine) error {
	names := c.Args().Slice()
	targets := func() ([]statsTarget, error) {
		if len(names) == 0 {
			all, err := e.Containers()
			if err != nil {
				return nil, err
			}
			var out []statsTarget
			for _, ctr := range all {
				if c.Bool("all") || ctr.State == engine.Running {
					out = append(out, statsTarget{asked: ctr.ID[:12], ctr: ctr})
				}
			}
			return out, nil
		}
		out := make([]statsTarget, len(names))
		var errs []error
		for i, n := range names {
			ctr, err := e.LookupContainer(n)
			errs = append(errs, err)
			out[i] = statsTarget{asked: n, ctr: ctr}
		}
		return out, errors.Join(errs...)
	}
	stream := !c.Bool("no-stream")
	live := stream && isTerminal(c.App.Writer)
	reader := e.NewStatsReader()
	// A first reading, so that the first one shown has a CPU %.
	list, err := targets()
	if err != nil {
		return err
	}
	for _, t := range list {
		reader.Read(t.ctr)
	}
	noted := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(statsInterval):
		}
		list, err := targets()
		if err != nil && !stream {
			return err
		}
		rows := make([]statsRow, 0, len(list))
		var partial []string
		for _, t := range list {
			row := statsRow{container: t.asked, trunc: !c.Bool("no-trunc")}
			if t.ctr == nil {
				row.invalid = true // removed while followed: Docker's "--"
			} else {
				row.s = reader.Read(t.ctr)
				if row.s.FromProc {
					partial = append(partial, row.Name())
				}
			}
			rows = append(rows, row)
		}
		var frame bytes.Buffer
		if err := printStats(&frame, c.String("format"), rows); err != nil {
			return err
		}
		note := partialNote(partial)
		if live {
			// Docker's refresh: home, each line cleared to its end, the
			// rest of the screen cleared.
			var screen bytes.Buffer
			screen.WriteString("\033[H")
			text := strings.TrimSuffix(frame.String(), "\n")
			if note != "" {
				text += "\n" + note
			}
			for _, line := range strings.Split(text, "\n") {
				screen.WriteString(line + "\033[K\n")
			}
			screen.WriteString("\033[J")
			frame = screen
		} else if note != "" && !noted {
			fmt.Fprintln(c.App.ErrWriter, note)
			noted = true
		}
		if _, err := c.App.Writer.Write(frame.Bytes()); err != nil {
			return err
		}
		if !stream {
			return nil
		}
	}
}

// partialNote says which containers' figures come from /proc rather than
// a cgroup, and what that leaves out.
func partialNote(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("box: note: partial figures for %s (no cgroup of its own: rootless on cgroup v1 or without delegation): "+
		"CPU, memory (PSS) and block I/O of its live processes from /proc, the host's memory as the limit",
		strings.Join(names, ", "))
}

func printStats(w io.Writer, format string, rows []statsRow) error {
	l, err := newLister(w, format, defaultStatsTable, statsHeaders)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := l.Row(r, nil); err != nil {
			return err
		}
	}
	return l.Flush()
}

// statsRow is Docker's stats formatter: the fields --format templates use.
type statsRow struct {
	container string
	s         engine.Stats
	invalid   bool
	trunc     bool
}

func (r statsRow) Container() string { return r.container }

func (r statsRow) Name() string {
	if r.s.Name == "" {
		return "--"
	}
	return r.s.Name
}

func (r statsRow) ID() string {
	if r.trunc && len(r.s.ID) > 12 {
		return r.s.ID[:12]
	}
	return r.s.ID
}

func (r statsRow) CPUPerc() string {
	if r.invalid {
		return "--"
	}
	return percent(r.s.CPUPercent)
}

func (r statsRow) MemUsage() string {
	if r.invalid {
		return "-- / --"
	}
	return units.BytesSize(float64(r.s.MemUsage)) + " / " + units.BytesSize(float64(r.s.MemLimit))
}

func (r statsRow) MemPerc() string {
	if r.invalid {
		return "--"
	}
	return percent(r.s.MemPercent)
}

func (r statsRow) NetIO() string {
	if r.invalid {
		return "--"
	}
	return units.HumanSizeWithPrecision(float64(r.s.NetRx), 3) + " / " + units.HumanSizeWithPrecision(float64(r.s.NetTx), 3)
}

func (r statsRow) BlockIO() string {
	if r.invalid {
		return "--"
	}
	return units.HumanSizeWithPrecision(float64(r.s.BlockRead), 3) + " / " + units.HumanSizeWithPrecision(float64(r.s.BlockWrite), 3)
}

func (r statsRow) PIDs() string {
	if r.invalid {
		return "--"
	}
	return strconv.FormatUint(r.s.PIDs, 10)
}

// MarshalJSON is `--format json`: every field as its string, as Docker
// prints it.
func (r statsRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"BlockIO": r.BlockIO(), "CPUPerc": r.CPUPerc(), "Container": r.Container(), "ID": r.ID(),
		"MemPerc": r.MemPerc(), "MemUsage": r.MemUsage(), "Name": r.Name(), "NetIO": r.NetIO(), "PIDs": r.PIDs(),
	})
}

func percent(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
