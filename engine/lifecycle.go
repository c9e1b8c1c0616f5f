package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/flags"
	"box/engine/monitor"
)

// NotRunningError is a verb that needs a running container given one
// that is not.
type NotRunningError struct{ Name string }

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("container %s is not running", e.Name)
}

// ParseSignal reads a signal as Docker takes it: "KILL", "SIGKILL" or "9".
func ParseSignal(s string) (syscall.Signal, error) { return flags.ParseSignal(s) }

// Kill sends sig to a running container's init.
func (e *Engine) Kill(nameOrID string, sig syscall.Signal) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if c.Restart.active() && (c.State == Restarting || c.State == Running && !c.init.alive()) && c.monitor.alive() {
		// Between two runs of a restart policy there is no process to
		// signal: as Docker's kill, telling the monitor to restart no more
		// is enough, and the container stays exited.
		e.stopRestarts(c.ID)
		return nil
	}
	if c.State != Running || !c.init.alive() {
		return &NotRunningError{Name: nameOrID}
	}
	if c.Restart.active() {
		e.stopRestarts(c.ID)
	}
	if err := unix.Kill(c.init.PID, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill container %s: %w", nameOrID, err)
	}
	e.containerEvent("kill", c, "signal", strconv.Itoa(int(sig)))
	e.thawSignalled(c)
	return nil
}

// Stop asks a running container to stop with sig (zero: its
// --stop-signal, else the image's StopSignal, else SIGTERM), and kills
// it when it has not ended within timeout (negative: its --stop-timeout,
// else 10 s); it returns once the container's monitor has recorded the end.
// Stopping a container that is not running is not an error, as in Docker.
func (e *Engine) Stop(ctx context.Context, nameOrID string, timeout time.Duration, sig syscall.Signal) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	if c.Restart.active() {
		// Stopped by hand, it is not restarted (Docker's rule for every
		// policy); one waiting to restart just stops waiting.
		e.stopRestarts(c.ID)
		if c.State == Restarting {
			err := waitGone(ctx, c.monitor, 10*time.Second)
			e.containerEvent("stop", c)
			return err
		}
	}
	if c.State != Running || !c.init.alive() {
		return nil
	}
	if sig == 0 {
		sig = e.stopSignal(c)
	}
	if timeout < 0 {
		timeout = 10 * time.Second
		if t := c.settings.StopTimeout; t != nil {
			timeout = time.Duration(*t) * time.Second
			if *t < 0 {
				timeout = 100 * 365 * 24 * time.Hour // -1: wait for ever
			}
		}
	}
	if err := unix.Kill(c.init.PID, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop container %s: %w", nameOrID, err)
	}
	e.containerEvent("kill", c, "signal", strconv.Itoa(int(sig)))
	e.thawSignalled(c)
	if waitGone(ctx, c.init, timeout) != nil {
		if err := unix.Kill(c.init.PID, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stop container %s: %w", nameOrID, err)
		}
	}
	for _, p := range []*processID{c.init, c.monitor} {
		if err := waitGone(ctx, p, 10*time.Second); err != nil {
			return fmt.Errorf("stop container %s: %w", nameOrID, err)
		}
	}
	e.containerEvent("stop", c)
	return nil
}

// stopSignal is the container's --stop-signal, the image's StopSignal,
// or SIGTERM.
func (e *Engine) stopSignal(c *Container) syscall.Signal {
	if s := c.settings.StopSignal; s != "" {
		if sig, err := flags.ParseSignal(s); err == nil {
			return sig
		}
	}
	if img, err := e.Store.LookupImage(c.ImageID); err == nil && img.Config.Config.StopSignal != "" {
		if sig, err := ParseSignal(img.Config.Config.StopSignal); err == nil {
			return sig
		}
	}
	return unix.SIGTERM
}

// Wait blocks until the container is no longer running and returns its
// exit code.
func (e *Engine) Wait(ctx context.Context, nameOrID string) (int, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	for c.State == Running {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if !c.monitor.alive() {
			// Read what the monitor recorded on its way out.
			if c, err = e.LookupContainer(c.ID); err != nil {
				return 0, fmt.Errorf("wait for %s: it was removed before its exit code could be read", nameOrID)
			}
		}
	}
	return c.ExitCode, nil
}

// Start runs a created or stopped container again from its saved spec:
// under a monitor process of its own, or with attach in this process on
// io, returning the exit code then. Starting a running container does
// nothing, as in Docker.
func (e *Engine) Start(ctx context.Context, nameOrID string, attach, interactive bool, io IO) (int, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	if c.State == Running || c.State == Restarting {
		return 0, nil
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return 0, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	if err := e.checkLinks(rec); err != nil {
		return 0, err
	}
	if isUserNetworkMode(rec.NetworkMode) {
		hc, guest, err := e.holderGuest()
		if err != nil {
			return 0, err
		}
		defer hc.Close()
		if guest {
			return e.startThroughHolder(hc, startAction{Name: c.ID, Attach: attach, Interactive: interactive}, io)
		}
	}
	if networkOwnerName(rec.NetworkMode) != "" && e.Identity.Rootless() {
		owner, err := e.runningOwner(rec.NetworkMode)
		if err != nil {
			return 0, err
		}
		if e.joinsThroughOwner(owner.ID) {
			return e.startAsGuest(owner.ID, startAction{Name: c.ID, Attach: attach, Interactive: interactive}, io)
		}
	}
	if e.Identity.Rootless() {
		// --pid or --ipc container:NAME: through NAME's monitor (settings.go).
		owner, err := e.namespaceOwner(rec)
		if err != nil {
			return 0, err
		}
		if owner != nil && e.joinsThroughOwner(owner.ID) {
			return e.startAsGuest(owner.ID, startAction{Name: c.ID, Attach: attach, Interactive: interactive}, io)
		}
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	// Nobody else may hold its layers mounted meanwhile (see
	// mountLockPath): a cp of the stopped container finishes first, and a
	// start that won the race leaves this one nothing to do.
	lock, err := e.lockMount(c.ID, func() (bool, error) { return e.runsUnderMonitor(c.ID) })
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	if lock == nil {
		return 0, nil
	}
	defer lock.Close()
	if c, err = e.reload(c.ID); err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	if c.State == Running || c.State == Restarting || c.monitor.alive() {
		// A start that won the race: it runs, or is on its way.
		return 0, nil
	}
	// What that start recorded, if one ran meanwhile, is the record now.
	if rec, err = loadRecord(dir); err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	// A monitor that died leaves libcontainer's state (and, rootful, the
	// container's cgroup) behind, and libcontainer refuses an id it has
	// state for; and it leaves the store counting a mount that lived in
	// its namespace, which the forced unmount resets before mounting.
	if err := monitor.Release(e.stateRoot(), c.ID); err != nil {
		return 0, fmt.Errorf("start %s: %w", nameOrID, err)
	}
	_ = e.Store.UnmountContainer(c.ID)
	rootfs, err := e.Store.MountContainer(c.ID)
	if err != nil {
		return 0, fmt.Errorf("mount container %s: %w", nameOrID, err)
	}
	if err := e.checkStartCommand(rec, dir, rootfs, sp); err != nil {
		return 0, err
	}
	rec.ExitCode, rec.FinishedAt, rec.Error = nil, time.Time{}, ""
	if !attach {
		if err := rec.save(dir); err != nil {
			return 0, err
		}
		return 0, e.startMonitor(c.ID, lock)
	}
	defer func() {
		_ = e.Store.UnmountContainer(c.ID)
		if rec.Remove {
			_ = e.Store.DeleteContainer(c.ID)
			e.removeMountLock(c.ID)
			_ = e.removeAnonymousVolumes(rec.Volumes)
			e.recordEvent("destroy", rec)
		}
	}()
	mio := monitor.Config{
		ID: c.ID, StateRoot: e.stateRoot(), Spec: sp, Rootless: e.Identity.Rootless(),
		Stdout: io.Stdout, Stderr: io.Stderr,
	}
	if interactive {
		mio.Stdin = io.Stdin
	}
	finishLog, err := logAttached(rec, dir, &mio)
	if err != nil {
		return 0, err
	}
	st, err := e.supervise(ctx, rec, dir, mio, nil, nil)
	finishLog()
	if err != nil {
		return 0, err
	}
	return st.ExitCode, nil
}

// checkStartCommand is create's missing check of the command, made when
// the container starts, as Docker's daemon makes it: a command that
// cannot run leaves the container as it was (created, if it never ran)
// with the exit code 127 or 126 and the reason recorded, and removes it
// for --rm. The rootfs mounted for the start is released then.
func (e *Engine) checkStartCommand(rec *record, dir, rootfs string, sp *specs.Spec) error {
	// The record keeps the user's command; the spec's may begin with
	// --init's.
	proc := *sp.Process
	proc.Args = append([]string{rec.Path}, rec.Args...)
	err := checkCommand(rootfs, &specs.Spec{Process: &proc}, bindMounts(sp))
	var cmd *CommandError
	if !errors.As(err, &cmd) {
		return err
	}
	_ = e.Store.UnmountContainer(rec.ID)
	if rec.Remove {
		_ = e.deleteWithVolumes(func() { _ = e.Store.DeleteContainer(rec.ID) }, rec.Volumes)
		e.recordEvent("destroy", rec)
		return err
	}
	code := 126
	if cmd.NotFound {
		code = 127
	}
	rec.ExitCode, rec.Error = &code, err.Error()
	if serr := rec.save(dir); serr != nil {
		return serr
	}
	return err
}
