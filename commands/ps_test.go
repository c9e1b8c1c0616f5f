package commands

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"text/template"
	"time"

	"box/engine"
)

// dockerContainerFields are the fields of Docker's container formatter
// (docker/cli cli/command/formatter/container.go), each with what it
// prints for sampleRow.
var dockerContainerFields = []struct{ tmpl, want string }{
	{`{{.ID}}`, "0123456789ab"},
	{`{{.Names}}`, "web"},
	{`{{.Image}}`, "alpine"},
	{`{{.Command}}`, `"sleep 60"`},
	{`{{.CreatedAt}}`, time.Unix(sampleCreated.Unix(), 0).String()},
	{`{{.RunningFor}}`, "2 minutes ago"},
	{`{{.Ports}}`, ""},
	{`{{.State}}`, "running"},
	{`{{.Status}}`, "Up About a minute"},
	{`{{.Size}}`, "1.2kB"},
	{`{{.Labels}}`, "a=1,com.example.tier=db"},
	{`{{.Label "com.example.tier"}}`, "db"},
	{`{{.Label "missing"}}`, ""},
	{`{{.Mounts}}`, "data,/srv/a-long-pa…"},
	{`{{.LocalVolumes}}`, "1"},
	{`{{.Networks}}`, "bridge"},
	{`{{.Platform}}`, "linux/amd64"},
	{`{{.HealthStatus}}`, ""},
	{`{{.IPAddresses}}`, "[]"},
}

var sampleCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sampleRow() containerRow {
	created := sampleCreated
	ctr := &engine.Container{
		ID: "0123456789abcdef", Name: "web", Image: "alpine", Command: "sleep 60",
		Created: created, StartedAt: created.Add(time.Minute), State: engine.Running,
		Labels: map[string]string{"a": "1", "com.example.tier": "db"},
	}
	row := psRow(ctr, true, "1.2kB", created.Add(2*time.Minute))
	row.details = func() *rowDetails {
		return &rowDetails{
			mounts: []engine.MountPoint{
				{Type: "volume", Name: "data", Driver: "local"},
				{Type: "bind", Source: "/srv/a-long-path/x"},
			},
			network: "bridge", platform: "linux/amd64", os: "linux", arch: "amd64",
		}
	}
	return row
}

func TestPsFormatFields(t *testing.T) {
	row := sampleRow()
	for _, f := range dockerContainerFields {
		tmpl, err := parseTemplate(f.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, row); err != nil {
			t.Errorf("%s: %v", f.tmpl, err)
			continue
		}
		if buf.String() != f.want {
			t.Errorf("%s = %q, want %q", f.tmpl, buf.String(), f.want)
		}
	}
}

// A table heads every column, a label's by its key's last part.
func TestPsFormatHeaders(t *testing.T) {
	var all []string
	for _, f := range dockerContainerFields {
		all = append(all, f.tmpl)
	}
	var buf bytes.Buffer
	l, err := newLister(&buf, "table "+strings.Join(all, "|"), defaultPsTable, psHeaders)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "CONTAINER ID|NAMES|IMAGE|COMMAND|CREATED AT|CREATED|PORTS|STATE|STATUS|SIZE|LABELS|tier|missing|MOUNTS|LOCAL VOLUMES|NETWORKS|PLATFORM|HEALTH STATUS|IP ADDRESSES\n"
	if buf.String() != want {
		t.Errorf("header = %q, want %q", buf.String(), want)
	}
}

func TestPsFormatJSON(t *testing.T) {
	b, err := json.Marshal(sampleRow())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Names": "web", "LocalVolumes": "1", "Mounts": "data,/srv/a-long-pa…", "Networks": "bridge"} {
		if got[k] != want {
			t.Errorf("json %s = %q, want %q", k, got[k], want)
		}
	}
	// Docker's Platform is an OCI platform object, the rest strings.
	if p, ok := got["Platform"].(map[string]any); !ok || p["os"] != "linux" || p["architecture"] != "amd64" {
		t.Errorf("json Platform = %v, want {os: linux, architecture: amd64}", got["Platform"])
	}
}

// Every field of Docker's image formatter (formatter/image.go) is one of
// images' rows, with a column header.
func TestImagesFormatFields(t *testing.T) {
	row := imageRow{ID: "1efcd73fce9d", Repository: "alpine", Tag: "3.20", Digest: "<none>",
		CreatedSince: "3 hours ago", CreatedAt: "2026-01-02 03:04:05 +0000 UTC", Size: "8.09MB",
		VirtualSize: "8.09MB", Containers: "N/A", SharedSize: "N/A", UniqueSize: "N/A"}
	for _, f := range []string{"ID", "Repository", "Tag", "Digest", "CreatedSince", "CreatedAt",
		"Size", "Containers", "VirtualSize", "SharedSize", "UniqueSize"} {
		tmpl := template.Must(template.New("").Parse("{{." + f + "}}"))
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, row); err != nil || buf.Len() == 0 {
			t.Errorf("{{.%s}}: %q %v", f, buf.String(), err)
		}
		if imageHeaders[f] == "" {
			t.Errorf("{{.%s}} has no column header", f)
		}
	}
	if err := template.Must(template.New("").Parse("{{.Nope}}")).Execute(io.Discard, row); err == nil {
		t.Error("an unknown field should fail")
	}
}
