package fscopy

import (
	"errors"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Transfer copies top (opened O_PATH) under name into dir of t, through a
// tar stream: the one way files go in, whether from the other tree or
// from an archive.
func Transfer(top *os.File, name string, t Tree, dir string, owner Ownership) error {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := Archive(pw, top, name)
		pw.CloseWithError(err)
		written <- err
	}()
	err := Extract(pr, t, dir, owner)
	pr.CloseWithError(errors.New("extraction ended"))
	if werr := <-written; err == nil && werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		err = werr
	}
	return err
}

// Archive writes top (opened O_PATH, not following a symlink) and, for a
// directory, everything below it, to w as a tar stream under name; an
// empty name leaves the top itself out and names its contents from the
// archive's root. Pseudo file systems (/proc, /sys) are left out.
func Archive(w io.Writer, top *os.File, name string) error {
	tw := newTarWriter(w)
	if err := tw.write(top, name); err != nil {
		return err
	}
	return tw.Close()
}

// OpenSource opens what a copy reads, p in t: not following a symlink at
// its end unless follow is set or p ends with "/" or "/.". The file comes
// back opened O_PATH; the caller closes it.
func OpenSource(t Tree, p string, follow bool) (*os.File, Source, error) {
	var f *os.File
	var err error
	if follow || assertsDirectory(p) {
		f, err = t.open(p, unix.O_PATH)
	} else {
		f, err = t.lopen(p)
	}
	if err != nil {
		return nil, Source{}, err
	}
	st, err := fstat(f)
	if err != nil {
		f.Close()
		return nil, Source{}, err
	}
	src := Source{Path: p, IsDir: isDir(st)}
	if follow && !assertsDirectory(p) && path.Clean(p) != "/" {
		src.RebaseName = path.Base(path.Clean(p))
	}
	return f, src, nil
}

// StatDest finds out what is at a copy's destination, following symlinks
// at its end. A destination below something that is not a directory does
// not exist; extracting there then fails.
func StatDest(t Tree, p string) (Dest, error) {
	resolved, err := t.resolveLinks(p)
	if err != nil {
		return Dest{}, err
	}
	d := Dest{Path: resolved}
	f, err := t.open(resolved, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	defer f.Close()
	st, err := fstat(f)
	if err != nil {
		return d, err
	}
	d.Exists, d.IsDir = true, isDir(st)
	return d, nil
}
