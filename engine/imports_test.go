package engine

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineReachesTheStoreThroughStorage keeps the engine and its
// subpackages off go.podman.io/storage's store: containers' layers, names
// and directories are package storage's to hand out, with its own errors.
// The store's independent helpers (pkg/...) are allowed.
func TestEngineReachesTheStoreThroughStorage(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		files++
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "go.podman.io/storage" || strings.HasPrefix(p, "go.podman.io/storage/types") {
				t.Errorf("%s imports %s; use package storage's container API", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 30 {
		t.Fatalf("walked only %d Go files; is the test running in engine/?", files)
	}
}
