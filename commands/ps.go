package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
)

const defaultPsTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Status": "STATUS", "State": "STATE", "Ports": "PORTS",
	"Names": "NAMES", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
}

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display container IDs"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container (includes all states)"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "show n last created containers (includes all states)"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.StringFlag{Name: "format", Usage: "format output: 'table', 'table TEMPLATE', 'json' or a Go template"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided"},
		},
		Action: runPs,
	}
}

func runPs(c *cli.Context) error {
	if err := requireArgs(c, 0, 0); err != nil {
		return err
	}
	filters, err := filterFlag(c)
	if err != nil {
		return err
	}
	match, err := psFilter(filters)
	if err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	all, err := e.Containers()
	if err != nil {
		return err
	}
	last := c.Int("last")
	if c.Bool("latest") {
		last = 1
	}
	var shown []*engine.Container
	for _, ctr := range all {
		if last < 0 && !c.Bool("all") && ctr.State != engine.Running && ctr.State != engine.Restarting && len(filters) == 0 {
			continue
		}
		if last >= 0 && len(shown) >= last {
			break
		}
		if match(e, ctr) {
			shown = append(shown, ctr)
		}
	}
	format := c.String("format")
	if (format == "" || format == "table") && c.Bool("quiet") {
		format = "{{.ID}}"
	} else if format == "" || format == "table" {
		format = defaultPsTable
		if c.Bool("size") {
			format += "\t{{.Size}}"
		}
	}
	l, err := newLister(c.App.Writer, format, defaultPsTable, psHeaders)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, ctr := range shown {
		size := ""
		if c.Bool("size") {
			size = humanSize(e.ContainerSize(ctr.ID))
		}
		row := psRow(ctr, !c.Bool("no-trunc"), size, now)
		if err := l.Row(row, row); err != nil {
			return err
		}
	}
	return l.Flush()
}

// containerRow is one line of `ps`; its fields are Docker's.
type containerRow struct {
	ID, Image, Command, CreatedAt, RunningFor string
	Status, State, Ports, Names, Size         string
	Labels, Mounts, Networks                  string
}

// MarshalJSON prints the row as Docker's `--format json`.
func (r containerRow) MarshalJSON() ([]byte, error) {
	return marshalRow(map[string]string{
		"ID": r.ID, "Image": r.Image, "Command": r.Command, "CreatedAt": r.CreatedAt,
		"RunningFor": r.RunningFor, "Status": r.Status, "State": r.State, "Ports": r.Ports,
		"Names": r.Names, "Size": r.Size, "Labels": r.Labels, "Mounts": r.Mounts, "Networks": r.Networks,
	})
}

func psRow(c *engine.Container, trunc bool, size string, now time.Time) containerRow {
	id, command := c.ID, c.Command
	if trunc {
		id, command = truncateID(id), ellipsis(command, 20)
	}
	image := c.Image
	if image == "" {
		image = truncateID(c.ImageID)
	}
	return containerRow{
		ID: id, Image: image, Command: strconv.Quote(command),
		CreatedAt: createdAt(c.Created), RunningFor: createdSince(c.Created, now),
		Status: containerStatus(c, now), State: stateName(c), Names: c.Name, Size: size,
		Labels: joinLabels(c.Labels), Ports: portsColumn(c),
	}
}

// portsColumn is Docker's PORTS: the published ports of a running
// container, "0.0.0.0:8080->80/tcp, ...".
func portsColumn(c *engine.Container) string {
	if c.State != engine.Running {
		return ""
	}
	var out []string
	for _, p := range c.Ports {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// stateName is Docker's STATE column: paused stands for running there.
func stateName(c *engine.Container) string {
	if c.Paused {
		return string(engine.Paused)
	}
	return string(c.State)
}

// containerStatus is Docker's STATUS column.
func containerStatus(c *engine.Container, now time.Time) string {
	switch c.State {
	case engine.Running:
		if c.Paused {
			return "Up " + units.HumanDuration(now.Sub(c.StartedAt)) + " (Paused)"
		}
		if c.Health != nil {
			return "Up " + units.HumanDuration(now.Sub(c.StartedAt)) + " (" + c.Health.Label() + ")"
		}
		return "Up " + units.HumanDuration(now.Sub(c.StartedAt))
	case engine.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.ExitCode, units.HumanDuration(now.Sub(c.FinishedAt)))
	case engine.Exited:
		if c.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", c.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, units.HumanDuration(now.Sub(c.FinishedAt)))
	}
	return "Created"
}

// psFilter compiles `ps --filter` values: each key's values are or-ed,
// different keys and-ed, as Docker does.
func psFilter(filters []string) (func(*engine.Engine, *engine.Container) bool, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "status":
			switch v {
			case "created", "restarting", "running", "removing", "paused", "exited", "dead":
			default:
				return nil, usageErrorf("invalid filter 'status=%s': want created, restarting, running, removing, paused, exited or dead", v)
			}
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, usageErrorf("invalid filter 'exited=%s': want an exit code", v)
			}
		case "health":
			switch v {
			case engine.HealthStarting, engine.Healthy, engine.Unhealthy, engine.NoHealthcheck:
			default:
				return nil, usageErrorf("invalid filter 'health=%s': want starting, healthy, unhealthy or none", v)
			}
		case "name", "id", "ancestor", "label":
		default:
			return nil, usageErrorf("invalid filter '%s'", k)
		}
		byKey[k] = append(byKey[k], v)
	}
	return func(e *engine.Engine, c *engine.Container) bool {
		for k, vs := range byKey {
			ok := false
			for _, v := range vs {
				switch k {
				case "status":
					ok = ok || stateName(c) == v
				case "exited":
					n, _ := strconv.Atoi(v)
					ok = ok || (c.State == engine.Exited && c.ExitCode == n)
				case "name":
					ok = ok || strings.Contains(c.Name, strings.TrimPrefix(v, "/"))
				case "id":
					ok = ok || strings.HasPrefix(c.ID, v)
				case "ancestor":
					if img, err := e.Store.LookupImage(v); err == nil {
						ok = ok || img.ID == c.ImageID
					}
				case "health":
					ok = ok || healthStatus(c) == v
				case "label":
					key, want, withValue := strings.Cut(v, "=")
					got, has := c.Labels[key]
					ok = ok || has && (!withValue || got == want)
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}, nil
}

// joinLabels is Docker's Labels field: key=value pairs, sorted, comma-joined.
func joinLabels(labels map[string]string) string {
	pairs := make([]string, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// healthStatus is what ps --filter health= matches: the check's status,
// or none for a container without one.
func healthStatus(c *engine.Container) string {
	if c.Health == nil {
		return engine.NoHealthcheck
	}
	return c.Health.Status
}
