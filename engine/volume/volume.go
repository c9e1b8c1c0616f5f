// Package volume owns box's local volumes: plain directories under the
// store's root, <root>/volumes/NAME/_data, each with a small metadata file
// beside its data. It knows nothing of containers: whether a volume is in
// use is the engine's question, asked while it holds this store's lock.
// It never prints.
package volume

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/lockfile"
	"go.podman.io/storage/pkg/unshare"
)

const (
	// Driver is the one volume driver box has: directories on the host.
	Driver = "local"
	// AnonymousLabel marks a volume made for a container's `-v /path` or
	// an image's VOLUME, with Docker's label for it.
	AnonymousLabel = "com.docker.volume.anonymous"

	dataDir  = "_data"
	metaFile = "volume.json"
	lockName = "volumes.lock"
)

// Volume is one volume as its metadata file describes it.
type Volume struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Labels    map[string]string `json:"labels,omitempty"`
	// Options are the local driver's options (ParseOptions): with a
	// bind device, the volume's data is that directory.
	Options map[string]string `json:"options,omitempty"`
	// Mountpoint is where the volume's data lives on the host.
	Mountpoint string `json:"-"`
}

// mountpoint is where the data of the volume whose directory is dir
// lives: its bind device, else its own data directory.
func (v *Volume) mountpoint(dir string) string {
	if d := v.Options["device"]; d != "" {
		return d
	}
	return filepath.Join(dir, dataDir)
}

// ParseOptions reads the local driver's -o KEY=VALUE options as Docker's
// local driver takes them for a bind: type=none, o=bind (with ro, rw,
// rbind or the propagation words beside it) and device=DIR, an existing
// absolute directory, which then holds the volume's data. Docker's other
// uses of the options mount a filesystem (tmpfs, nfs, a block device),
// which box's local volumes do not; they are refused by name.
func ParseOptions(opts []string) (map[string]string, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid volume option %q: want KEY=VALUE", o)
		}
		switch k {
		case "type", "o", "device":
			m[k] = v
		default:
			return nil, fmt.Errorf("invalid option key: %q", k)
		}
	}
	if t := m["type"]; t != "" && t != "none" && t != "bind" {
		return nil, fmt.Errorf("volume option type=%s: box's local volumes mount no filesystems; they take type=none,o=bind,device=DIR", t)
	}
	bind := false
	for _, w := range strings.Split(m["o"], ",") {
		switch w {
		case "bind", "rbind":
			bind = true
		case "", "ro", "rw", "private", "rprivate", "shared", "rshared", "slave", "rslave":
		default:
			return nil, fmt.Errorf("volume option o=%s: box's local volumes take the bind mount options only (bind, ro, rw)", m["o"])
		}
	}
	switch d := m["device"]; {
	case !bind:
		return nil, fmt.Errorf("volume options %q: box's local volumes take type=none,o=bind,device=DIR", opts)
	case d == "":
		return nil, errors.New("volume option o=bind needs device=DIR, the directory to bind")
	case !filepath.IsAbs(d):
		return nil, fmt.Errorf("volume option device=%s: the directory must be an absolute path", d)
	default:
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("volume option device=%s: no such directory", d)
		}
		m["device"] = filepath.Clean(d)
	}
	return m, nil
}

// ReadOnly says whether the options bind the device read-only.
func (v *Volume) ReadOnly() bool {
	for _, w := range strings.Split(v.Options["o"], ",") {
		if w == "ro" {
			return true
		}
	}
	return false
}

// Anonymous says whether the volume was made for one container alone.
func (v *Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// ErrNoSuchVolume marks a name that matches no volume.
var ErrNoSuchVolume = errors.New("no such volume")

// NoSuchVolumeError names what matched no volume.
type NoSuchVolumeError struct{ Name string }

func (e *NoSuchVolumeError) Error() string { return "No such volume: " + e.Name }
func (e *NoSuchVolumeError) Unwrap() error { return ErrNoSuchVolume }

// NameError is a volume name Docker would not accept.
type NameError struct{ Name string }

func (e *NameError) Error() string {
	if len(e.Name) == 1 && validChar(rune(e.Name[0]), true) {
		return fmt.Sprintf("invalid volume name %q: it is too short, names should be at least two alphanumeric characters", e.Name)
	}
	return fmt.Sprintf("invalid volume name %q: only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; to bind mount a host directory, give its absolute path", e.Name)
}

// CheckName applies Docker's rule for local volume names:
// [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at least).
func CheckName(name string) error {
	if len(name) < 2 {
		return &NameError{Name: name}
	}
	for i, c := range name {
		if !validChar(c, i == 0) {
			return &NameError{Name: name}
		}
	}
	return nil
}

func validChar(c rune, first bool) bool {
	ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	if !first {
		ok = ok || c == '_' || c == '.' || c == '-'
	}
	return ok
}

// NewName makes the 64-hex-digit name of a volume created without one.
func NewName() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Store is the volumes of one box store.
//
// Concurrency: every box invocation opens its own Store. Creating a
// volume is atomic on its own (the volume's directory is made complete
// under a temporary name and renamed into place), so creators need only
// the shared lock; removing one takes the exclusive lock. A container that
// is being set up holds the shared lock from the moment its volumes exist
// until its record names them, so removal, which asks who uses a volume
// under the exclusive lock, never takes a volume from under a new
// container.
type Store struct {
	dir  string
	lock *lockfile.LockFile
}

// Open opens the volumes kept under a store's root, creating their
// directory on first use.
func Open(root string) (*Store, error) {
	dir := filepath.Join(root, "volumes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open volumes: %w", err)
	}
	l, err := lockfile.GetLockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("open volumes: %w", err)
	}
	return &Store{dir: dir, lock: l}, nil
}

// Lock and Unlock hold the store exclusively: for removals.
func (s *Store) Lock()   { s.lock.Lock() }
func (s *Store) Unlock() { s.lock.Unlock() }

// RLock holds the store shared: for creating and mounting volumes.
// Unlock releases it.
func (s *Store) RLock() { s.lock.RLock() }

// Create makes a volume named name with labels, or returns the volume of
// that name that exists already (created false), as Docker's create does.
// It is safe against concurrent creators; the caller holds the shared
// lock, so that RemoveLeftovers never takes a creation under way.
func (s *Store) Create(name string, labels, options map[string]string) (v *Volume, created bool, err error) {
	if err := CheckName(name); err != nil {
		return nil, false, err
	}
	if v, err := s.Get(name); err == nil {
		return v, false, nil
	}
	tmp, err := os.MkdirTemp(s.dir, ".new-")
	if err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	v = &Volume{Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: labels, Options: options}
	if err := os.Mkdir(filepath.Join(tmp, dataDir), 0o755); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	// MkdirTemp's umask may narrow the mode; the data directory is the
	// mount's root, which container users other than root must reach.
	if err := os.Chmod(filepath.Join(tmp, dataDir), 0o755); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(tmp, metaFile), data, 0o600); err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	err = os.Rename(tmp, filepath.Join(s.dir, name))
	if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
		// Another invocation made it meanwhile: theirs stands.
		v, err := s.Get(name)
		return v, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create volume %s: %w", name, err)
	}
	v.Mountpoint = v.mountpoint(filepath.Join(s.dir, name))
	return v, true, nil
}

// Get reads the volume called name.
func (s *Store) Get(name string) (*Volume, error) {
	if CheckName(name) != nil {
		return nil, &NoSuchVolumeError{Name: name}
	}
	data, err := os.ReadFile(filepath.Join(s.dir, name, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NoSuchVolumeError{Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("read volume %s: %w", name, err)
	}
	var v Volume
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("read volume %s: %w", name, err)
	}
	v.Name = name
	v.Mountpoint = v.mountpoint(filepath.Join(s.dir, name))
	return &v, nil
}

// List returns every volume, sorted by name.
func (s *Store) List() ([]*Volume, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []*Volume
	for _, e := range entries {
		// Names start with a letter or digit: ".new-" and ".gone-"
		// directories are creations and removals under way.
		if !e.IsDir() || CheckName(e.Name()) != nil {
			continue
		}
		v, err := s.Get(e.Name())
		if errors.Is(err, ErrNoSuchVolume) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes a volume and its data. The caller holds the exclusive
// lock and has made sure no container uses it. The volume disappears at
// once (a rename); its data goes after.
func (s *Store) Remove(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	gone, err := os.MkdirTemp(s.dir, ".gone-")
	if err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	target := filepath.Join(gone, name)
	if err := os.Rename(filepath.Join(s.dir, name), target); err != nil {
		_ = os.Remove(gone)
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// RemoveLeftovers removes what creations and removals that were
// interrupted (a killed box) left in the volumes directory. The caller
// holds the exclusive lock, so none is under way.
func (s *Store) RemoveLeftovers() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && (strings.HasPrefix(n, ".new-") || strings.HasPrefix(n, ".gone-")) {
			errs = append(errs, os.RemoveAll(filepath.Join(s.dir, n)))
		}
	}
	return errors.Join(errs...)
}

// Size is the bytes of the files the volume holds.
func (s *Store) Size(v *Volume) int64 {
	var n int64
	_ = filepath.WalkDir(v.Mountpoint, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// CopyUp fills an empty volume with the content of src, a directory of a
// container's image, keeping ownership and modes, as Docker does when a
// volume is first mounted over a directory of the image. A volume that
// holds anything already, or a src that is not a directory, is left as
// it is. It reports whether it copied. Concurrent copy-ups of one volume
// are serialized; the caller holds the shared lock.
func (s *Store) CopyUp(v *Volume, src string) (bool, error) {
	st, err := os.Lstat(src)
	if err != nil || !st.IsDir() {
		return false, nil
	}
	l, err := lockfile.GetLockFile(filepath.Join(s.dir, v.Name, "copyup.lock"))
	if err != nil {
		return false, fmt.Errorf("copy into volume %s: %w", v.Name, err)
	}
	l.Lock()
	defer l.Unlock()
	if empty, err := isEmptyDir(v.Mountpoint); err != nil || !empty {
		return false, err
	}
	if err := copyTree(src, v.Mountpoint); err != nil {
		return false, fmt.Errorf("copy %s into volume %s: %w", src, v.Name, err)
	}
	// The archive carries what is inside src; the directory itself, the
	// mount's root in the container, takes src's owner and mode too.
	// An owner a single-id namespace cannot map stays box's own, as in copyTree.
	sys := st.Sys().(*syscall.Stat_t)
	_ = os.Lchown(v.Mountpoint, int(sys.Uid), int(sys.Gid))
	if err := os.Chmod(v.Mountpoint, st.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid)); err != nil {
		return true, fmt.Errorf("copy %s into volume %s: %w", src, v.Name, err)
	}
	return true, nil
}

// copyTree copies what is inside src into dst through a tar stream, which
// keeps owners, modes, times, hard links and symlinks as they are. An
// owner the namespace cannot map (a single-id namespace) stays box's own
// rather than failing the container.
func copyTree(src, dst string) error {
	inUserNS := unshare.IsRootless()
	rc, err := archive.TarWithOptions(src, &archive.TarOptions{Compression: archive.Uncompressed, CopyPass: true, InUserNS: inUserNS})
	if err != nil {
		return err
	}
	defer rc.Close()
	return archive.Untar(rc, dst, &archive.TarOptions{InUserNS: inUserNS, IgnoreChownErrors: true})
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
