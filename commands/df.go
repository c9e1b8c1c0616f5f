package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"box/engine"
	"box/storage"
)

func dfCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "show box disk usage",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show detailed information on space usage"},
			&cli.StringFlag{Name: "format", Usage: "format output using a Go template, or json"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, 0, 0, func(e *engine.Engine) error {
				du, err := e.DiskUsage()
				if err != nil {
					return err
				}
				if c.Bool("verbose") && c.String("format") == "" {
					return printDiskUsageVerbose(c.App.Writer, du, time.Now())
				}
				return printDiskUsage(c.App.Writer, c.String("format"), du)
			})
		},
	}
}

// dfRow is one line of `system df`, with Docker's template fields.
type dfRow struct {
	Type        string
	TotalCount  string
	Active      string
	Size        string
	Reclaimable string
}

// reclaimable is Docker's RECLAIMABLE cell: "1.2MB (40%)", no percentage
// when nothing is stored.
func reclaimable(n, total int64) string {
	if total > 0 {
		return fmt.Sprintf("%s (%d%%)", units.HumanSize(float64(n)), n*100/total)
	}
	return units.HumanSize(float64(n))
}

func printDiskUsage(w io.Writer, format string, du *engine.DiskUsage) error {
	l, err := newLister(w, format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}", map[string]string{
		"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE",
	})
	if err != nil {
		return err
	}
	img := du.Images
	rows := []dfRow{
		{"Images", fmt.Sprint(len(img.Images)), fmt.Sprint(img.Active), units.HumanSize(float64(img.Size)), reclaimable(img.Reclaimable, img.Size)},
		{"Containers", fmt.Sprint(len(du.Containers)), fmt.Sprint(du.ActiveContainers), units.HumanSize(float64(du.ContainersSize)), reclaimable(du.ContainersReclaimable, du.ContainersSize)},
		{"Local Volumes", fmt.Sprint(len(du.Volumes)), fmt.Sprint(du.ActiveVolumes), units.HumanSize(float64(du.VolumesSize)), reclaimable(du.VolumesReclaimable, du.VolumesSize)},
		// box keeps no build cache yet.
		{"Build Cache", "0", "0", "0B", "0B"},
	}
	for _, r := range rows {
		if err := l.Row(r, nil); err != nil {
			return err
		}
	}
	return l.Flush()
}

func printDiskUsageVerbose(w io.Writer, du *engine.DiskUsage, now time.Time) error {
	fmt.Fprintln(w, "Images space usage:")
	fmt.Fprintln(w)
	l, err := newLister(w, "", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}", map[string]string{
		"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED", "Size": "SIZE",
		"SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS",
	})
	if err != nil {
		return err
	}
	for _, u := range du.Images.Images {
		row := map[string]string{
			"Repository": "<none>", "Tag": "<none>", "ID": storage.ShortID(u.ID), "CreatedSince": createdSince(u.Created, now),
			"Size": units.HumanSize(float64(u.Size)), "SharedSize": units.HumanSize(float64(u.SharedSize)),
			"UniqueSize": units.HumanSize(float64(u.UniqueSize)), "Containers": fmt.Sprint(u.Containers),
		}
		tags := u.RepoTags()
		if len(tags) == 0 {
			tags = []string{""}
		}
		for _, t := range tags {
			if t != "" {
				i := strings.LastIndex(t, ":")
				row["Repository"], row["Tag"] = t[:i], t[i+1:]
			}
			if err := l.Row(row, nil); err != nil {
				return err
			}
		}
	}
	if err := l.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Containers space usage:")
	fmt.Fprintln(w)
	l, err = newLister(w, "", "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.CreatedSince}}\t{{.Status}}\t{{.Names}}", map[string]string{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES", "Size": "SIZE",
		"CreatedSince": "CREATED", "Status": "STATUS", "Names": "NAMES",
	})
	if err != nil {
		return err
	}
	for _, c := range du.Containers {
		row := map[string]string{
			"ID": storage.ShortID(c.ID), "Image": c.Image, "Command": fmt.Sprintf("%q", ellipsis(c.Command, 20)),
			"LocalVolumes": fmt.Sprint(c.Volumes), "Size": units.HumanSize(float64(c.Size)), "CreatedSince": createdSince(c.Created, now),
			"Status": string(c.State), "Names": c.Name,
		}
		if err := l.Row(row, nil); err != nil {
			return err
		}
	}
	if err := l.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Local Volumes space usage:")
	fmt.Fprintln(w)
	l, err = newLister(w, "", "table {{.Name}}\t{{.Links}}\t{{.Size}}", map[string]string{
		"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE",
	})
	if err != nil {
		return err
	}
	for _, v := range du.Volumes {
		if err := l.Row(map[string]string{"Name": v.Name, "Links": fmt.Sprint(v.Links), "Size": units.HumanSize(float64(v.Size))}, nil); err != nil {
			return err
		}
	}
	if err := l.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Build cache usage: 0B")
	return nil
}
