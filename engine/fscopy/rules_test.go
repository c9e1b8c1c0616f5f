package fscopy

import (
	"errors"
	"testing"
)

func TestPlanCopy(t *testing.T) {
	for _, c := range []struct {
		name      string
		src       Source
		dst       Dest
		dir, base string
		err       error
	}{
		{"file to new path", Source{Path: "/a/f"}, Dest{Path: "/b/g"}, "/b", "g", nil},
		{"file to new path asserting a directory", Source{Path: "/a/f"}, Dest{Path: "/b/g/"}, "", "", ErrDirNotExists},
		{"file to new path/. ", Source{Path: "/a/f"}, Dest{Path: "/b/g/."}, "", "", ErrDirNotExists},
		{"file over file", Source{Path: "/a/f"}, Dest{Path: "/b/g", Exists: true}, "/b", "g", nil},
		{"file into directory", Source{Path: "/a/f"}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", "f", nil},
		{"file into directory/", Source{Path: "/a/f"}, Dest{Path: "/b/", Exists: true, IsDir: true}, "/b", "f", nil},
		{"directory to new path", Source{Path: "/a/d", IsDir: true}, Dest{Path: "/b/n"}, "/b", "n", nil},
		{"directory to new path/", Source{Path: "/a/d", IsDir: true}, Dest{Path: "/b/n/"}, "/b", "n", nil},
		{"directory over file", Source{Path: "/a/d", IsDir: true}, Dest{Path: "/b/f", Exists: true}, "", "", ErrCannotCopyDir},
		{"directory into directory", Source{Path: "/a/d", IsDir: true}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", "d", nil},
		{"directory/ into directory", Source{Path: "/a/d/", IsDir: true}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", "d", nil},
		{"directory/. into directory", Source{Path: "/a/d/.", IsDir: true}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", ".", nil},
		{"directory/. to new path", Source{Path: "/a/d/.", IsDir: true}, Dest{Path: "/b/n"}, "/b", "n", nil},
		{"root into directory", Source{Path: "/", IsDir: true}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", ".", nil},
		{"followed link into directory", Source{Path: "/a/link", RebaseName: "link"}, Dest{Path: "/b", Exists: true, IsDir: true}, "/b", "link", nil},
		{"into the root", Source{Path: "/a/f"}, Dest{Path: "/", Exists: true, IsDir: true}, "/", "f", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, base, err := Plan(c.src, c.dst)
			if !errors.Is(err, c.err) || dir != c.dir || base != c.base {
				t.Fatalf("Plan = %q, %q, %v; want %q, %q, %v", dir, base, err, c.dir, c.base, c.err)
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
		if got := AbsPath(c.cwd, c.p); got != c.want {
			t.Errorf("AbsPath(%q, %q) = %q, want %q", c.cwd, c.p, got, c.want)
		}
	}
}

func TestArchiveName(t *testing.T) {
	for p, want := range map[string]string{"/a/b": "b", "/a/b/": "b", "/a/b/.": ".", "/": ".", "/.": "."} {
		if got := ArchiveName(Source{Path: p}); got != want {
			t.Errorf("ArchiveName(%q) = %q, want %q", p, got, want)
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
