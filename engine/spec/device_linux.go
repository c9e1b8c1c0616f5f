package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deviceFromPath describes a character or block device node.
func deviceFromPath(p string) (specs.LinuxDevice, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return specs.LinuxDevice{}, false
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, false
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: p, Type: typ,
		Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, true
}

// DeviceError is a --device box cannot give the container.
type DeviceError struct {
	Path string
	Err  error
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("error gathering device information while adding custom device %q: %v", e.Path, e.Err)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// Device describes the host's device node host for the container at
// dst, with its cgroup rule allowing access (r, w, m). Rootless, the
// runtime bind-mounts the node, so the user must be able to open it as
// access asks.
func Device(host, dst, access string, rootless bool) (specs.LinuxDevice, specs.LinuxDeviceCgroup, error) {
	d, ok := deviceFromPath(host)
	if !ok {
		var st unix.Stat_t
		if err := unix.Stat(host, &st); err != nil {
			return d, specs.LinuxDeviceCgroup{}, &DeviceError{Path: host, Err: err}
		}
		if resolved, err := filepath.EvalSymlinks(host); err == nil {
			d, ok = deviceFromPath(resolved)
		}
		if !ok {
			return d, specs.LinuxDeviceCgroup{}, &DeviceError{Path: host, Err: errors.New("not a device node")}
		}
	}
	if rootless {
		mode := uint32(0)
		if strings.Contains(access, "r") {
			mode |= unix.R_OK
		}
		if strings.Contains(access, "w") {
			mode |= unix.W_OK
		}
		if err := unix.Access(host, mode); err != nil {
			return d, specs.LinuxDeviceCgroup{}, &DeviceError{Path: host, Err: fmt.Errorf("%w (rootless, the device is bind-mounted: you must be able to open it)", err)}
		}
	}
	d.Path = dst
	major, minor := d.Major, d.Minor
	return d, specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: access}, nil
}
