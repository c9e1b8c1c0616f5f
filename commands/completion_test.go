package commands

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestComplete drives `box __complete` over a store laid out as
// containers/storage and box lay it out, in both spellings of the verbs.
func TestComplete(t *testing.T) {
	root, runRoot := t.TempDir(), t.TempDir()
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "overlay-containers", "containers.json"), `[{"id":"c1","names":["web"]},{"id":"c2","names":["worker"]}]`)
	write(filepath.Join(runRoot, "overlay-containers", "volatile-containers.json"), `[{"id":"c3","names":["scratch"]}]`)
	write(filepath.Join(root, "overlay-images", "images.json"),
		`[{"id":"i1","names":["docker.io/library/alpine:latest","example.com:5000/team/app:v1"]}]`)
	write(filepath.Join(root, "networks.json"), `[{"name":"backend"}]`)
	write(filepath.Join(root, "volumes", "data", "volume.json"), `{}`)
	app := newApp(io.Discard, io.Discard)
	globals := []string{"--root", root, "--runroot", runRoot}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"ru"}, []string{"run"}},
		{[]string{"container", "ru"}, []string{"run"}},
		{[]string{"rm", ""}, []string{"scratch", "web", "worker"}},
		{[]string{"container", "rm", "w"}, []string{"web", "worker"}},
		{[]string{"stop", "-t", "3", "we"}, []string{"web"}},
		{[]string{"rmi", ""}, []string{"alpine:latest", "example.com:5000/team/app:v1"}},
		{[]string{"image", "rm", "al"}, []string{"alpine:latest"}},
		{[]string{"run", "--rm", "al"}, []string{"alpine:latest"}},
		{[]string{"run", "alpine", "sh", ""}, nil},
		{[]string{"run", "--network", "b"}, []string{"backend", "bridge"}},
		{[]string{"run", "-v", ""}, []string{"data"}},
		{[]string{"network", "rm", ""}, []string{"backend", "bridge", "host", "none"}},
		{[]string{"volume", "rm", ""}, []string{"data"}},
		{[]string{"rm", "--for"}, []string{"--force"}},
		{[]string{"nosuchverb", ""}, nil},
	} {
		got := complete(app, append(slices.Clone(globals), tc.words...))
		if !slices.Equal(got, tc.want) {
			t.Errorf("complete %q = %q, want %q", tc.words, got, tc.want)
		}
	}
	// Hidden verbs stay hidden.
	if got := complete(app, []string{"__"}); len(got) != 0 {
		t.Errorf("complete __ = %q, want nothing", got)
	}
}
