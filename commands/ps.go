package commands

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/storage/filter"
)

const defaultPsTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Status": "STATUS", "State": "STATE", "Ports": "PORTS",
	"Names": "NAMES", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
	"LocalVolumes": "LOCAL VOLUMES", "Platform": "PLATFORM", "HealthStatus": "HEALTH STATUS",
	"IPAddresses": "IP ADDRESSES",
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
	args, err := filter.Parse(filters, psFilters)
	if err != nil {
		return usageErrorf("%v", err)
	}
	match, err := psFilter(args)
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
	// Docker's daemon lists stopped containers only with -a, -n or -l, or
	// a status filter, which asks for states by name.
	showAll := c.Bool("all") || last > 0
	showAll = showAll || args.Has("status")
	var shown []*engine.Container
	for _, ctr := range all {
		if !showAll && ctr.State != engine.Running && ctr.State != engine.Restarting {
			continue
		}
		if last > 0 && len(shown) >= last {
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
	// As Docker: a template that shows .Size asks for sizes.
	withSize := c.Bool("size") || strings.Contains(format, ".Size") || format == "json" || strings.Contains(format, "json .}}")
	for _, ctr := range shown {
		size := ""
		if withSize {
			size = humanSize(e.ContainerSize(ctr.ID))
		}
		row := psRow(ctr, !c.Bool("no-trunc"), size, now)
		row.details = lazyDetails(e, ctr)
		if err := l.Row(row, row); err != nil {
			return err
		}
	}
	return l.Flush()
}

// containerRow is one line of `ps`. Its fields and methods are those of
// Docker's container formatter, for --format templates.
type containerRow struct {
	ID, Image, Command, CreatedAt, RunningFor string
	Status, State, Ports, Names, Size         string
	Labels                                    string

	labels map[string]string
	health string
	trunc  bool
	// details has what the list does not: mounts, network, platform.
	details func() *rowDetails
}

// rowDetails are a container's mounts, network mode and platform, read
// only when a template asks for them.
type rowDetails struct {
	mounts []engine.MountPoint
	// network names the container's networks, as inspect lists them
	// ("bridge" for the private network); ips are its addresses there.
	network  string
	ips      []networkIP
	platform string
	os, arch string
	variant  string
}

// lazyDetails reads a container's details once, on first use.
func lazyDetails(e *engine.Engine, ctr *engine.Container) func() *rowDetails {
	var d *rowDetails
	return func() *rowDetails {
		if d != nil {
			return d
		}
		d = &rowDetails{}
		if in, err := e.InspectContainer(ctr.ID); err == nil {
			d.mounts = in.Mounts
			// Another's network (container:NAME) lists none, as in Docker.
			names := slices.Sorted(maps.Keys(in.NetworkSettings.Networks))
			d.network = strings.Join(names, ",")
			for _, n := range names {
				if es, ok := in.NetworkSettings.Networks[n].(engine.EndpointSettings); ok && es.IPAddress != "" {
					d.ips = append(d.ips, networkIP{Network: n, IP: es.IPAddress})
				}
			}
		}
		if img, err := e.Store.LookupImage(ctr.ImageID); err == nil && img.Config.OS != "" {
			d.os, d.arch, d.variant = img.Config.OS, img.Config.Architecture, img.Config.Variant
			d.platform = img.Config.OS + "/" + img.Config.Architecture
			if img.Config.Variant != "" {
				d.platform += "/" + img.Config.Variant
			}
		}
		return d
	}
}

func (r containerRow) loaded() *rowDetails {
	if r.details == nil {
		return &rowDetails{}
	}
	return r.details()
}

// Label is the value of one label, "" when the container has none.
func (r containerRow) Label(name string) string { return r.labels[name] }

// Mounts names the container's volumes and bind mounts' sources,
// comma-joined, each cut to 15 columns unless --no-trunc.
func (r containerRow) Mounts() string {
	var names []string
	for _, m := range r.loaded().mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if r.trunc {
			name = ellipsis(name, 15)
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}

// LocalVolumes counts the container's volumes of the local driver.
func (r containerRow) LocalVolumes() string {
	n := 0
	for _, m := range r.loaded().mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// Networks names the networks the container is on, comma-joined, as
// inspect's NetworkSettings.Networks has them: "bridge" for the private
// network (pasta's or netstack's), "host", "none" or user networks.
func (r containerRow) Networks() string { return r.loaded().network }

// Platform is the container's image's os/architecture[/variant].
func (r containerRow) Platform() string { return r.loaded().platform }

// HealthStatus is the healthcheck's status (starting, healthy,
// unhealthy), "" for a container without one.
func (r containerRow) HealthStatus() string { return r.health }

// networkIP is an address of the container on a network.
type networkIP struct {
	Network string `json:"Network,omitempty"`
	IP      string `json:"IP"`
}

func (n networkIP) String() string { return n.Network + "/" + n.IP }

// IPAddresses are the container's addresses by network, while it runs.
func (r containerRow) IPAddresses() []networkIP {
	if ips := r.loaded().ips; ips != nil {
		return ips
	}
	return []networkIP{}
}

// MarshalJSON prints the row as Docker's `--format json`: every field a
// string but Platform, an OCI platform object (null when unknown).
func (r containerRow) MarshalJSON() ([]byte, error) {
	var platform any
	if d := r.loaded(); d.os != "" {
		platform = struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
			Variant      string `json:"variant,omitempty"`
		}{d.arch, d.os, d.variant}
	}
	return json.Marshal(map[string]any{
		"ID": r.ID, "Image": r.Image, "Command": r.Command, "CreatedAt": r.CreatedAt,
		"RunningFor": r.RunningFor, "Status": r.Status, "State": r.State, "Ports": r.Ports,
		"Names": r.Names, "Size": r.Size, "Labels": r.Labels, "Mounts": r.Mounts(),
		"LocalVolumes": r.LocalVolumes(), "Networks": r.Networks(), "Platform": platform,
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
	row := containerRow{
		ID: id, Image: image, Command: strconv.Quote(command),
		CreatedAt: createdAt(c.Created), RunningFor: createdSince(c.Created, now),
		Status: containerStatus(c, now), State: stateName(c), Names: c.Name, Size: size,
		Labels: joinLabels(c.Labels), Ports: portsColumn(c),
		labels: c.Labels, trunc: trunc,
	}
	if c.Health != nil {
		row.health = c.Health.Status
	}
	return row
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

// psFilters are the --filter keys of ps.
var psFilters = filter.Spec{Keys: []string{"status", "exited", "name", "id", "ancestor", "label", "health"}, Negatable: []string{"label"}}

// psFilter compiles `ps --filter` values (the shared filter language:
// each key's values are alternatives, keys and labels must all hold).
func psFilter(args filter.Args) (func(*engine.Engine, *engine.Container) bool, error) {
	for _, v := range args.Values("status") {
		switch v {
		case "created", "restarting", "running", "removing", "paused", "exited", "dead":
		default:
			return nil, usageErrorf("%v", &filter.Error{Key: "status", Value: v, Why: "want created, restarting, running, removing, paused, exited or dead"})
		}
	}
	for _, v := range args.Values("health") {
		switch v {
		case engine.HealthStarting, engine.Healthy, engine.Unhealthy, engine.NoHealthcheck:
		default:
			return nil, usageErrorf("%v", &filter.Error{Key: "health", Value: v, Why: "want starting, healthy, unhealthy or none"})
		}
	}
	for _, v := range args.Values("exited") {
		if _, err := strconv.Atoi(v); err != nil {
			return nil, usageErrorf("%v", &filter.Error{Key: "exited", Value: v, Why: "want an exit code"})
		}
	}
	return func(e *engine.Engine, c *engine.Container) bool {
		return args.Match("status", func(v string) bool { return stateName(c) == v }) &&
			args.Match("exited", func(v string) bool {
				n, _ := strconv.Atoi(v)
				return c.State == engine.Exited && c.ExitCode == n
			}) &&
			args.Match("name", func(v string) bool { return filter.MatchName(v, c.Name) }) &&
			args.Match("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
			args.Match("ancestor", func(v string) bool {
				img, err := e.Store.LookupImage(v)
				return err == nil && img.ID == c.ImageID
			}) &&
			args.Match("health", func(v string) bool { return healthStatus(c) == v }) &&
			args.MatchLabels(c.Labels)
	}, nil
}

// healthStatus is what ps --filter health= matches: the check's status,
// or none for a container without one.
func healthStatus(c *engine.Container) string {
	if c.Health == nil {
		return engine.NoHealthcheck
	}
	return c.Health.Status
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
