package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
	"box/engine/spec"
)

// mountsOf turns a run's typed mounts into binds and tmpfs mounts ready
// for the spec, and the volumes to find or create. It makes a missing
// host directory of a -v bind, as Docker does (not of a --mount one,
// which engine/flags found to exist).
func mountsOf(ms []flags.Mount) ([]spec.Mount, []volumeRequest, error) {
	var out []spec.Mount
	var vols []volumeRequest
	for _, m := range ms {
		opts := slices.Clone(m.Options)
		switch m.Type {
		case flags.Volume:
			vols = append(vols, volumeRequest{
				Name: m.Source, Destination: m.Destination, ReadOnly: m.ReadOnly, NoCopy: m.NoCopy,
				Mode: m.Mode, Options: opts, Labels: m.Labels,
			})
			continue
		case flags.Bind:
			if m.MakeSource {
				if _, err := os.Stat(m.Source); errors.Is(err, fs.ErrNotExist) {
					if err := os.MkdirAll(m.Source, 0o755); err != nil {
						return nil, nil, fmt.Errorf("create host directory for volume %s: %w", m.Source, err)
					}
				}
			}
		case flags.Tmpfs:
		default:
			return nil, nil, fmt.Errorf("mount at %s: unknown mount type %q", m.Destination, m.Type)
		}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		out = append(out, spec.Mount{Type: string(m.Type), Source: m.Source, Destination: m.Destination, Options: opts})
	}
	return out, vols, nil
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

// containerLabels are the image's labels with the run's over them, as
// Docker merges them; nil for none.
func containerLabels(image, run map[string]string) map[string]string {
	if len(image)+len(run) == 0 {
		return nil
	}
	labels := maps.Clone(image)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, run)
	return labels
}

// extraHosts are --add-host entries as the user spelt them, for inspect.
func extraHosts(hosts []flags.Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Given)
	}
	return out
}
