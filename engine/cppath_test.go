package engine

import (
	"errors"
	"testing"
)

func TestPlanCopy(t *testing.T) {
	for _, c := range []struct {
		name      string
		src       copySource
		dst       copyDest
		dir, base string
		err       error
	}{
		{"file to new path", copySource{Path: "/a/f"}, copyDest{Path: "/b/g"}, "/b", "g", nil},
		{"file to new path asserting a directory", copySource{Path: "/a/f"}, copyDest{Path: "/b/g/"}, "", "", ErrDirNotExists},
		{"file to new path/. ", copySource{Path: "/a/f"}, copyDest{Path: "/b/g/."}, "", "", ErrDirNotExists},
		{"file over file", copySource{Path: "/a/f"}, copyDest{Path: "/b/g", Exists: true}, "/b", "g", nil},
		{"file into directory", copySource{Path: "/a/f"}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", "f", nil},
		{"file into directory/", copySource{Path: "/a/f"}, copyDest{Path: "/b/", Exists: true, IsDir: true}, "/b", "f", nil},
		{"directory to new path", copySource{Path: "/a/d", IsDir: true}, copyDest{Path: "/b/n"}, "/b", "n", nil},
		{"directory to new path/", copySource{Path: "/a/d", IsDir: true}, copyDest{Path: "/b/n/"}, "/b", "n", nil},
		{"directory over file", copySource{Path: "/a/d", IsDir: true}, copyDest{Path: "/b/f", Exists: true}, "", "", ErrCannotCopyDir},
		{"directory into directory", copySource{Path: "/a/d", IsDir: true}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", "d", nil},
		{"directory/ into directory", copySource{Path: "/a/d/", IsDir: true}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", "d", nil},
		{"directory/. into directory", copySource{Path: "/a/d/.", IsDir: true}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", ".", nil},
		{"directory/. to new path", copySource{Path: "/a/d/.", IsDir: true}, copyDest{Path: "/b/n"}, "/b", "n", nil},
		{"root into directory", copySource{Path: "/", IsDir: true}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", ".", nil},
		{"followed link into directory", copySource{Path: "/a/link", RebaseName: "link"}, copyDest{Path: "/b", Exists: true, IsDir: true}, "/b", "link", nil},
		{"into the root", copySource{Path: "/a/f"}, copyDest{Path: "/", Exists: true, IsDir: true}, "/", "f", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, base, err := planCopy(c.src, c.dst)
			if !errors.Is(err, c.err) || dir != c.dir || base != c.base {
				t.Fatalf("planCopy = %q, %q, %v; want %q, %q, %v", dir, base, err, c.dir, c.base, c.err)
			}
		})
	}
}

func TestAbsPath(t *testing.T) {
	for _, c := range []struct{ cwd, p, want string }{
		{"/home/u", "f", "/home/u/f"},
		{"/home/u", "d/", "/home/u/d/"},
		{"/home/u", "d/.", "/home/u/d/."},
		{"/home/u", ".", "/home/u/."},
		{"/home/u", "", "/home/u/."}, // as Docker: an empty path is the directory's contents
		{"/", "/etc//hosts", "/etc/hosts"},
		{"/", "/", "/"},
		{"/", "/.", "/."},
		{"/", "tmp/x/../y/", "/tmp/y/"},
	} {
		if got := absPath(c.cwd, c.p); got != c.want {
			t.Errorf("absPath(%q, %q) = %q, want %q", c.cwd, c.p, got, c.want)
		}
	}
}

func TestArchiveName(t *testing.T) {
	for p, want := range map[string]string{"/a/b": "b", "/a/b/": "b", "/a/b/.": ".", "/": ".", "/.": "."} {
		if got := archiveName(copySource{Path: p}); got != want {
			t.Errorf("archiveName(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestEntryPath(t *testing.T) {
	for name, want := range map[string]string{
		"a/b": "a/b", "./a/": "a", "/etc/x": "etc/x", ".": "", "./": "", "a/../b": "b",
	} {
		got, err := entryPath(name)
		if err != nil || got != want {
			t.Errorf("entryPath(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"..", "../x", "a/../../x"} {
		if _, err := entryPath(name); err == nil {
			t.Errorf("entryPath(%q) let the entry climb out", name)
		}
	}
}
