package monitor

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Freeze suspends every process of a rootful container through its
// cgroup's freezer; Thaw lets them run again. Both work from any
// invocation: libcontainer finds the cgroup from its state under
// stateRoot. Rootless containers have no cgroup to freeze.
func Freeze(stateRoot, id string) error { return freezer(stateRoot, id, true) }

// Thaw undoes Freeze; thawing a container that is not frozen does nothing.
func Thaw(stateRoot, id string) error { return freezer(stateRoot, id, false) }

func freezer(stateRoot, id string, freeze bool) error {
	ctr, err := libcontainer.Load(stateRoot, id)
	if err != nil {
		return fmt.Errorf("load container state: %w", err)
	}
	if freeze {
		return ctr.Pause()
	}
	return ctr.Resume()
}

// SetResources changes the cgroup limits of a running container to r
// (the runtime spec's, as the container was created with), from any
// invocation, as `runc update` does. A container without a cgroup of
// its own (rootless without delegation) has nothing to change.
func SetResources(stateRoot, id string, r *specs.LinuxResources) error {
	ctr, err := libcontainer.Load(stateRoot, id)
	if err != nil {
		return fmt.Errorf("load container state: %w", err)
	}
	cfg := ctr.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil {
		return fmt.Errorf("container %s has no cgroup", id)
	}
	res := cfg.Cgroups.Resources
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			res.Memory = *m.Limit
		}
		if m.Swap != nil {
			res.MemorySwap = *m.Swap
		}
		if m.Reservation != nil {
			res.MemoryReservation = *m.Reservation
		}
		if m.DisableOOMKiller != nil {
			res.OomKillDisable = *m.DisableOOMKiller
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil {
			res.CpuShares = *c.Shares
		}
		if c.Quota != nil {
			res.CpuQuota = *c.Quota
		}
		if c.Period != nil {
			res.CpuPeriod = *c.Period
		}
		if c.Cpus != "" {
			res.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			res.CpusetMems = c.Mems
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		limit := *r.Pids.Limit
		res.PidsLimit = &limit
	}
	if r.BlockIO != nil && r.BlockIO.Weight != nil {
		res.BlkioWeight = *r.BlockIO.Weight
	}
	return ctr.Set(cfg)
}
