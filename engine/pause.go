package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"box/engine/monitor"
)

// Paused is the state Docker shows for a frozen container; box keeps
// such a container's State Running (it runs, and stop, kill and rm treat
// it so) and says Paused beside it.
const Paused State = "paused"

// ErrPauseUnsupported marks pause and unpause of a container box cannot
// freeze.
var ErrPauseUnsupported = errors.New("pause unsupported")

// PauseUnsupportedError is pause of a rootless container: it has no
// cgroup, and a freezer is what pausing takes.
type PauseUnsupportedError struct{ Name string }

func (e *PauseUnsupportedError) Error() string {
	return fmt.Sprintf("cannot pause container %s: rootless containers get no cgroups on this machine's cgroup v1 hierarchy, "+
		"and freezing takes one; with cgroup v2 and the controllers delegated to your user (systemd's user@.service Delegate=yes), "+
		"or run as root, pause would work", e.Name)
}

func (e *PauseUnsupportedError) Unwrap() error { return ErrPauseUnsupported }

// PauseStateError is pause of a paused container or unpause of one that
// is not, in Docker's words.
type PauseStateError struct {
	Name   string
	Paused bool
}

func (e *PauseStateError) Error() string {
	if e.Paused {
		return fmt.Sprintf("container %s is already paused", e.Name)
	}
	return fmt.Sprintf("container %s is not paused", e.Name)
}

// Pause freezes every process of a running container.
func (e *Engine) Pause(nameOrID string) error { return e.setPaused(nameOrID, true) }

// Unpause lets a paused container's processes run again.
func (e *Engine) Unpause(nameOrID string) error { return e.setPaused(nameOrID, false) }

func (e *Engine) setPaused(nameOrID string, pause bool) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if c.State != Running || !c.init.alive() {
		return &NotRunningError{Name: nameOrID}
	}
	if e.Identity.Rootless() {
		return &PauseUnsupportedError{Name: nameOrID}
	}
	if c.Paused == pause {
		return &PauseStateError{Name: nameOrID, Paused: pause}
	}
	act, verb := monitor.Thaw, "unpause"
	if pause {
		act, verb = monitor.Freeze, "pause"
	}
	if err := act(e.stateRoot(), c.ID); err != nil {
		return fmt.Errorf("%s container %s: %w", verb, nameOrID, err)
	}
	e.containerEvent(verb, c)
	return nil
}

// thawSignalled lets a paused container take the signal it was just
// sent: frozen processes act on signals, SIGKILL included, only once
// thawed. Docker does the same for stop and kill of a paused container.
func (e *Engine) thawSignalled(c *Container) {
	if c.Paused {
		_ = monitor.Thaw(e.stateRoot(), c.ID)
	}
}

// frozen reads a container's freezer: cgroup v1's freezer.state or v2's
// cgroup.freeze, where rootful containers' cgroups are (/box/ID). Reading
// a file is cheap enough for every ps.
func frozen(id string) bool {
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/freezer/box", id, "freezer.state")); err == nil {
		return strings.TrimSpace(string(b)) != "THAWED"
	}
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/box", id, "cgroup.freeze")); err == nil {
		return strings.TrimSpace(string(b)) == "1"
	}
	return false
}
