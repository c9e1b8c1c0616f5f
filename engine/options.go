package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/spec"
	"box/engine/volume"
)

// parseMounts turns -v, --mount and --tmpfs values into mounts: binds and
// tmpfs mounts ready for the spec, and the volumes to find or create.
func parseMounts(volumes, mounts, tmpfs []string) ([]spec.Mount, []volumeRequest, error) {
	var out []spec.Mount
	var vols []volumeRequest
	dests := []string{}
	for _, v := range volumes {
		m, vr, err := parseVolume(v)
		if err != nil {
			return nil, nil, err
		}
		if vr != nil {
			vols = append(vols, *vr)
			dests = append(dests, vr.Destination)
			continue
		}
		out = append(out, m)
		dests = append(dests, m.Destination)
	}
	for _, v := range mounts {
		m, vr, err := parseMountFlag(v)
		if err != nil {
			return nil, nil, err
		}
		if vr != nil {
			vols = append(vols, *vr)
			dests = append(dests, vr.Destination)
			continue
		}
		out = append(out, m)
		dests = append(dests, m.Destination)
	}
	for _, v := range tmpfs {
		dst, opts, _ := strings.Cut(v, ":")
		if !path.IsAbs(dst) {
			return nil, nil, &UsageError{Msg: fmt.Sprintf("invalid --tmpfs %q: the mount point must be an absolute path", v)}
		}
		m := spec.Mount{Type: "tmpfs", Destination: dst}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
		}
		out = append(out, m)
		dests = append(dests, dst)
	}
	seen := map[string]bool{}
	for _, d := range dests {
		d = path.Clean(d)
		if seen[d] {
			return nil, nil, &UsageError{Msg: fmt.Sprintf("duplicate mount point: %s", d)}
		}
		seen[d] = true
	}
	return out, vols, nil
}

// parseVolume reads -v [SRC:]DST[:OPTS]. An absolute SRC is a bind mount
// (returned as a mount); a name is a named volume, and no SRC an
// anonymous one (returned as a volume request).
func parseVolume(v string) (spec.Mount, *volumeRequest, error) {
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
		return spec.Mount{}, nil, bad("want [SOURCE:]/container/path[:OPTIONS]")
	}
	if dst == "" {
		return spec.Mount{}, nil, bad("want [SOURCE:]/container/path[:OPTIONS]")
	}
	if !path.IsAbs(dst) {
		return spec.Mount{}, nil, bad("the container path must be absolute")
	}
	var opts []string
	ro, noCopy := false, false
	if mode != "" {
		for _, o := range strings.Split(mode, ",") {
			switch o {
			case "ro":
				ro = true
				opts = append(opts, o)
			case "rw":
				ro = false
				opts = append(opts, o)
			case "z", "Z", "":
				// SELinux relabelling: nothing to do without SELinux.
			case "nocopy":
				noCopy = true
			case "shared", "rshared", "slave", "rslave", "private", "rprivate":
				opts = append(opts, o)
			default:
				return spec.Mount{}, nil, bad(fmt.Sprintf("unknown option %q", o))
			}
		}
	}
	if src == "" || !filepath.IsAbs(src) {
		if src != "" {
			if err := volume.CheckName(src); err != nil {
				return spec.Mount{}, nil, &UsageError{Msg: err.Error()}
			}
		}
		vmode := mode
		if vmode == "" && src != "" {
			vmode = "z" // what Docker shows for a named -v volume
		}
		return spec.Mount{}, &volumeRequest{
			Name: src, Destination: dst, ReadOnly: ro, NoCopy: noCopy, Mode: vmode, Options: propagation(opts),
		}, nil
	}
	if noCopy {
		return spec.Mount{}, nil, bad("nocopy applies to volumes, not to bind mounts")
	}
	m := spec.Mount{Type: "bind", Source: filepath.Clean(src), Destination: dst, Options: opts}
	// Docker creates a missing host directory for -v (not for --mount).
	if _, err := os.Stat(m.Source); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(m.Source, 0o755); err != nil {
			return spec.Mount{}, nil, fmt.Errorf("create host directory for volume %q: %w", v, err)
		}
	}
	return m, nil, nil
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

// propagation keeps the mount-propagation options of a volume's options.
func propagation(opts []string) []string {
	var out []string
	for _, o := range opts {
		if o != "ro" && o != "rw" {
			out = append(out, o)
		}
	}
	return out
}

// parseMountFlag reads --mount type=bind|volume|tmpfs,source=,target=,
// readonly and the keys of each type. A volume comes back as a request.
func parseMountFlag(v string) (spec.Mount, *volumeRequest, error) {
	bad := func(why string) error {
		return &UsageError{Msg: fmt.Sprintf("invalid --mount %q: %s", v, why)}
	}
	m := spec.Mount{Type: "volume"}
	var noCopy bool
	var volLabels []string
	volKeys := []string{}
	for _, field := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			if !hasVal || val == "true" || val == "1" {
				m.Options = append(m.Options, "ro")
			} else if val != "false" && val != "0" {
				return m, nil, bad("readonly takes true or false")
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
				noCopy = true
			} else if val != "false" && val != "0" {
				return m, nil, bad("volume-nocopy takes true or false")
			}
		case "volume-label":
			volKeys = append(volKeys, k)
			volLabels = append(volLabels, val)
		case "volume-driver":
			volKeys = append(volKeys, k)
			if val != volume.Driver {
				return m, nil, bad(fmt.Sprintf("volume driver %q not found: box has the local driver only", val))
			}
		case "volume-opt", "volume-subpath":
			return m, nil, bad(fmt.Sprintf("%s is not supported: box's local volumes are plain directories", k))
		case "consistency", "bind-nonrecursive":
		default:
			return m, nil, bad(fmt.Sprintf("unknown key %q", k))
		}
	}
	if m.Destination == "" {
		return m, nil, bad("target is required")
	}
	if !path.IsAbs(m.Destination) {
		return m, nil, bad("target must be an absolute path")
	}
	if m.Type != "volume" && len(volKeys) > 0 {
		return m, nil, bad(fmt.Sprintf("%s applies to type=volume only", volKeys[0]))
	}
	switch m.Type {
	case "bind":
		if m.Source == "" {
			return m, nil, bad("source is required for a bind mount")
		}
		if !filepath.IsAbs(m.Source) {
			return m, nil, bad("source must be an absolute path")
		}
		if _, err := os.Stat(m.Source); err != nil {
			return m, nil, bad(fmt.Sprintf("bind source path does not exist: %s", m.Source))
		}
	case "tmpfs":
		if m.Source != "" {
			return m, nil, bad("a tmpfs mount takes no source")
		}
	case "volume":
		if m.Source != "" {
			if err := volume.CheckName(m.Source); err != nil {
				return m, nil, &UsageError{Msg: err.Error()}
			}
		}
		labels, err := parseLabelList(volLabels)
		if err != nil {
			return m, nil, err
		}
		ro := slices.Contains(m.Options, "ro")
		return m, &volumeRequest{
			Name: m.Source, Destination: m.Destination, ReadOnly: ro, NoCopy: noCopy,
			Options: propagation(m.Options), Labels: labels,
		}, nil
	default:
		return m, nil, bad(fmt.Sprintf("unknown mount type %q", m.Type))
	}
	return m, nil, nil
}

// readEnvFiles reads --env-file files: KEY=VALUE lines, # comments, and
// bare KEY lines that take the caller's value, as Docker does.
func readEnvFiles(files []string) ([]string, error) { return readKeyFiles("env", files) }

// readKeyFiles reads files of KEY=VALUE lines (kind names them in errors:
// "env", "label"), skipping blank lines and # comments.
func readKeyFiles(kind string, files []string) ([]string, error) {
	var env []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("open %s file: %v", kind, err)}
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimLeft(sc.Text(), " \t")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, _, _ := strings.Cut(line, "=")
			if k == "" || strings.ContainsAny(k, " \t") {
				f.Close()
				return nil, &UsageError{Msg: fmt.Sprintf("invalid %s file %s line %d: key %q contains whitespace or is empty", kind, name, n, k)}
			}
			env = append(env, line)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s file %s: %w", kind, name, err)
		}
	}
	return env, nil
}

// checkCommand finds the container's command as runc's init will (Go's
// exec.LookPath), so that "not found" (127) and "not executable" (126) are
// told apart before the start, without reading the runtime's error text.
// A path is checked as it is; a bare name is looked up in the container's
// PATH, where only an executable file counts. Paths under a bind mount are
// looked up on the host side of the mount.
func checkCommand(rootfs string, sp *specs.Spec, mounts []spec.Mount) error {
	cmd := sp.Process.Args[0]
	if strings.Contains(cmd, "/") {
		p := cmd
		if !path.IsAbs(p) {
			p = path.Join(sp.Process.Cwd, p)
		}
		st, err := statIn(rootfs, p, mounts)
		switch {
		case err != nil:
			return &CommandError{Path: cmd, NotFound: true, Err: fs.ErrNotExist}
		case st.IsDir():
			return &CommandError{Path: cmd, Err: syscall.EISDIR}
		case st.Mode()&0o111 == 0:
			return &CommandError{Path: cmd, Err: fs.ErrPermission}
		}
		return nil
	}
	pathEnv := ""
	for _, e := range sp.Process.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		if !path.IsAbs(dir) {
			dir = path.Join(sp.Process.Cwd, dir)
		}
		if st, err := statIn(rootfs, path.Join(dir, cmd), mounts); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return nil
		}
	}
	return &CommandError{Path: cmd, NotFound: true, Err: fs.ErrNotExist}
}

// statIn stats the container path p in rootfs or the bind mount over it.
func statIn(rootfs, p string, mounts []spec.Mount) (fs.FileInfo, error) {
	host, err := hostPath(rootfs, p, mounts)
	if err != nil {
		return nil, err
	}
	return os.Stat(host)
}

// hostPath maps a container path to where it lives on the host.
func hostPath(rootfs, p string, mounts []spec.Mount) (string, error) {
	for _, m := range mounts {
		d := path.Clean(m.Destination)
		if m.Type == "bind" && (p == d || strings.HasPrefix(p, d+"/")) {
			return securejoin.SecureJoin(m.Source, strings.TrimPrefix(p, d))
		}
	}
	return securejoin.SecureJoin(rootfs, p)
}

// containerLabels are the image's labels with --label-file and --label
// values over them, as Docker merges them.
func containerLabels(image map[string]string, flags, files []string) (map[string]string, error) {
	labels := map[string]string{}
	for k, v := range image {
		labels[k] = v
	}
	fromFiles, err := readKeyFiles("label", files)
	if err != nil {
		return nil, err
	}
	for _, l := range append(fromFiles, flags...) {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid label %q: the key is empty", l)}
		}
		labels[k] = v
	}
	if len(labels) == 0 {
		return nil, nil
	}
	return labels, nil
}
