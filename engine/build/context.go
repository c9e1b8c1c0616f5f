package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ErrOutsideContext marks a COPY or ADD source that leaves the build
// context ("../x").
var ErrOutsideContext = errors.New("forbidden path outside the build context")

// tree is a directory files are copied from: the build context, with its
// ignore rules, or the root file system of a stage or image.
type tree struct {
	root   string
	ignore *patternmatcher.PatternMatcher // nil: nothing is excluded
	name   string                         // "build context" or "stage NAME"
}

// openContext reads the build context's ignore file: <Dockerfile>.dockerignore
// beside the Dockerfile first, then .dockerignore, then .containerignore.
func openContext(dir, dockerfile string) (*tree, error) {
	t := &tree{root: dir, name: "build context"}
	var candidates []string
	if dockerfile != "" {
		candidates = append(candidates, dockerfile+".dockerignore")
	}
	candidates = append(candidates, filepath.Join(dir, ".dockerignore"), filepath.Join(dir, ".containerignore"))
	for _, p := range candidates {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if t.ignore, err = patternmatcher.New(patterns); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		break
	}
	return t, nil
}

// excluded says whether rel, a slash path relative to the tree's root,
// is left out by the ignore rules (a file under an excluded directory is
// excluded unless an exception names it).
func (t *tree) excluded(rel string) bool {
	if t.ignore == nil || rel == "." || rel == "" {
		return false
	}
	ok, err := t.ignore.MatchesOrParentMatches(filepath.ToSlash(rel))
	return err == nil && ok
}

// relative turns a source as written in the Dockerfile into a path
// relative to the tree's root; absolute sources are relative to it too,
// as Docker takes them. It refuses sources that leave the root.
func relative(src string) (string, error) {
	rel := filepath.Clean(strings.TrimPrefix(filepath.Clean("/"+src), "/"))
	if c := filepath.Clean(src); c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: %s", ErrOutsideContext, src)
	}
	if rel == "" {
		rel = "."
	}
	return rel, nil
}
