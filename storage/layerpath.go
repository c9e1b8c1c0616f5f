package storage

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync/atomic"

	"go.podman.io/image/v5/pkg/compression"
)

// What box lets into a layer.
//
// A layer is a tar of paths relative to the root of the image. The store
// unpacks it inside the layer's directory whatever it says, but it also
// keeps the entry names as they were, and an image leaves the store (save,
// push) by joining those names onto the layer's directory again. So a name
// that climbs out with "..", or one that reaches a file through a symbolic
// link the same layer made ("esc -> /dev" and then "esc/zero"), is refused
// before any of the layer is stored, at pull, load and import alike, as
// Docker refuses such layers. Hard link targets obey the same rules, and
// so do overlay's own extended attributes (trusted.overlay.*,
// user.overlay.*), which a layer must never set: the kernel would take
// them for the store's whiteouts and redirects.
//
// A symbolic link itself may point anywhere ("lib -> /usr/lib" is
// ordinary); what is refused is a later entry that goes through it.

// ErrRefusedLayer marks a layer box refuses to store: an entry that
// would lead out of it, or a media type that is no layer's.
var ErrRefusedLayer = errors.New("layer refused")

// LayerEntryError names the entry that made a layer unacceptable.
type LayerEntryError struct {
	// Layer says which layer, as the caller knows it (a digest, an
	// archive member); empty for the one layer of an import.
	Layer  string
	Entry  string // the entry's name as the tar has it
	Reason string
	// Fix says what the user can do about it, when anything.
	Fix string
}

// Hint says how to make the layer acceptable, or "".
func (e *LayerEntryError) Hint() string { return e.Fix }

func (e *LayerEntryError) Error() string {
	msg := fmt.Sprintf("entry %q %s", e.Entry, e.Reason)
	if e.Layer != "" {
		msg = "layer " + e.Layer + ": " + msg
	}
	return msg + ": refused"
}

func (e *LayerEntryError) Unwrap() error { return ErrRefusedLayer }

// cleanLayerPath returns name as a clean path relative to the layer's
// root ("." for the root itself), and false when some ".." in it would
// climb above the root. A leading "/" or "./" means the root, as for
// every unpacker.
func cleanLayerPath(name string) (string, bool) {
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", false
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return ".", true
	}
	return strings.Join(parts, "/"), true
}

// layerChecker checks the entries of one layer in order. The zero value
// is ready to use.
type layerChecker struct {
	layer string
	// symlinks holds the paths this layer has made symbolic links, made
	// the paths of its other entries that are not directories.
	symlinks, made map[string]bool
}

// overlayXattrPrefixes are the extended attributes overlayfs reads as its
// own, in the PAX records a tar carries them in.
var overlayXattrPrefixes = []string{"SCHILY.xattr.trusted.overlay.", "SCHILY.xattr.user.overlay."}

// check refuses h if it climbs out of the layer, goes through a symbolic
// link an earlier entry made, or sets overlay's extended attributes.
func (c *layerChecker) check(h *tar.Header) error {
	refuse := func(format string, a ...any) error {
		return &LayerEntryError{Layer: c.layer, Entry: h.Name, Reason: fmt.Sprintf(format, a...)}
	}
	name, ok := cleanLayerPath(h.Name)
	if !ok {
		return refuse("climbs outside the layer with ..")
	}
	if link := c.underSymlink(h.Name); link != "" {
		return refuse("lies under %q, a symbolic link in the same layer", link)
	}
	if h.Typeflag == tar.TypeLink {
		target, ok := cleanLayerPath(h.Linkname)
		if !ok {
			return refuse("is a hard link to %q, outside the layer", h.Linkname)
		}
		if link := c.underSymlink(h.Linkname); link != "" {
			return refuse("is a hard link to %q, under %q, a symbolic link in the same layer", h.Linkname, link)
		}
		// The store unpacks a layer on its own, so a hard link can only
		// reach what the same layer made before it.
		if !c.made[target] && !c.symlinks[target] {
			return refuse("is a hard link to %q, which no earlier entry of the layer made", h.Linkname)
		}
	}
	if err := checkOwner(c.layer, h.Name, h.Uid, h.Gid); err != nil {
		return err
	}
	for key := range h.PAXRecords {
		for _, p := range overlayXattrPrefixes {
			if strings.HasPrefix(key, p) {
				return refuse("sets overlay's extended attribute %s", strings.TrimPrefix(key, "SCHILY.xattr."))
			}
		}
	}
	c.record(name, h.Typeflag)
	return nil
}

// underSymlink returns the first path that name (as the tar has it, "..",
// and all) goes through as a parent and this layer made a symbolic link,
// or "".
func (c *layerChecker) underSymlink(name string) string {
	if len(c.symlinks) == 0 {
		return ""
	}
	var parts []string
	for _, comp := range strings.Split(name, "/") {
		if comp == "" || comp == "." {
			continue
		}
		if len(parts) > 0 {
			if parent := strings.Join(parts, "/"); c.symlinks[parent] {
				return parent
			}
		}
		if comp == ".." {
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		parts = append(parts, comp)
	}
	return ""
}

// record notes what an entry made of name: a later entry replaces an
// earlier one, and a whiteout removes it. An opaque directory hides only
// the layers below: what this layer put in it stays.
func (c *layerChecker) record(name string, typ byte) {
	if c.symlinks == nil {
		c.symlinks, c.made = map[string]bool{}, map[string]bool{}
	}
	dir, base := path.Split(name)
	switch {
	case base == ".wh..wh..opq":
	case strings.HasPrefix(base, ".wh."):
		gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
		delete(c.symlinks, gone)
		delete(c.made, gone)
	case typ == tar.TypeSymlink:
		c.symlinks[name] = true
		delete(c.made, name)
	case typ == tar.TypeDir:
		delete(c.symlinks, name)
		delete(c.made, name)
	default:
		delete(c.symlinks, name)
		c.made[name] = true
	}
}

// checkLayerTar reads a whole layer (a tar, possibly compressed) and
// returns the first entry check refuses, a *LayerEntryError naming layer.
// Errors reading the tar itself come back as they are.
func checkLayerTar(r io.Reader, layer string) error {
	dr, _, err := compression.AutoDecompress(r)
	if err != nil {
		return err
	}
	defer dr.Close()
	c := layerChecker{layer: layer}
	tr := tar.NewReader(dr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.check(h); err != nil {
			return err
		}
	}
}

// checkedLayerReader passes on the uncompressed tar of a layer read from
// r, every entry's header only after check accepted it: the store never
// sees a refused entry. Its Read returns the *LayerEntryError of a refused
// entry, and the source's own errors.
type checkedLayerReader struct {
	pr      *io.PipeReader
	refused atomic.Pointer[LayerEntryError]
}

// newCheckedLayerReader starts checking the layer in r (a tar, possibly
// compressed). The caller reads it to its end or closes it.
func newCheckedLayerReader(src io.Reader, layer string) (*checkedLayerReader, error) {
	dr, _, err := compression.AutoDecompress(src)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	r := &checkedLayerReader{pr: pr}
	go func() {
		err := forwardChecked(dr, pw, layer)
		dr.Close()
		var refused *LayerEntryError
		if errors.As(err, &refused) {
			r.refused.Store(refused)
		}
		pw.CloseWithError(err)
	}()
	return r, nil
}

// Refused returns the entry the check refused, once a Read has failed
// for it; nil otherwise.
func (r *checkedLayerReader) Refused() error {
	if e := r.refused.Load(); e != nil {
		return e
	}
	return nil
}

func (r *checkedLayerReader) Read(p []byte) (int, error) { return r.pr.Read(p) }

// Close stops the check; a source still being read is abandoned.
func (r *checkedLayerReader) Close() error {
	return r.pr.CloseWithError(errors.New("layer reader closed"))
}

// heldReader keeps what is read through it until it is released.
type heldReader struct {
	r    io.Reader
	held []byte
}

func (h *heldReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.held = append(h.held, p[:n]...)
	return n, err
}

func (h *heldReader) release(w io.Writer) error {
	_, err := w.Write(h.held)
	h.held = h.held[:0]
	return err
}

// forwardChecked copies the tar in src to w, byte for byte, holding back
// each header until check has accepted it.
func forwardChecked(src io.Reader, w io.Writer, layer string) error {
	hr := &heldReader{r: src}
	tr := tar.NewReader(hr)
	c := layerChecker{layer: layer}
	buf := make([]byte, 32<<10)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := c.check(h); err != nil {
			return err
		}
		if err := hr.release(w); err != nil {
			return err
		}
		for {
			n, err := tr.Read(buf)
			if n > 0 {
				if err := hr.release(w); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	// The end-of-archive blocks, and whatever padding follows them.
	if err := hr.release(w); err != nil {
		return err
	}
	// Plain reads only: pgzip's WriteTo panics after the reads above.
	_, err := io.CopyBuffer(w, struct{ io.Reader }{src}, buf)
	return err
}
