package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/spec"
)

// parseMounts turns -v, --mount and --tmpfs values into mounts.
func parseMounts(volumes, mounts, tmpfs []string) ([]spec.Mount, error) {
	var out []spec.Mount
	for _, v := range volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range mounts {
		m, err := parseMountFlag(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range tmpfs {
		dst, opts, _ := strings.Cut(v, ":")
		if !path.IsAbs(dst) {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid --tmpfs %q: the mount point must be an absolute path", v)}
		}
		m := spec.Mount{Type: "tmpfs", Destination: dst}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
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

// parseVolume reads -v SRC:DST[:OPTS]. Only host paths are bind mounts;
// named and anonymous volumes are `box volume`'s business.
func parseVolume(v string) (spec.Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		if len(parts) == 1 && path.IsAbs(v) {
			return spec.Mount{}, &UsageError{Msg: fmt.Sprintf("invalid volume %q: anonymous volumes are not supported yet; give a host path, as in -v /host/dir:%s", v, v)}
		}
		return spec.Mount{}, &UsageError{Msg: fmt.Sprintf("invalid volume specification %q: want /host/path:/container/path[:ro]", v)}
	}
	src, dst := parts[0], parts[1]
	if !path.IsAbs(dst) {
		return spec.Mount{}, &UsageError{Msg: fmt.Sprintf("invalid volume specification %q: the container path must be absolute", v)}
	}
	if !filepath.IsAbs(src) {
		return spec.Mount{}, &UsageError{Msg: fmt.Sprintf("invalid volume specification %q: named volumes are not supported yet; give an absolute host path", v)}
	}
	m := spec.Mount{Type: "bind", Source: filepath.Clean(src), Destination: dst}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro", "rw":
				m.Options = append(m.Options, o)
			case "z", "Z", "":
				// SELinux relabelling: nothing to do without SELinux.
			case "shared", "rshared", "slave", "rslave", "private", "rprivate":
				m.Options = append(m.Options, o)
			default:
				return spec.Mount{}, &UsageError{Msg: fmt.Sprintf("invalid volume specification %q: unknown option %q", v, o)}
			}
		}
	}
	// Docker creates a missing host directory for -v (not for --mount).
	if _, err := os.Stat(m.Source); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(m.Source, 0o755); err != nil {
			return spec.Mount{}, fmt.Errorf("create host directory for volume %q: %w", v, err)
		}
	}
	return m, nil
}

// parseMountFlag reads --mount type=bind|tmpfs,source=,target=,readonly.
func parseMountFlag(v string) (spec.Mount, error) {
	bad := func(why string) error {
		return &UsageError{Msg: fmt.Sprintf("invalid --mount %q: %s", v, why)}
	}
	m := spec.Mount{Type: "volume"}
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
				return m, bad("readonly takes true or false")
			}
		case "bind-propagation":
			m.Options = append(m.Options, val)
		case "tmpfs-size":
			m.Options = append(m.Options, "size="+val)
		case "tmpfs-mode":
			m.Options = append(m.Options, "mode="+val)
		case "consistency", "bind-nonrecursive":
		default:
			return m, bad(fmt.Sprintf("unknown key %q", k))
		}
	}
	if m.Destination == "" {
		return m, bad("target is required")
	}
	if !path.IsAbs(m.Destination) {
		return m, bad("target must be an absolute path")
	}
	switch m.Type {
	case "bind":
		if m.Source == "" {
			return m, bad("source is required for a bind mount")
		}
		if !filepath.IsAbs(m.Source) {
			return m, bad("source must be an absolute path")
		}
		if _, err := os.Stat(m.Source); err != nil {
			return m, bad(fmt.Sprintf("bind source path does not exist: %s", m.Source))
		}
	case "tmpfs":
		if m.Source != "" {
			return m, bad("a tmpfs mount takes no source")
		}
	case "volume":
		return m, bad("volume mounts are not supported yet; use type=bind or type=tmpfs")
	default:
		return m, bad(fmt.Sprintf("unknown mount type %q", m.Type))
	}
	return m, nil
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

// checkCommand finds the container's command as the kernel would, so
// that "not found" (127) and "not executable" (126) are told apart before
// the start, without reading the runtime's error text. Paths under a bind
// mount are looked up on the host side of the mount.
func checkCommand(rootfs string, sp *specs.Spec, mounts []spec.Mount) error {
	cmd := sp.Process.Args[0]
	var candidates []string
	switch {
	case strings.Contains(cmd, "/"):
		p := cmd
		if !path.IsAbs(p) {
			p = path.Join(sp.Process.Cwd, p)
		}
		candidates = []string{p}
	default:
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
			candidates = append(candidates, path.Join(dir, cmd))
		}
	}
	var denied error
	for _, c := range candidates {
		host, err := hostPath(rootfs, c, mounts)
		if err != nil {
			continue
		}
		st, err := os.Stat(host)
		if err != nil || st.IsDir() {
			if err == nil {
				denied = &CommandError{Path: cmd, Err: fs.ErrPermission}
			}
			continue
		}
		if st.Mode()&0o111 == 0 {
			denied = &CommandError{Path: cmd, Err: fs.ErrPermission}
			continue
		}
		return nil
	}
	if denied != nil {
		return denied
	}
	return &CommandError{Path: cmd, NotFound: true, Err: fs.ErrNotExist}
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
