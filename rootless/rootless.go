// Package rootless owns box's user namespace: a C constructor
// (userns_linux.c) moves an unprivileged invocation into one before Go
// starts, mapping the user and its subordinate id ranges
// (newuidmap/newgidmap); this package reports who box runs for, how ids are
// mapped, and why entry failed. It never touches the image store or
// containers and never prints.
package rootless

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// envHost carries "uid:gid:name" of the invoking user, set by the
// constructor in userns_linux.c once it has entered the namespace, where
// os.Getuid() is 0.
const envHost = "_BOX_ROOTLESS"

// Mode says how the namespace maps ids.
type Mode string

const (
	// Rootful: box runs as real root with no user namespace of its own.
	Rootful Mode = "rootful"
	// Ranges: the user plus its /etc/subuid and /etc/subgid ranges are mapped.
	Ranges Mode = "subordinate-ranges"
	// SingleID: only the user itself is mapped (no range or no newuidmap).
	SingleID Mode = "single-id"
)

// Identity describes who box runs for and how ids are mapped.
type Identity struct {
	UID, GID int
	Username string
	Mode     Mode
	// UIDMap and GIDMap are the namespace's mappings as seen from the host
	// (ContainerID inside, HostID outside). Empty for Rootful.
	UIDMap, GIDMap []specs.LinuxIDMapping
}

// Rootless reports whether box runs for an unprivileged user.
func (id Identity) Rootless() bool { return id.Mode != Rootful }

// DisabledError says that the kernel or a security module refuses
// unprivileged user namespaces, and how to allow them.
type DisabledError struct {
	Cause string
	Fix   string
}

func (e *DisabledError) Error() string {
	return "user namespaces are disabled: " + e.Cause
}

// Hint is the command that turns them back on.
func (e *DisabledError) Hint() string { return e.Fix }

// ErrNotInNamespace is returned by Current when the caller is an
// unprivileged process that has not entered box's namespace.
var ErrNotInNamespace = errors.New("not inside box's user namespace")

// InNamespace reports whether this process is box re-executed inside its
// user namespace.
func InNamespace() bool {
	_, ok := os.LookupEnv(envHost)
	return ok
}

// Current returns the identity box runs for: real root, or the invoking
// user as recorded by Enter.
func Current() (Identity, error) {
	v, ok := os.LookupEnv(envHost)
	if !ok {
		if os.Geteuid() == 0 {
			return Identity{Mode: Rootful, Username: "root"}, nil
		}
		return Identity{}, ErrNotInNamespace
	}
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return Identity{}, fmt.Errorf("malformed %s=%q", envHost, v)
	}
	uid, err1 := strconv.Atoi(parts[0])
	gid, err2 := strconv.Atoi(parts[1])
	if err := errors.Join(err1, err2); err != nil {
		return Identity{}, fmt.Errorf("malformed %s=%q: %w", envHost, v, err)
	}
	id := Identity{UID: uid, GID: gid, Mode: Ranges, Username: parts[2]}
	id.UIDMap, err1 = readMap("/proc/self/uid_map")
	id.GIDMap, err2 = readMap("/proc/self/gid_map")
	if err := errors.Join(err1, err2); err != nil {
		return Identity{}, err
	}
	// The maps themselves say what Enter managed to set up.
	if len(id.UIDMap) < 2 || len(id.GIDMap) < 2 {
		id.Mode = SingleID
	}
	return id, nil
}

// readMap parses /proc/PID/{uid,gid}_map.
func readMap(path string) ([]specs.LinuxIDMapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMap(string(data))
}

func parseMap(s string) ([]specs.LinuxIDMapping, error) {
	var m []specs.LinuxIDMapping
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed id map line %q", line)
		}
		var v [3]uint32
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("malformed id map line %q", line)
			}
			v[i] = uint32(n)
		}
		m = append(m, specs.LinuxIDMapping{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return m, nil
}
