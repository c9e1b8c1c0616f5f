package engine

import (
	"errors"
	"fmt"

	"box/engine/flags"
)

// UpdateOptions are `box update`'s changes; nil fields stay as they are.
type UpdateOptions struct {
	// Restart is a new restart policy, as engine/flags reads --restart.
	Restart *flags.RestartPolicy
}

// Update changes a container's settings, running or not, as Docker's
// update does. A new restart policy is written to the container's
// record, where its monitor reads it each time the container ends: it
// takes effect at the next exit of a detached container, and at the
// next start of a stopped one. A container running attached to a `box
// run` in the foreground has no monitor of its own to restart it.
func (e *Engine) Update(nameOrID string, opts UpdateOptions) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if opts.Restart == nil {
		return nil
	}
	policy := RestartPolicy(*opts.Restart)
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return err
	}
	err = updateRecord(dir, func(rec *record) error {
		if policy.active() && rec.Remove {
			return &UsageError{Msg: fmt.Sprintf("cannot update container %s: restart policy cannot be updated because AutoRemove is enabled for the container", nameOrID)}
		}
		rec.Restart = policy
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

// reloadRestart takes up a restart policy `box update` may have written
// to the record since rec was read (the monitor calls it as the
// container ends).
func reloadRestart(rec *record, dir string) {
	if onDisk, err := loadRecord(dir); err == nil {
		rec.Restart = onDisk.Restart
	}
}
