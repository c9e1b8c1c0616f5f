package monitor

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
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
