package engine

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
	"box/engine/monitor"
)

// UpdateOptions are `box update`'s changes; nil fields stay as they are.
type UpdateOptions struct {
	// Restart is a new restart policy, as engine/flags reads --restart.
	Restart *flags.RestartPolicy
	// Resources are new limits: the fields set replace the container's.
	Resources *flags.Resources
	// Warn, when set, is told of limits recorded but not applied (a
	// rootless container without a cgroup of its own).
	Warn func(string) `json:"-"`
}

// Update changes a container's settings, running or not, as Docker's
// update does. New limits apply at once to a running container with a
// cgroup of its own (root, or rootless with a delegated cgroup v2), and
// at its next start to one that is not running. A new restart policy is written to the container's
// record, where its monitor reads it each time the container ends: it
// takes effect at the next exit of a detached container, and at the
// next start of a stopped one. A container running attached to a `box
// run` in the foreground has no monitor of its own to restart it.
func (e *Engine) Update(nameOrID string, opts UpdateOptions) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if opts.Restart == nil && opts.Resources == nil {
		return nil
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return err
	}
	// Under the record's lock: a monitor saving its copy meanwhile keeps
	// what this writes (record.save).
	err = updateRecord(dir, func(rec *record) error {
		if opts.Restart != nil {
			policy := RestartPolicy(*opts.Restart)
			if policy.active() && rec.Remove {
				return &UsageError{Msg: fmt.Sprintf("cannot update container %s: restart policy cannot be updated because AutoRemove is enabled for the container", nameOrID)}
			}
			rec.Restart = policy
		}
		if opts.Resources != nil {
			r, err := mergeResources(rec.Settings.Resources, *opts.Resources)
			if err != nil {
				return &UsageError{Msg: fmt.Sprintf("cannot update container %s: %v", nameOrID, err)}
			}
			if err := e.applyResources(c, rec, r, opts.Warn); err != nil {
				return err
			}
			rec.Settings.Resources = r
		}
		return nil
	})
	var usage *UsageError
	if errors.As(err, &usage) {
		return err
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", nameOrID, err)
	}
	e.containerEvent("update", c)
	return nil
}

// reloadRestart takes up a restart policy and limits `box update` may
// have written to the record since rec was read (the monitor calls it
// as the container ends, before it saves rec).
func reloadRestart(rec *record, dir string) {
	if onDisk, err := loadRecord(dir); err == nil {
		rec.Restart, rec.Settings.Resources = onDisk.Restart, onDisk.Settings.Resources
	}
}

// mergeResources is cur with the fields upd sets over it, checked as a
// whole as Docker checks an update.
func mergeResources(cur, upd flags.Resources) (flags.Resources, error) {
	r := cur
	if upd.Memory != 0 {
		r.Memory = upd.Memory
	}
	if upd.MemorySwap != 0 {
		r.MemorySwap = upd.MemorySwap
	}
	if upd.MemoryReservation != 0 {
		r.MemoryReservation = upd.MemoryReservation
	}
	if upd.NanoCPUs != 0 {
		r.NanoCPUs = upd.NanoCPUs
	}
	if upd.CPUShares != 0 {
		r.CPUShares = upd.CPUShares
	}
	if upd.CpusetCpus != "" {
		r.CpusetCpus = upd.CpusetCpus
	}
	if upd.CpusetMems != "" {
		r.CpusetMems = upd.CpusetMems
	}
	if upd.PidsLimit != nil {
		r.PidsLimit = upd.PidsLimit
	}
	if upd.BlkioWeight != 0 {
		r.BlkioWeight = upd.BlkioWeight
	}
	if upd.CPUPeriod != 0 || upd.CPUQuota != 0 {
		r.NanoCPUs = 0
	}
	if upd.NanoCPUs != 0 {
		r.CPUPeriod, r.CPUQuota = 0, 0
	}
	if upd.CPUPeriod != 0 {
		r.CPUPeriod = upd.CPUPeriod
	}
	if upd.CPUQuota != 0 {
		r.CPUQuota = upd.CPUQuota
	}
	if upd.MemorySwappiness != nil {
		r.MemorySwappiness = upd.MemorySwappiness
	}
	if r.MemorySwap > 0 && r.Memory == 0 {
		return cur, fmt.Errorf("you should always set the memory limit when using the memory swap limit")
	}
	if r.MemorySwap > 0 && r.Memory > r.MemorySwap {
		return cur, fmt.Errorf("memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
	}
	if r.MemoryReservation != 0 && r.Memory != 0 && r.MemoryReservation > r.Memory {
		return cur, fmt.Errorf("minimum memory limit can not be less than memory reservation limit, see usage")
	}
	return r, nil
}

// applyResources sets r on c's cgroup when c runs and has one, and in
// its saved spec, which its next start reads.
func (e *Engine) applyResources(c *Container, rec *record, r flags.Resources, warn func(string)) error {
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return err
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return err
	}
	lr := linuxResources(r)
	if e.Identity.Rootless() && sp.Linux.CgroupsPath == "" {
		if _, why := rootlessCgroup(r); why != "" && warn != nil {
			warn(why)
		}
		return nil
	}
	if lr == nil {
		return nil
	}
	if sp.Linux.Resources == nil {
		sp.Linux.Resources = &specs.LinuxResources{}
	}
	devices := sp.Linux.Resources.Devices
	*sp.Linux.Resources = *lr
	sp.Linux.Resources.Devices = devices
	if c.State == Running {
		if err := monitor.SetResources(e.stateRoot(), c.ID, lr); err != nil {
			return err
		}
	}
	return saveSpec(dir, sp)
}
