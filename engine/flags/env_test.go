package flags

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseEnv(t *testing.T) {
	p := writeFile(t, "# c\n\nA=1\n  B=two words\nPASSED\n\t# indented comment\nA=from-file\n")
	for _, c := range []struct {
		env, files []string
		want       []string
	}{
		{nil, nil, nil},
		{[]string{"X=1", "Y"}, nil, []string{"X=1", "Y"}},
		// Files first, so that -e wins where both set a key.
		{[]string{"A=flag"}, []string{p}, []string{"A=1", "B=two words", "PASSED", "A=from-file", "A=flag"}},
	} {
		got, err := ParseEnv(c.env, c.files)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("-e %q --env-file %q: got %q, %v; want %q", c.env, c.files, got, err, c.want)
		}
	}
	for _, c := range []struct{ content, want string }{
		{"BAD KEY=1\n", `line 1: key "BAD KEY" contains whitespace or is empty`},
		{"OK=1\n=v\n", `line 2: key "" contains whitespace or is empty`},
	} {
		var ue *UsageError
		if _, err := ParseEnv(nil, []string{writeFile(t, c.content)}); !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error about %q", c.content, err, c.want)
		}
	}
	var ue *UsageError
	if _, err := ParseEnv(nil, []string{"/does/not/exist"}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "open env file") {
		t.Errorf("missing file: got %v", err)
	}
}

func TestParseLabels(t *testing.T) {
	p := writeFile(t, "# labels\na=file\nb=1\n")
	for _, c := range []struct {
		labels, files []string
		want          map[string]string
	}{
		{nil, nil, nil},
		{[]string{"k"}, nil, map[string]string{"k": ""}},
		{[]string{"a=flag", "c=x=y"}, []string{p}, map[string]string{"a": "flag", "b": "1", "c": "x=y"}},
	} {
		got, err := ParseLabelsAndFiles(c.labels, c.files)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("--label %q --label-file %q: got %v, %v; want %v", c.labels, c.files, got, err, c.want)
		}
	}
	for _, c := range []struct{ labels, files []string }{
		{[]string{"=v"}, nil},
		{nil, []string{writeFile(t, "bad key=1\n")}},
		{nil, []string{"/does/not/exist"}},
	} {
		var ue *UsageError
		if _, err := ParseLabelsAndFiles(c.labels, c.files); !errors.As(err, &ue) || !strings.Contains(err.Error(), "label") {
			t.Errorf("--label %q --label-file %q: got %v", c.labels, c.files, err)
		}
	}
}
