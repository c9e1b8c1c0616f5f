package commands

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"box/engine"
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
	// web runs: its record names this test process as its monitor and init.
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))[19]
	self := fmt.Sprintf(`{"pid":%d,"start":%s}`, os.Getpid(), start)
	write(filepath.Join(root, "overlay-containers", "c1", "userdata", "box.json"),
		`{"id":"c1","name":"web","started_at":"2026-01-01T00:00:00Z","monitor":`+self+`,"init":`+self+`}`)
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
		{[]string{"stop", "-t", "3", ""}, []string{"web"}},
		{[]string{"container", "start", ""}, []string{"scratch", "worker"}},
		{[]string{"exec", "-it", "w"}, []string{"web"}},
		{[]string{"exec", "web", ""}, nil},
		{[]string{"rmi", ""}, []string{"alpine:latest", "example.com:5000/team/app:v1"}},
		{[]string{"image", "rm", "al"}, []string{"alpine:latest"}},
		{[]string{"run", "--rm", "al"}, []string{"alpine:latest"}},
		{[]string{"run", "alpine", "sh", ""}, nil},
		{[]string{"run", "--network", "b"}, []string{"backend", "bridge"}},
		{[]string{"run", "-v", ""}, []string{"data", ":files"}},
		{[]string{"run", "--env-file", ""}, []string{":files"}},
		{[]string{"cp", ""}, []string{":files"}},
		{[]string{"stop", "x"}, nil},
		{[]string{"network", "rm", ""}, []string{"backend", "bridge", "host", "none"}},
		{[]string{"volume", "rm", ""}, []string{"data"}},
		{[]string{"rm", "--for"}, []string{"--force"}},
		{[]string{"nosuchverb", ""}, nil},
	} {
		got := complete(app, engine.Options{}, append(slices.Clone(globals), tc.words...))
		if !slices.Equal(got, tc.want) {
			t.Errorf("complete %q = %q, want %q", tc.words, got, tc.want)
		}
	}
	// Hidden verbs stay hidden.
	if got := complete(app, engine.Options{}, []string{"__"}); len(got) != 0 {
		t.Errorf("complete __ = %q, want nothing", got)
	}
}
