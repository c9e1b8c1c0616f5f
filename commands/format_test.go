package commands

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTruncateID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"sha256:1efcd73fce9dc238e8a6eafff1a2fde912376eec7a1d3b4585669fe40d11f7a3", "1efcd73fce9d"},
		{"1efcd73fce9dc238e8a6eafff1a2fde912376eec7a1d3b4585669fe40d11f7a3", "1efcd73fce9d"},
		{"<missing>", "<missing>"},
		{"abc", "abc"},
	} {
		if got := truncateID(c.in); got != c.want {
			t.Errorf("truncateID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{999, "999B"},
		{1_763_000, "1.76MB"},
		{7_797_760, "7.8MB"},
		{8_090_969, "8.09MB"},
		{1_234_567_890, "1.23GB"},
	} {
		if got := humanSize(c.in); got != c.want {
			t.Errorf("humanSize(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCreatedSince(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{
		{30 * time.Second, "30 seconds ago"},
		{50 * time.Minute, "50 minutes ago"},
		{70 * time.Minute, "About an hour ago"},
		{15 * 24 * time.Hour, "2 weeks ago"},
		{3 * 365 * 24 * time.Hour, "3 years ago"},
	} {
		if got := createdSince(now.Add(-c.ago), now); got != c.want {
			t.Errorf("createdSince(now-%s) = %q, want %q", c.ago, got, c.want)
		}
	}
	if got := createdSince(time.Time{}, now); got != "" {
		t.Errorf("createdSince(zero) = %q, want empty (the table shows N/A)", got)
	}
}

func TestEllipsis(t *testing.T) {
	long := "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.20.3-x86_64.tar.gz in / "
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{long, 45, long[:44] + "…"},
		{"short", 45, "short"},
		{strings.Repeat("x", 45), 45, strings.Repeat("x", 45)},
		{strings.Repeat("x", 46), 45, strings.Repeat("x", 44) + "…"},
		{"日本語日本語", 7, "日本語…"},
		{"日本語", 6, "日本語"},
		{"abc", 1, "a"},
		{"abc", 0, ""},
	} {
		if got := ellipsis(c.in, c.max); got != c.want {
			t.Errorf("ellipsis(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

type fakeRow struct{ ID, Name string }

func TestLister(t *testing.T) {
	headers := map[string]string{"ID": "IMAGE ID", "Name": "NAME"}
	rows := []fakeRow{{"abc", "one"}, {"defghi", "two"}}
	for _, c := range []struct {
		format, want string
	}{
		{"", "IMAGE ID   NAME\nabc        one\ndefghi     two\n"},
		{"table", "IMAGE ID   NAME\nabc        one\ndefghi     two\n"},
		{"table {{.Name}}", "NAME\none\ntwo\n"},
		// Functions leave the header alone, as Docker's header functions do.
		{"table {{upper .Name}}\t{{.ID}}", "NAME      IMAGE ID\nONE       abc\nTWO       defghi\n"},
		{"{{.Name}}:{{.ID}}", "one:abc\ntwo:defghi\n"},
		{`{{.Name}}\t{{.ID}}`, "one\tabc\ntwo\tdefghi\n"},
		{"json", `{"ID":"abc","Name":"one"}` + "\n" + `{"ID":"defghi","Name":"two"}` + "\n"},
		{"{{json .Name}}", "\"one\"\n\"two\"\n"},
	} {
		var buf bytes.Buffer
		l, err := newLister(&buf, c.format, "table {{.ID}}\t{{.Name}}", headers)
		if err != nil {
			t.Fatalf("newLister(%q): %v", c.format, err)
		}
		for _, r := range rows {
			if err := l.Row(r, nil); err != nil {
				t.Fatalf("format %q: %v", c.format, err)
			}
		}
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("format %q:\ngot  %q\nwant %q", c.format, buf.String(), c.want)
		}
	}
	if _, err := newLister(&bytes.Buffer{}, "{{.Name", "", headers); err == nil || exitCode(err) != exitBoxFailed {
		t.Errorf("a broken template should be a usage error, got %v", err)
	}
}

type fakeInspect struct {
	ID     string `json:"Id"`
	Config struct {
		Cmd    []string
		Labels map[string]string
	}
}

func TestPrintJSONOrTemplate(t *testing.T) {
	v := fakeInspect{ID: "sha256:abc"}
	v.Config.Cmd = []string{"/bin/sh", "-c", "echo <hi>"}
	for _, c := range []struct {
		format, want string
		fails        bool
	}{
		// Typed values print as Docker's structs do.
		{format: "{{.Config.Cmd}}", want: "[/bin/sh -c echo <hi>]\n"},
		{format: "{{json .Config.Cmd}}", want: `["/bin/sh","-c","echo <hi>"]` + "\n"},
		{format: "{{.Id}}", want: "sha256:abc\n"},
		{format: "{{.ID}}", want: "sha256:abc\n"},
		{format: "{{.Config.Labels}}", want: "map[]\n"},
		{format: "{{.Nope}}", fails: true},
	} {
		var buf bytes.Buffer
		err := printJSONOrTemplate(&buf, c.format, []any{v})
		if c.fails {
			if err == nil || !strings.Contains(err.Error(), "template parsing error") {
				t.Errorf("format %q: want a template error, got %v (output %q)", c.format, err, buf.String())
			}
			continue
		}
		if err != nil || buf.String() != c.want {
			t.Errorf("format %q: got %q, %v; want %q", c.format, buf.String(), err, c.want)
		}
	}

	var buf bytes.Buffer
	if err := printJSONOrTemplate(&buf, "", nil); err != nil || buf.String() != "[]\n" {
		t.Errorf("nothing found: got %q, %v; want Docker's []", buf.String(), err)
	}
	buf.Reset()
	if err := printJSONOrTemplate(&buf, "", []any{v}); err != nil || !strings.HasPrefix(buf.String(), "[\n    {\n        \"Id\": \"sha256:abc\",") {
		t.Errorf("JSON: got %q, %v; want an indented array", buf.String(), err)
	}
}
