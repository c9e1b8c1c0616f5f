package engine

import (
	"box/engine/health"
	"box/engine/network"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/monitor"
	"box/storage"
)

// State is a container's lifecycle state, in Docker's words.
type State string

const (
	Created State = "created"
	Running State = "running"
	Exited  State = "exited"
	// Restarting is a container between runs, its monitor waiting to
	// start it again under its restart policy.
	Restarting State = "restarting"
)

// exitUnknown is the exit code Docker reports when the process that
// would have recorded it is gone (its daemon died; here, the monitor).
const exitUnknown = 255

// Container is what listing, inspecting and removing need of a container.
type Container struct {
	ID, Name       string
	Image, ImageID string
	// Command is the container's command line as Docker's COMMAND column
	// shows it.
	Command    string
	Created    time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	State      State
	ExitCode   int
	// Pid is the container's init as the host sees it, while running.
	Pid int
	// Labels are the image's labels with the container's own over them.
	Labels map[string]string
	// Paused is a running container whose processes are frozen.
	Paused bool
	// Restart is the container's restart policy; RestartCount how often
	// its monitor restarted it.
	Restart      RestartPolicy
	RestartCount int
	// Ports are the published ports; they are open while it runs.
	Ports []network.Port
	// Health is the state of its healthcheck; nil when none has run.
	Health *Health
	// NetworkMode is its --network as recorded: a user network's name.
	NetworkMode string

	monitor, init *processID
	// settings are its --stop-signal, --stop-timeout and the like.
	settings Settings
	// autoRemove is --rm, or a build's RUN step: its monitor, or the
	// build, deletes it as it ends.
	autoRemove bool
}

// ErrAmbiguous marks an id prefix that matches several containers.
var ErrAmbiguous = errors.New("ambiguous")

// NoSuchContainerError names what matched no container.
type NoSuchContainerError struct{ Name string }

func (e *NoSuchContainerError) Error() string { return "No such container: " + e.Name }
func (e *NoSuchContainerError) Unwrap() error { return ErrNoSuchContainer }

// Containers lists every container, newest first.
func (e *Engine) Containers() ([]*Container, error) {
	raw, err := e.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]*Container, 0, len(raw))
	for _, c := range raw {
		ctr, whole := e.describe(c)
		if !whole {
			// Not yet described: being made, or abandoned half-made.
			e.dropHalfMade(c)
			continue
		}
		if ctr.autoRemove && ctr.State == Exited && ctr.ExitCode == exitUnknown && !ctr.init.alive() {
			// --rm or a build step, and its monitor died before it could
			// be deleted (a killed foreground run or build): nobody wants
			// it, and its monitor or build would have removed it.
			// Failures leave it listed.
			if e.removeContainer(ctr) == nil {
				continue
			}
		}
		out = append(out, ctr)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// describe combines the store's container with box's record of it. It
// reports whether the container is whole: one without a record is not.
func (e *Engine) describe(c *storage.Container) (*Container, bool) {
	ctr := &Container{ID: c.ID, Name: c.Name, ImageID: c.ImageID, Created: c.Created, State: Created}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return ctr, true
	}
	rec, err := loadRecord(dir)
	if errors.Is(err, os.ErrNotExist) {
		return ctr, false
	}
	if err != nil {
		return ctr, true
	}
	ctr.Image, ctr.Created, ctr.Labels = rec.Image, rec.Created, rec.Labels
	ctr.Command = strings.Join(append([]string{rec.Path}, rec.Args...), " ")
	ctr.StartedAt, ctr.FinishedAt = rec.StartedAt, rec.FinishedAt
	ctr.Restart, ctr.RestartCount = rec.Restart, rec.RestartCount
	ctr.Ports, ctr.NetworkMode = rec.Ports, rec.NetworkMode
	ctr.autoRemove = rec.Remove || rec.BuildStep
	ctr.settings = rec.Settings
	ctr.stateFrom(rec)
	if h := health.Load(dir); h != nil {
		if ctr.State != Running {
			// No check runs now: Docker calls that unhealthy (the
			// monitor says so as it ends, unless it was killed).
			h.Status = Unhealthy
		}
		ctr.Health = h
	}
	return ctr, true
}

// A container appears whole or not at all. The store's entry comes first
// and box's record (box.json) a few milliseconds later, so a container
// without a record is either still being made, and hidden until its
// record is written, or was abandoned by a creator killed in between,
// and removed by whoever lists containers next. The entry names its
// creator (storage.ContainerOptions.Creator, written with the entry
// itself), so which of the two is told by that process, not by a guess
// from the time.

// creatorTag names this process as a container's creator.
func creatorTag() string {
	b, _ := json.Marshal(currentProcess())
	return string(b)
}

// dropHalfMade removes container c, which has no record, once the process
// that made it is gone. Entries from before creators were named count as
// abandoned: no box that still runs makes one. Failures are left for the
// next listing.
func (e *Engine) dropHalfMade(c *storage.Container) {
	var creator processID
	if c.Creator != "" && json.Unmarshal([]byte(c.Creator), &creator) == nil && creator.alive() {
		return
	}
	_ = e.Store.UnmountContainer(c.ID)
	if err := e.Store.DeleteContainer(c.ID); err != nil && !errors.Is(err, storage.ErrContainerUnknown) {
		return
	}
	_ = monitor.Release(e.stateRoot(), c.ID)
	_ = os.RemoveAll(filepath.Join(e.stateRoot(), c.ID))
	_ = os.Remove(e.controlPath(c.ID))
	e.releaseNetworks(c.ID)
}

// stateFrom derives the container's state from its record, asking the
// record's processes whether they still run: a live monitor makes it
// running (or still starting, or restarting), an exit code exited, and a
// monitor that died without recording one exited with exitUnknown.
func (ctr *Container) stateFrom(rec *record) {
	switch {
	case rec.Restarting && rec.Monitor.alive():
		ctr.State, ctr.monitor = Restarting, rec.Monitor
		if rec.ExitCode != nil {
			ctr.ExitCode = *rec.ExitCode
		}
	case rec.ExitCode != nil && rec.StartedAt.IsZero():
		// Its first start failed (a missing command): Docker keeps it
		// created, with the code.
		ctr.ExitCode = *rec.ExitCode
	case rec.ExitCode != nil:
		ctr.State, ctr.ExitCode = Exited, *rec.ExitCode
	case rec.Monitor.alive() && rec.Init == nil:
		// Its monitor is starting it: not running yet, as for Docker.
		ctr.monitor = rec.Monitor
	case rec.Monitor.alive():
		ctr.State, ctr.monitor, ctr.init = Running, rec.Monitor, rec.Init
		ctr.Paused = frozen(ctr.ID)
		if rec.Init != nil {
			ctr.Pid = rec.Init.PID
		}
	case !rec.StartedAt.IsZero():
		// Its monitor died without recording how the container ended; its
		// processes may live on, orphaned, until rm -f ends them.
		ctr.State, ctr.ExitCode, ctr.init = Exited, exitUnknown, rec.Init
	}
}

// LookupContainer finds a container by full id, name or unique id prefix,
// as Docker does.
func (e *Engine) LookupContainer(nameOrID string) (*Container, error) {
	all, err := e.Containers()
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(nameOrID, "/")
	var prefixed []*Container
	for _, c := range all {
		if c.ID == nameOrID || c.Name == name {
			return c, nil
		}
		if nameOrID != "" && strings.HasPrefix(c.ID, nameOrID) {
			prefixed = append(prefixed, c)
		}
	}
	switch len(prefixed) {
	case 0:
		return nil, &NoSuchContainerError{Name: nameOrID}
	case 1:
		return prefixed[0], nil
	}
	return nil, fmt.Errorf("%w: multiple containers match id prefix %q", ErrAmbiguous, nameOrID)
}

// ContainerRunningError is `rm` of a running container without force.
type ContainerRunningError struct {
	Name       string
	Restarting bool
}

func (e *ContainerRunningError) Error() string {
	if e.Restarting {
		return fmt.Sprintf("cannot remove container %q: container is restarting: stop the container before removing or force remove", "/"+e.Name)
	}
	return fmt.Sprintf("cannot remove container %q: container is running: stop the container before removing or force remove", "/"+e.Name)
}

// RemoveContainer removes a container, its writable layer and its state.
// A running container needs force: its init is killed, and once its
// monitor has finished with it the container is removed.
func (e *Engine) RemoveContainer(ctx context.Context, nameOrID string, force bool) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if c.State == Restarting && !force {
		return &ContainerRunningError{Name: c.Name, Restarting: true}
	}
	if c.State == Running && !force {
		return &ContainerRunningError{Name: c.Name}
	}
	if c.Restart.active() && force {
		// Not to be started again while it goes.
		e.stopRestarts(c.ID)
	}
	// Killing the init ends the container: its PID namespace goes with it.
	if c.init.alive() {
		if !force {
			return &ContainerRunningError{Name: c.Name}
		}
		if err := unix.Kill(c.init.PID, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill container %s: %w", c.Name, err)
		}
		e.thawSignalled(c)
	}
	for _, p := range []*processID{c.init, c.monitor} {
		if err := waitGone(ctx, p, 10*time.Second); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
	}
	return e.removeContainer(c)
}

// removeContainer removes c, whose processes have ended: libcontainer's
// state, its logs, layer, directories and network endpoints.
func (e *Engine) removeContainer(c *Container) error {
	if err := monitor.Release(e.stateRoot(), c.ID); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	// Not from under a cp, export, commit or start holding its layers
	// (see mountLockPath); a start that won the race keeps it running.
	lock, err := e.lockMount(c.ID, func() (bool, error) { return e.runsUnderMonitor(c.ID) })
	if err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	if lock == nil {
		return &ContainerRunningError{Name: c.Name}
	}
	defer lock.Close()
	defer e.removeMountLock(c.ID)
	removeLogs(e, c.ID)
	// The rootfs mount lived in the monitor's mount namespace; the store's
	// count of it is stale here, so the unmount only resets it.
	_ = e.Store.UnmountContainer(c.ID)
	if err := e.Store.DeleteContainer(c.ID); err != nil && !errors.Is(err, storage.ErrContainerUnknown) {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	_ = os.RemoveAll(filepath.Join(e.stateRoot(), c.ID))
	_ = os.Remove(e.controlPath(c.ID)) // left by a monitor that was killed
	e.releaseNetworks(c.ID)
	e.containerEvent("destroy", c)
	return nil
}

// waitGone waits for a process to end.
func waitGone(ctx context.Context, p *processID, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for p.alive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not end within %s", p.PID, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// ContainerSize is the size of what the container wrote, as `ps -s`
// shows it; 0 when it cannot be told.
func (e *Engine) ContainerSize(id string) int64 {
	n, err := e.Store.ContainerSize(id)
	if err != nil {
		return 0
	}
	return n
}

// Rename gives a container a new name.
func (e *Engine) Rename(nameOrID, newName string) error {
	if !validName(newName) {
		return &UsageError{Msg: fmt.Sprintf("invalid container name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", newName)}
	}
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	// Docker refuses a name another container holds, as the store does.
	if err := e.Store.RenameContainer(c.ID, newName); err != nil {
		if inUse := (*storage.NameInUseError)(nil); errors.As(err, &inUse) {
			return &NameConflictError{Name: newName, ID: inUse.ID}
		}
		return fmt.Errorf("rename %s: %w", nameOrID, err)
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return err
	}
	err = updateRecord(dir, func(rec *record) error {
		rec.Name = newName
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rename %s: %w", nameOrID, err)
	}
	old := c.Name
	c.Name = newName
	e.containerEvent("rename", c, "oldName", "/"+old)
	return nil
}

// Prune removes every container that is not running and that pf selects
// (until=, label=, label!=, as Docker's container prune); it returns their
// ids and the bytes their writable layers held.
func (e *Engine) Prune(ctx context.Context, pf storage.PruneFilter) ([]string, int64, error) {
	all, err := e.Containers()
	if err != nil {
		return nil, 0, err
	}
	var removed []string
	var reclaimed int64
	var errs []error
	for _, c := range all {
		if c.State == Running || c.State == Restarting || !pf.Matches(c.Created, c.Labels) {
			continue
		}
		size := e.ContainerSize(c.ID)
		if err := e.RemoveContainer(ctx, c.ID, false); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, c.ID)
		reclaimed += size
	}
	return removed, reclaimed, errors.Join(errs...)
}

// Change is one path a container added (A), changed (C) or deleted (D)
// relative to its image, as `diff` lists them.
type Change struct {
	Kind string
	Path string
}

// Diff lists what the container changed in its filesystem, sorted by path.
func (e *Engine) Diff(nameOrID string) ([]Change, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	// The store may mount the layer to read it: not beside a start's mount.
	release, err := e.holdLayers(c.ID)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameOrID, err)
	}
	changes, err := e.Store.ContainerChanges(c.ID)
	release()
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", nameOrID, err)
	}
	// Mount points the runtime made (/proc, /etc/hosts, volumes, ...) are
	// not the container's doing; Docker leaves them out, and the
	// directories they alone changed with them.
	made := map[string]bool{}
	if dir, err := e.Store.ContainerDir(c.ID); err == nil {
		if sp, err := loadSpec(dir); err == nil {
			for _, m := range sp.Mounts {
				made[m.Destination] = true
			}
		}
	}
	var kept []storage.Change
	for _, ch := range changes {
		if !(ch.Kind == storage.ChangeAdd && made[ch.Path]) {
			kept = append(kept, ch)
		}
	}
	changes = nil
	for _, ch := range kept {
		if ch.Kind == storage.ChangeModify && !hasChangeUnder(kept, ch.Path) && madeUnder(made, ch.Path) {
			continue
		}
		changes = append(changes, ch)
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		out = append(out, Change{Kind: string(ch.Kind), Path: ch.Path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hasChangeUnder(changes []storage.Change, dir string) bool {
	for _, ch := range changes {
		if strings.HasPrefix(ch.Path, dir+"/") {
			return true
		}
	}
	return false
}

func madeUnder(made map[string]bool, dir string) bool {
	for p := range made {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}
