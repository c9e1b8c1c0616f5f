package engine

import (
	"os"
	"runtime"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/storage"
)

// Info is what `box info` reports.
type Info struct {
	Version        string
	Rootless       bool
	IDMode         string
	UIDMap, GIDMap []specs.LinuxIDMapping
	Driver         string
	GraphRoot      string
	RunRoot        string
	Images         int
	Containers     int
	CgroupVersion  string
	Kernel         string
	OS, Arch       string
	Registries     []storage.Registry
	Search         []string
	Network        string
}

// Info gathers what box knows about itself and the machine.
func (e *Engine) Info() (*Info, error) {
	imgs, err := e.Store.Backing().Images()
	if err != nil {
		return nil, err
	}
	ctrs, err := e.Store.Backing().Containers()
	if err != nil {
		return nil, err
	}
	regs, search, err := e.Store.Registries()
	if err != nil {
		return nil, err
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	return &Info{
		Version:       storage.Version,
		Rootless:      e.Identity.Rootless(),
		IDMode:        string(e.Identity.Mode),
		UIDMap:        e.Identity.UIDMap,
		GIDMap:        e.Identity.GIDMap,
		Driver:        e.Store.Driver(),
		GraphRoot:     e.Store.Root(),
		RunRoot:       e.Store.RunRoot(),
		Images:        len(imgs),
		Containers:    len(ctrs),
		CgroupVersion: cgroupVersion(),
		Kernel:        unix.ByteSliceToString(uts.Release[:]),
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		Registries:    regs,
		Search:        search,
		Network:       networkInfo(),
	}, nil
}

// cgroupVersion tells v2 (unified at /sys/fs/cgroup) from v1 and hybrid
// layouts (v1 controllers, perhaps a v2 tree at /sys/fs/cgroup/unified).
func cgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		return "v1 (hybrid)"
	}
	return "v1"
}
