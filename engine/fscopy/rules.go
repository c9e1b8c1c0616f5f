package fscopy

import (
	"errors"
	"path"
	"strings"
)

// The rules of `docker cp` about what lands where, apart from any file
// system so that they can be read and tested on their own. Paths here
// are slash-separated and absolute in the terms of their side (the
// container's root, or the host's).

// Source is what a copy reads, as stat found it.
type Source struct {
	// Path is the path as the user gave it, made absolute; a trailing
	// "/" or "/." is kept, as it changes the meaning.
	Path  string
	IsDir bool
	// RebaseName is the name the source's top takes when it differs from
	// the last element of Path: a symlink followed with -L keeps the
	// link's name.
	RebaseName string
}

// Dest is where a copy writes, as stat found it (a symlink at the
// end of Path already followed).
type Dest struct {
	Path          string
	Exists, IsDir bool
}

// Errors of the copy rules, worded as Docker's archive package words them.
var (
	ErrCannotCopyDir = errors.New("cannot copy directory")
	ErrDirNotExists  = errors.New("no such directory")
)

// Plan applies Docker's rules (archive.PrepareArchiveCopy): it says
// which existing directory to extract into and which name the source's
// top takes there; "." means the source's contents go straight in.
func Plan(src Source, dst Dest) (dir, name string, err error) {
	dstDir, dstBase := SplitDirEntry(dst.Path)
	srcName := src.RebaseName
	if srcName == "" {
		srcName = ArchiveName(src)
	}
	switch {
	case dst.Exists && dst.IsDir:
		// Into the directory, under the source's own name (its contents
		// alone for "SRC/.").
		return path.Clean(dst.Path), srcName, nil
	case dst.Exists && src.IsDir:
		return "", "", ErrCannotCopyDir
	case dst.Exists, src.IsDir:
		// Over the file, or a new directory: under the destination's name.
		return dstDir, dstBase, nil
	case assertsDirectory(dst.Path):
		// A file cannot make the directory "DEST/" asks for.
		return "", "", ErrDirNotExists
	}
	return dstDir, dstBase, nil
}

// SplitDirEntry splits p into its directory and last element, keeping
// "." as the element of "DIR/." (archive.SplitPathDirEntry).
func SplitDirEntry(p string) (dir, base string) {
	clean := path.Clean(p)
	if specifiesCurrentDir(p) {
		clean += "/."
	}
	return path.Dir(clean), path.Base(clean)
}

// assertsDirectory says whether p insists on being a directory: it ends
// with "/" or "/.".
func assertsDirectory(p string) bool {
	return strings.HasSuffix(p, "/") || specifiesCurrentDir(p)
}

func specifiesCurrentDir(p string) bool { return path.Base(p) == "." }

// AbsPath makes p absolute under cwd, keeping a trailing "/" or "/."
// (archive.PreserveTrailingDotOrSeparator).
func AbsPath(cwd, p string) string {
	abs := p
	if !path.IsAbs(p) {
		abs = path.Join(cwd, p)
	} else {
		abs = path.Clean(p)
	}
	switch {
	case specifiesCurrentDir(p) && !specifiesCurrentDir(abs):
		if abs == "/" {
			return "/."
		}
		return abs + "/."
	case strings.HasSuffix(p, "/") && !strings.HasSuffix(abs, "/"):
		return abs + "/"
	}
	return abs
}

// ArchiveName is the name the top of a source takes in a tar stream of
// it: its last element, or "." for its contents ("DIR/." and "/").
func ArchiveName(src Source) string {
	if src.RebaseName != "" {
		return src.RebaseName
	}
	_, base := SplitDirEntry(src.Path)
	if base == "/" {
		return "."
	}
	return base
}

// entryPath cleans a tar entry's name into a path relative to where the
// archive is extracted ("" for that directory itself), refusing one that
// climbs out of it.
func entryPath(name string) (string, error) {
	clean := path.Clean(name)
	if path.IsAbs(clean) {
		clean = strings.TrimPrefix(path.Clean(clean), "/")
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", &archiveBreakoutError{Name: name}
	}
	if clean == "." || clean == "" {
		return "", nil
	}
	return clean, nil
}

// archiveBreakoutError is a tar entry that would land outside the
// directory it is extracted into.
type archiveBreakoutError struct{ Name string }

func (e *archiveBreakoutError) Error() string {
	return "invalid tar entry " + e.Name + ": it is outside of the extraction directory"
}
