package build

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
)

func writeTree(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func dests(entries []entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.dst)
	}
	sort.Strings(out)
	return out
}

func TestPlanFollowsDockersDestinationRules(t *testing.T) {
	root := writeTree(t, "a.txt", "b.txt", "dir/x", "dir/sub/y", "c.cfg")
	tr := &tree{root: root, name: "build context"}
	imageDirs := map[string]bool{"/etc": true}
	isDir := func(p string) bool { return imageDirs[p] }
	for _, c := range []struct {
		name    string
		sources []string
		dest    string
		workdir string
		want    []string
	}{
		{"file to a file path", []string{"a.txt"}, "/x/y", "", []string{"/x/y"}},
		{"file to a trailing slash", []string{"a.txt"}, "/x/", "", []string{"/x/a.txt"}},
		{"file into a directory of the image", []string{"a.txt"}, "/etc", "", []string{"/etc/a.txt"}},
		{"relative dest under workdir", []string{"a.txt"}, "./", "/app", []string{"/app/a.txt"}},
		{"a directory's contents, not itself", []string{"dir"}, "/d", "", []string{"/d", "/d/sub", "/d/sub/y", "/d/x"}},
		{"wildcards", []string{"*.txt"}, "/w/", "", []string{"/w/a.txt", "/w/b.txt"}},
		{"absolute source is in the context", []string{"/a.txt"}, "/z", "", []string{"/z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := plan(tr, copyRequest{sources: c.sources, dest: c.dest, workdir: c.workdir}, isDir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dests(got), c.want) {
				t.Fatalf("got %v, want %v", dests(got), c.want)
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	root := writeTree(t, "a.txt", "b.txt", "secret")
	pm, err := patternmatcher.New([]string{"secret"})
	if err != nil {
		t.Fatal(err)
	}
	tr := &tree{root: root, name: "build context", ignore: pm}
	no := func(string) bool { return false }
	var nf *NotFoundError
	if _, err := plan(tr, copyRequest{sources: []string{"../x"}, dest: "/"}, no); !errors.Is(err, ErrOutsideContext) {
		t.Fatalf("../x: %v", err)
	}
	if _, err := plan(tr, copyRequest{sources: []string{"missing"}, dest: "/"}, no); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := plan(tr, copyRequest{sources: []string{"secret"}, dest: "/"}, no); !errors.As(err, &nf) {
		t.Fatalf("an excluded file is not found: %v", err)
	}
	if _, err := plan(tr, copyRequest{sources: []string{"*.nothing"}, dest: "/"}, no); !errors.As(err, &nf) {
		t.Fatalf("a pattern that matches nothing: %v", err)
	}
	if _, err := plan(tr, copyRequest{sources: []string{"a.txt", "b.txt"}, dest: "/x"}, no); err == nil {
		t.Fatal("several sources need a dest ending in /")
	}
}

func TestIgnoreRules(t *testing.T) {
	dir := writeTree(t)
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\nsecret*\n**/*.key\n!keep.key\nbuild/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := openContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"secret.txt":        true,
		"sub/secret.txt":    false, // no ** before it: only at the top
		"a/b/id.key":        true,
		"keep.key":          false,
		"build/out/x":       true,
		"public.txt":        false,
		"Dockerfile":        false,
		"sub/dir/other.txt": false,
	} {
		if got := tr.excluded(path); got != want {
			t.Errorf("excluded(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestContentKey(t *testing.T) {
	root := writeTree(t, "a.txt", "dir/x")
	tr := &tree{root: root, name: "build context"}
	no := func(string) bool { return false }
	key := func(req copyRequest) string {
		t.Helper()
		entries, err := plan(tr, req, no)
		if err != nil {
			t.Fatal(err)
		}
		k, err := contentKey(req, entries)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	req := copyRequest{sources: []string{"a.txt", "dir"}, dest: "/d/"}
	k1 := key(req)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, "a.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	if k2 := key(req); k2 != k1 {
		t.Fatal("a touched file with the same content should keep the key")
	}
	if err := os.WriteFile(filepath.Join(root, "dir/x"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	k3 := key(req)
	if k3 == k1 {
		t.Fatal("changed content should change the key")
	}
	owned := req
	owned.uid, owned.gid, owned.chown = 1, 1, true
	if key(owned) == k3 {
		t.Fatal("another owner should change the key")
	}
	if chain("p", "a", "b") == chain("p", "ab") || chain("p", "x") == chain("q", "x") {
		t.Fatal("chain keys must tell their parts and parents apart")
	}
}

func TestIgnoreFilePrecedence(t *testing.T) {
	dir := writeTree(t)
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".containerignore", "c\n")
	tr, err := openContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil || !tr.excluded("c") {
		t.Fatalf(".containerignore alone is read: %v", err)
	}
	write(".dockerignore", "d\n")
	if tr, _ = openContext(dir, filepath.Join(dir, "Dockerfile")); !tr.excluded("d") || tr.excluded("c") {
		t.Fatal(".dockerignore wins over .containerignore")
	}
	write("Build.file.dockerignore", "b\n")
	if tr, _ = openContext(dir, filepath.Join(dir, "Build.file")); !tr.excluded("b") || tr.excluded("d") {
		t.Fatal("<Dockerfile>.dockerignore wins over .dockerignore")
	}
}

func TestPlanInlineFiles(t *testing.T) {
	root := writeTree(t, "a.txt")
	inline := writeTree(t, "EOF", "b.tar")
	// A heredoc that happens to hold a tar is still a file: ADD never
	// unpacks heredocs.
	tarred := filepath.Join(inline, "b.tar")
	if err := os.WriteFile(tarred, []byte(tarHeader(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &tree{root: root, name: "build context"}
	no := func(string) bool { return false }
	got, err := plan(tr, copyRequest{dest: "/etc/motd", inline: []string{"EOF"}, inlineDir: inline}, no)
	if err != nil || !reflect.DeepEqual(dests(got), []string{"/etc/motd"}) {
		t.Fatalf("one heredoc to a file path: %v %v", dests(got), err)
	}
	got, err = plan(tr, copyRequest{sources: []string{"a.txt"}, dest: "/d/", unpack: true, inline: []string{"EOF", "b.tar"}, inlineDir: inline}, no)
	if err != nil || !reflect.DeepEqual(dests(got), []string{"/d/EOF", "/d/a.txt", "/d/b.tar"}) {
		t.Fatalf("a source and two heredocs into a directory: %v %v", dests(got), err)
	}
	for _, e := range got {
		if e.archive {
			t.Fatalf("%s: a heredoc is never unpacked", e.dst)
		}
	}
	if _, err := plan(tr, copyRequest{sources: []string{"a.txt"}, dest: "/d", inline: []string{"EOF"}, inlineDir: inline}, no); err == nil {
		t.Fatal("a source and a heredoc need a dest that ends in /")
	}
}

// tarHeader is a small tar archive with one empty file.
func tarHeader(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "x", Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestExpandHeredocs(t *testing.T) {
	env := []string{"A=one", "B=two words"}
	for _, c := range []struct{ dockerfile, want string }{
		{"COPY <<EOF /x\n$A \"${B}\" '$A' \\$A ${C:-dflt}\nEOF\n", "one \"two words\" 'one' $A dflt\n"},
		{"COPY <<'EOF' /x\n$A \"${B}\"\nEOF\n", "$A \"${B}\"\n"},
		{"ADD <<\"EOF\" /x\n$A\nEOF\n", "$A\n"},
		{"ADD <<-EOF /x\n\t$A\nEOF\n", "one\n"},
	} {
		res, err := parser.Parse(strings.NewReader(c.dockerfile))
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := instructions.ParseCommand(res.AST.Children[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := expandHeredocs(cmd, env); err != nil {
			t.Fatal(err)
		}
		var got string
		switch c := cmd.(type) {
		case *instructions.CopyCommand:
			got = c.SourceContents[0].Data
		case *instructions.AddCommand:
			got = c.SourceContents[0].Data
		}
		if got != c.want {
			t.Errorf("%q: heredoc %q, want %q", c.dockerfile, got, c.want)
		}
	}
}

// TestLayerKeepsHardLinks: names of one file in a copied directory stay
// one file in the layer, as BuildKit keeps them.
func TestLayerKeepsHardLinks(t *testing.T) {
	root := writeTree(t, "d/a", "d/other")
	for _, n := range []string{"b", "c"} {
		if err := os.Link(filepath.Join(root, "d/a"), filepath.Join(root, "d", n)); err != nil {
			t.Fatal(err)
		}
	}
	tr := &tree{root: root, name: "build context"}
	req := copyRequest{sources: []string{"d"}, dest: "/d"}
	entries, err := plan(tr, req, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&layerWriter{req: req}).write(&buf, entries); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	r := tar.NewReader(&buf)
	for {
		h, err := r.Next()
		if err != nil {
			break
		}
		switch h.Typeflag {
		case tar.TypeLink:
			got[h.Name] = "link to " + h.Linkname
		case tar.TypeReg:
			got[h.Name] = "file"
		}
	}
	want := map[string]string{"d/a": "file", "d/b": "link to d/a", "d/c": "link to d/a", "d/other": "file"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("layer holds %v, want %v", got, want)
	}
}
