package commands

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"box/engine"
)

// TestVersionDockerShape: `version --format` sees Docker's fields, and
// its JSON has Docker's names (docker/cli's versionInfo over moby's
// types.Version).
func TestVersionDockerShape(t *testing.T) {
	v := newVersionInfo(engine.Build{Version: "0.3.1", GitCommit: "abc1234", BuildTime: "2026-12-04T10:00:00Z", GoVersion: "go1.26", Runtime: "1.5.2"}, "")
	for format, want := range map[string]string{
		"{{.Server.Version}}":                                              "0.3.1",
		"{{.Client.Version}}":                                              "0.3.1",
		"{{.Server.APIVersion}}":                                           engine.APIVersion,
		"{{.Client.APIVersion}}":                                           engine.APIVersion,
		"{{.Client.GitCommit}} {{.Server.GitCommit}}":                      "abc1234 abc1234",
		"{{.Client.Os}}/{{.Client.Arch}}":                                  "linux/amd64",
		"{{.Client.BuildTime}}":                                            "Fri Dec  4 10:00:00 2026",
		"{{range .Server.Components}}{{.Name}} {{end}}":                    "Engine runc ",
		"{{(index .Server.Components 1).Version}}":                         "1.5.2",
		"{{index (index .Server.Components 0).Details \"StorageDriver\"}}": "overlay",
	} {
		if format == "{{.Client.Os}}/{{.Client.Arch}}" {
			want = v.Client.Os + "/" + v.Client.Arch
		}
		var buf bytes.Buffer
		if err := printJSONOrTemplateOne(&buf, format, v); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got := strings.TrimSuffix(buf.String(), "\n"); got != want {
			t.Errorf("%s = %q, want %q", format, got, want)
		}
	}
	var buf bytes.Buffer
	if err := printJSONOrTemplateOne(&buf, "{{json .}}", v); err != nil {
		t.Fatal(err)
	}
	var got struct{ Client, Server map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("{{json .}} is no JSON: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"Platform", "Version", "ApiVersion", "DefaultAPIVersion", "GitCommit", "GoVersion", "Os", "Arch", "BuildTime", "Context"} {
		if _, ok := got.Client[k]; !ok {
			t.Errorf("Client JSON lacks %q: %s", k, buf.String())
		}
	}
	for _, k := range []string{"Platform", "Components", "Version", "ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion", "Os", "Arch", "KernelVersion", "BuildTime"} {
		if _, ok := got.Server[k]; !ok {
			t.Errorf("Server JSON lacks %q: %s", k, buf.String())
		}
	}
	buf.Reset()
	if err := printVersion(&buf, v); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Client: box\n Version:           0.3.1\n", "\nServer: box\n Engine:\n  Version:          0.3.1\n", " runc:\n  Version:          1.5.2\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("box version lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestHelpGroups: box --help lists verbs under docker --help's headings,
// common ones in Docker's order.
func TestHelpGroups(t *testing.T) {
	var out bytes.Buffer
	app := newApp(&out, io.Discard)
	if err := app.Run([]string{"box", "--help"}); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	common, mgmt, rest := strings.Index(help, "\nCommon Commands:\n"), strings.Index(help, "\nManagement Commands:\n"), strings.Index(help, "\nCommands:\n")
	if common < 0 || mgmt < common || rest < mgmt {
		t.Fatalf("headings missing or out of Docker's order:\n%s", help)
	}
	section := func(from, to int) []string {
		var names []string
		for _, line := range strings.Split(help[from:to], "\n")[2:] {
			if f := strings.Fields(line); len(f) > 0 {
				names = append(names, f[0])
			}
		}
		return names
	}
	if got := section(common, mgmt); !slices.Equal(got, commonCommands) {
		t.Errorf("common commands %q, want %q", got, commonCommands)
	}
	for _, n := range []string{"container", "image", "network", "system", "volume"} {
		if !slices.Contains(section(mgmt, rest), n) {
			t.Errorf("%s is not under Management Commands:\n%s", n, help)
		}
	}
	end := strings.Index(help, "\nGlobal Options:")
	cmds := section(rest, end)
	if !slices.IsSorted(cmds) || !slices.Contains(cmds, "attach") || slices.Contains(cmds, "run") {
		t.Errorf("Commands %q should hold the rest, sorted", cmds)
	}
	if !strings.Contains(help, "--version, -v") {
		t.Errorf("no --version in the global options:\n%s", help)
	}
}

func TestIsSystemCheck(t *testing.T) {
	for args, want := range map[string]bool{
		"box system check":                   true,
		"box --root /r system check":         true,
		"box --log-level debug system check": true,
		"box system":                         false,
		"box system df":                      false,
		"box --root system check":            false, // "system" is --root's value
		"box check system":                   false,
	} {
		if got := isSystemCheck(strings.Fields(args)); got != want {
			t.Errorf("isSystemCheck(%q) = %v, want %v", args, got, want)
		}
	}
}
