package build

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"

	"box/storage"
)

// NotFoundError is a COPY or ADD source that is not in the build context
// (or the stage) or that .dockerignore excludes.
type NotFoundError struct{ Source, Where string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: not found in the %s or excluded by .dockerignore", e.Source, e.Where)
}

// copyRequest is one COPY or ADD after variable substitution.
type copyRequest struct {
	sources []string
	// dest as written, relative to workdir unless absolute.
	dest, workdir string
	uid, gid      int
	chown         bool // uid and gid given: also for the directories made
	mode          *uint32
	// unpack extracts local tar archives (ADD).
	unpack bool
	// inline are files written from heredocs (COPY <<EOF), copied after
	// the sources and never unpacked; inlineDir holds them.
	inline    []string
	inlineDir string
}

// entry is one file the step writes into its layer.
type entry struct {
	src  string // path on the host; "" for a directory made by the step
	dst  string // absolute path in the image
	info fs.FileInfo
	// archive: src is a tar to extract at dst.
	archive bool
}

// zeroTime stands for every modification time in a cache key.
var zeroTime = time.Unix(0, 0)

// hasWildcard says whether a source is a pattern (Docker's path.Match).
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?[") }

// destPath is where a COPY's dest points in the image, and whether it
// names a directory by its trailing slash.
func destPath(dest, workdir string) (string, bool) {
	dir := strings.HasSuffix(dest, "/") || dest == "." || strings.HasSuffix(dest, "/.")
	if !path.IsAbs(dest) {
		dest = path.Join("/", workdir, dest)
	}
	return path.Clean(dest), dir
}

// plan lists what a COPY writes, following Docker's rules: a directory's
// contents (not the directory) go into dest; a file goes to dest itself
// unless dest ends in "/" or is a directory in the image (isDir), then to
// dest/NAME; several sources need a dest that ends in "/".
func plan(t *tree, req copyRequest, isDir func(string) bool) ([]entry, error) {
	type found struct {
		abs    string
		info   fs.FileInfo
		inline bool
	}
	var srcs []found
	for _, s := range req.sources {
		rel, err := relative(s)
		if err != nil {
			return nil, err
		}
		var matches []string
		if hasWildcard(rel) {
			if matches, err = filepath.Glob(filepath.Join(t.root, rel)); err != nil {
				return nil, fmt.Errorf("%s: %w", s, err)
			}
			sort.Strings(matches)
		} else {
			matches = []string{filepath.Join(t.root, rel)}
		}
		n := 0
		for _, m := range matches {
			r, _ := filepath.Rel(t.root, m)
			if t.excluded(r) {
				continue
			}
			// Symbolic links among the sources are followed, within the tree.
			abs, err := securejoin.SecureJoin(t.root, r)
			if err != nil {
				return nil, err
			}
			info, err := os.Stat(abs)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, found{abs, info, false})
			n++
		}
		if n == 0 {
			return nil, &NotFoundError{Source: s, Where: t.name}
		}
	}
	for _, name := range req.inline {
		abs := filepath.Join(req.inlineDir, name)
		info, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, found{abs, info, true})
	}
	dest, destDir := destPath(req.dest, req.workdir)
	if len(srcs) > 1 && !destDir {
		return nil, fmt.Errorf("when using COPY with more than one source file, the destination must be a directory and end with a /")
	}
	var out []entry
	for _, s := range srcs {
		switch {
		case s.info.IsDir():
			if req.chown || !isDir(dest) {
				out = append(out, entry{src: s.abs, dst: dest, info: s.info})
			}
			err := filepath.Walk(s.abs, func(p string, info fs.FileInfo, err error) error {
				if err != nil {
					return err
				}
				if p == s.abs {
					return nil
				}
				r, _ := filepath.Rel(t.root, p)
				if t.excluded(r) {
					if info.IsDir() && (t.ignore == nil || !t.ignore.Exclusions()) {
						return filepath.SkipDir
					}
					return nil
				}
				inner, _ := filepath.Rel(s.abs, p)
				out = append(out, entry{src: p, dst: path.Join(dest, filepath.ToSlash(inner)), info: info})
				return nil
			})
			if err != nil {
				return nil, err
			}
		case req.unpack && !s.inline && isArchive(s.abs):
			out = append(out, entry{src: s.abs, dst: dest, info: s.info, archive: true})
		default:
			d := dest
			if destDir || isDir(dest) {
				d = path.Join(dest, s.info.Name())
			}
			out = append(out, entry{src: s.abs, dst: d, info: s.info})
		}
	}
	return out, nil
}

// isArchive says whether a file is a tar archive, compressed or not.
func isArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	rc, err := archive.DecompressStream(f)
	if err != nil {
		return false
	}
	defer rc.Close()
	_, err = tar.NewReader(rc).Next()
	return err == nil
}

// layerWriter writes a step's entries as a layer tar. With forKey it
// leaves modification times out: the cache key is the content, names,
// modes and owners.
type layerWriter struct {
	req     copyRequest
	rootfs  string // the image's files, to keep the attributes of existing parents; "" when none
	forKey  bool
	written map[string]bool
	// links are the regular files with more than one link written so
	// far, by device and inode: another name of one is written as a
	// hard link to it, as BuildKit keeps them.
	links map[[2]uint64]string
}

func (lw *layerWriter) write(w io.Writer, entries []entry) error {
	tw := tar.NewWriter(w)
	lw.written = map[string]bool{}
	lw.links = map[[2]uint64]string{}
	for _, e := range entries {
		if err := lw.parents(tw, path.Dir(e.dst)); err != nil {
			return err
		}
		var err error
		if e.archive {
			err = lw.extract(tw, e)
		} else {
			err = lw.file(tw, e)
		}
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// parents writes the directories above dir, as the image has them or as
// new ones: a layer applied without them would get them with default
// attributes, hiding the image's (a 1777 /tmp).
func (lw *layerWriter) parents(tw *tar.Writer, dir string) error {
	if dir == "/" || dir == "." || lw.written[dir] {
		return nil
	}
	if err := lw.parents(tw, path.Dir(dir)); err != nil {
		return err
	}
	lw.written[dir] = true
	h := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755}
	if lw.rootfs != "" {
		if info, err := os.Lstat(filepath.Join(lw.rootfs, dir)); err == nil && info.IsDir() {
			h.Mode = int64(unixMode(info.Mode()))
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				h.Uid, h.Gid = int(st.Uid), int(st.Gid)
			}
			h.ModTime = info.ModTime()
		}
	}
	if lw.forKey {
		h.ModTime = zeroTime
	}
	return lw.writeHeader(tw, h)
}

func (lw *layerWriter) file(tw *tar.Writer, e entry) error {
	if lw.written[e.dst] {
		return nil
	}
	lw.written[e.dst] = true
	link := ""
	if e.info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(e.src); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(e.info, link)
	if err != nil {
		return err
	}
	h.Name = strings.TrimPrefix(e.dst, "/")
	if e.info.IsDir() {
		h.Name += "/"
	}
	h.Uid, h.Gid, h.Uname, h.Gname = lw.req.uid, lw.req.gid, "", ""
	h.Mode = int64(unixMode(e.info.Mode()))
	if lw.req.mode != nil && e.info.Mode()&fs.ModeSymlink == 0 {
		h.Mode = int64(*lw.req.mode)
	}
	h.Format = tar.FormatPAX
	h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
	if lw.forKey {
		h.ModTime = zeroTime
	}
	if st, ok := e.info.Sys().(*syscall.Stat_t); ok && e.info.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := lw.links[key]; ok {
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
			return lw.writeHeader(tw, h)
		}
		lw.links[key] = h.Name
	}
	if err := lw.writeHeader(tw, h); err != nil {
		return err
	}
	if !e.info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// writeHeader writes h, unless its owner is one the store could not make
// (beyond the user's subordinate ids): that is refused now, naming the
// file, rather than when the step's layer is stored.
func (lw *layerWriter) writeHeader(tw *tar.Writer, h *tar.Header) error {
	if err := storage.CheckLayerOwner(h.Name, h.Uid, h.Gid); err != nil {
		return err
	}
	return tw.WriteHeader(h)
}

// extract writes the members of a local archive under dst (ADD).
func (lw *layerWriter) extract(tw *tar.Writer, e entry) error {
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, err := archive.DecompressStream(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(e.src), err)
		}
		name := path.Join(e.dst, path.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeLink {
			// The step's layer can link only to what it holds itself: a
			// link to anything else (above all a ../ or absolute one,
			// which would lead out of the archive) fails when the layer is
			// stored, as "no such file or directory", so it is refused
			// here with its name and why.
			target := path.Join(e.dst, path.Clean("/"+h.Linkname))
			if !lw.written[target] || target == name {
				return fmt.Errorf("extract %s: entry %q is a hard link to %q, which no earlier entry of the archive made: refused", filepath.Base(e.src), h.Name, h.Linkname)
			}
			h.Linkname = strings.TrimPrefix(target, "/")
		}
		if err := lw.parents(tw, path.Dir(name)); err != nil {
			return err
		}
		lw.written[name] = true
		h.Name = strings.TrimPrefix(name, "/")
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if lw.req.chown {
			h.Uid, h.Gid, h.Uname, h.Gname = lw.req.uid, lw.req.gid, "", ""
		}
		h.AccessTime, h.ChangeTime, h.Format = time.Time{}, time.Time{}, tar.FormatPAX
		if lw.forKey {
			h.ModTime = zeroTime
		}
		if err := lw.writeHeader(tw, h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// contentKey is the digest of what entries would write, without times.
func contentKey(req copyRequest, entries []entry) (string, error) {
	h := sha256.New()
	lw := &layerWriter{req: req, forKey: true}
	if err := lw.write(h, entries); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unixMode is a Go file mode as the permission bits of a tar header.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}
