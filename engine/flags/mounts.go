package flags

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"box/engine/volume"
)

// MountType is what a Mount mounts.
type MountType string

const (
	// Bind mounts a host path.
	Bind MountType = "bind"
	// Volume mounts a named volume, or a new anonymous one.
	Volume MountType = "volume"
	// Tmpfs mounts a fresh tmpfs.
	Tmpfs MountType = "tmpfs"
)

// Mount is one -v, --mount or --tmpfs value, or a mount box makes for a
// container itself (a build step's heredoc script).
type Mount struct {
	Type MountType `json:"type"`
	// Source is the host path of a bind (absolute, clean) or the name of
	// a volume ("" for an anonymous one); a tmpfs has none.
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
	// Options are a bind's or a volume's propagation (rshared, slave,
	// ...), a tmpfs's mount options (size=, mode=).
	Options []string `json:"options,omitempty"`
	// MakeSource says that a bind's missing host directory is created,
	// as Docker's -v does (its --mount refuses a missing source).
	MakeSource bool `json:"make_source,omitempty"`
	// NoCopy keeps the image's files out of an empty volume.
	NoCopy bool `json:"no_copy,omitempty"`
	// Mode is a volume's -v options as inspect shows them.
	Mode string `json:"mode,omitempty"`
	// Labels are given to a volume this mount creates.
	Labels map[string]string `json:"labels,omitempty"`
}

// ParseMounts reads -v, --mount and --tmpfs values, in that order, and
// refuses two mounts at one mount point.
func ParseMounts(volumes, mounts, tmpfs []string) ([]Mount, error) {
	var out []Mount
	for _, v := range volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range mounts {
		m, err := ParseMount(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range tmpfs {
		m, err := ParseTmpfs(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	seen := map[string]bool{}
	for _, m := range out {
		d := path.Clean(m.Destination)
		if seen[d] {
			return nil, &UsageError{Msg: fmt.Sprintf("duplicate mount point: %s", d)}
		}
		seen[d] = true
	}
	return out, nil
}

// errRootDestination is Docker's refusal of a mount over the whole root.
const errRootDestination = "destination can't be '/'"

// ParseTmpfs reads --tmpfs DST[:OPTIONS].
func ParseTmpfs(v string) (Mount, error) {
	dst, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(dst) {
		return Mount{}, &UsageError{Msg: fmt.Sprintf("invalid --tmpfs %q: the mount point must be an absolute path", v)}
	}
	if dst = path.Clean(dst); dst == "/" {
		return Mount{}, &UsageError{Msg: fmt.Sprintf("invalid --tmpfs %q: %s", v, errRootDestination)}
	}
	m := Mount{Type: Tmpfs, Destination: dst}
	if opts != "" {
		m.Options = strings.Split(opts, ",")
	}
	return m, nil
}

// ParseVolume reads -v [SRC:]DST[:OPTS]. An absolute SRC is a bind mount;
// a name is a named volume, and no SRC an anonymous one.
func ParseVolume(v string) (Mount, error) {
	bad := func(why string) error {
		return &UsageError{Msg: fmt.Sprintf("invalid volume specification %q: %s", v, why)}
	}
	parts := strings.Split(v, ":")
	var src, dst, mode string
	switch {
	case len(parts) == 1:
		dst = parts[0]
	case len(parts) == 2 && path.IsAbs(parts[0]) && validVolumeMode(parts[1]):
		// -v /data:ro is an anonymous volume with options.
		dst, mode = parts[0], parts[1]
	case len(parts) == 2 && parts[0] != "":
		src, dst = parts[0], parts[1]
	case len(parts) == 3 && parts[0] != "":
		src, dst, mode = parts[0], parts[1], parts[2]
	default:
		return Mount{}, bad("want [SOURCE:]/container/path[:OPTIONS]")
	}
	if dst == "" {
		return Mount{}, bad("want [SOURCE:]/container/path[:OPTIONS]")
	}
	if !path.IsAbs(dst) {
		return Mount{}, bad("the container path must be absolute")
	}
	if dst = path.Clean(dst); dst == "/" {
		return Mount{}, bad(errRootDestination)
	}
	var propagation []string
	ro, noCopy := false, false
	if mode != "" {
		for _, o := range strings.Split(mode, ",") {
			switch o {
			case "ro":
				ro = true
			case "rw":
				ro = false
			case "z", "Z", "":
				// SELinux relabelling: nothing to do without SELinux.
			case "nocopy":
				noCopy = true
			case "shared", "rshared", "slave", "rslave", "private", "rprivate":
				propagation = append(propagation, o)
			default:
				return Mount{}, bad(fmt.Sprintf("unknown option %q", o))
			}
		}
	}
	if src == "" || !filepath.IsAbs(src) {
		if src != "" {
			if err := volume.CheckName(src); err != nil {
				return Mount{}, &UsageError{Msg: err.Error()}
			}
		}
		if mode == "" && src != "" {
			mode = "z" // what Docker shows for a named -v volume
		}
		return Mount{Type: Volume, Source: src, Destination: dst, ReadOnly: ro, NoCopy: noCopy, Mode: mode, Options: propagation}, nil
	}
	if noCopy {
		return Mount{}, bad("nocopy applies to volumes, not to bind mounts")
	}
	return Mount{Type: Bind, Source: filepath.Clean(src), Destination: dst, ReadOnly: ro, Options: propagation, MakeSource: true}, nil
}

// validVolumeMode says whether s is a list of -v options.
func validVolumeMode(s string) bool {
	for _, o := range strings.Split(s, ",") {
		switch o {
		case "ro", "rw", "z", "Z", "nocopy", "shared", "rshared", "slave", "rslave", "private", "rprivate":
		default:
			return false
		}
	}
	return true
}

// ParseMount reads --mount type=bind|volume|tmpfs,source=,target=,
// readonly and the keys of each type. A bind's source must exist.
func ParseMount(v string) (Mount, error) {
	bad := func(why string) error {
		return &UsageError{Msg: fmt.Sprintf("invalid --mount %q: %s", v, why)}
	}
	m := Mount{Type: Volume}
	var volLabels []string
	volKeys := []string{}
	for _, field := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = MountType(val)
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			if !hasVal || val == "true" || val == "1" {
				m.ReadOnly = true
			} else if val != "false" && val != "0" {
				return Mount{}, bad("readonly takes true or false")
			}
		case "bind-propagation":
			m.Options = append(m.Options, val)
		case "tmpfs-size":
			m.Options = append(m.Options, "size="+val)
		case "tmpfs-mode":
			m.Options = append(m.Options, "mode="+val)
		case "volume-nocopy":
			volKeys = append(volKeys, k)
			if !hasVal || val == "true" || val == "1" {
				m.NoCopy = true
			} else if val != "false" && val != "0" {
				return Mount{}, bad("volume-nocopy takes true or false")
			}
		case "volume-label":
			volKeys = append(volKeys, k)
			volLabels = append(volLabels, val)
		case "volume-driver":
			volKeys = append(volKeys, k)
			if val != volume.Driver {
				return Mount{}, bad(fmt.Sprintf("volume driver %q not found: box has the local driver only", val))
			}
		case "volume-opt", "volume-subpath":
			return Mount{}, bad(fmt.Sprintf("%s is not supported: box's local volumes are plain directories", k))
		case "consistency", "bind-nonrecursive":
		default:
			return Mount{}, bad(fmt.Sprintf("unknown key %q", k))
		}
	}
	if m.Destination == "" {
		return Mount{}, bad("target is required")
	}
	if !path.IsAbs(m.Destination) {
		return Mount{}, bad("target must be an absolute path")
	}
	if m.Destination = path.Clean(m.Destination); m.Destination == "/" {
		return Mount{}, bad(errRootDestination)
	}
	if m.Type != Volume && len(volKeys) > 0 {
		return Mount{}, bad(fmt.Sprintf("%s applies to type=volume only", volKeys[0]))
	}
	switch m.Type {
	case Bind:
		if m.Source == "" {
			return Mount{}, bad("source is required for a bind mount")
		}
		if !filepath.IsAbs(m.Source) {
			return Mount{}, bad("source must be an absolute path")
		}
		if _, err := os.Stat(m.Source); err != nil {
			return Mount{}, bad(fmt.Sprintf("bind source path does not exist: %s", m.Source))
		}
	case Tmpfs:
		if m.Source != "" {
			return Mount{}, bad("a tmpfs mount takes no source")
		}
	case Volume:
		if m.Source != "" {
			if err := volume.CheckName(m.Source); err != nil {
				return Mount{}, &UsageError{Msg: err.Error()}
			}
		}
		labels, err := ParseLabels(volLabels)
		if err != nil {
			return Mount{}, err
		}
		m.Labels = labels
	default:
		return Mount{}, bad(fmt.Sprintf("unknown mount type %q", m.Type))
	}
	return m, nil
}

// VolumesFrom is one --volumes-from CONTAINER[:ro|:rw].
type VolumesFrom struct {
	Container string `json:"container"`
	// Mode is "ro" or "rw" to force every mount so, "" to keep each as
	// it is in Container.
	Mode string `json:"mode,omitempty"`
}

// ParseVolumesFrom reads --volumes-from values.
func ParseVolumesFrom(list []string) ([]VolumesFrom, error) {
	var out []VolumesFrom
	for _, arg := range list {
		name, mode, _ := strings.Cut(arg, ":")
		switch mode {
		case "", "ro", "rw":
		default:
			return nil, &UsageError{Msg: fmt.Sprintf("invalid --volumes-from %q: the mode must be ro or rw", arg)}
		}
		out = append(out, VolumesFrom{Container: name, Mode: mode})
	}
	return out, nil
}
