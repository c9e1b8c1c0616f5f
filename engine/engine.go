// Package engine owns containers: creating them from images, running them
// through their monitor, and the bookkeeping a later invocation needs to
// find them. It uses package storage for images and containers' layers,
// names and directories (never go.podman.io/storage itself) and package
// rootless for who it runs as. It never prints: results come back as
// values and container output goes only to the writers it is given.
//
// A few helpers from go.podman.io/storage/pkg stay in use here (archive's
// tar streams with id remapping, lockfile, ioutils' atomic writes, unshare,
// stringid): they are independent of the store, and wrapping them would
// only add a layer that forwards each call.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"box/engine/events"
	"box/rootless"
	"box/storage"
)

// Options say where box keeps its state.
type Options struct {
	// Root and RunRoot override the default store locations.
	Root, RunRoot string
	// Driver overrides the storage driver ("overlay").
	Driver string
}

// Engine is one invocation's handle on the store and its identity.
type Engine struct {
	Identity rootless.Identity
	Store    *storage.Store
	runRoot  string
	events   *events.Log
}

// ErrNoSuchContainer marks a name or id that matches no container.
var ErrNoSuchContainer = errors.New("no such container")

// New opens the store for the current identity. Unprivileged callers must
// already be inside box's user namespace (rootless.Enter).
func New(opts Options) (*Engine, error) {
	id, err := rootless.Current()
	if err != nil {
		return nil, err
	}
	root, runRoot, err := Paths(id, opts)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open(storage.Options{
		Root: root, RunRoot: runRoot, Driver: opts.Driver,
		SingleID: id.Mode == rootless.SingleID,
	})
	if err != nil {
		return nil, err
	}
	e := &Engine{Identity: id, Store: st, runRoot: runRoot, events: eventLog(runRoot)}
	st.OnImageEvent = func(action, id, name string) {
		e.events.Emit(events.Image, action, id, map[string]string{"name": name})
	}
	return e, nil
}

// Paths resolves the store and run roots for id, honouring overrides.
func Paths(id rootless.Identity, opts Options) (root, runRoot string, err error) {
	root, runRoot, err = storage.DefaultPaths(id.Rootless(), id.UID)
	if err != nil {
		return "", "", err
	}
	if opts.Root != "" {
		root = opts.Root
	}
	if opts.RunRoot != "" {
		runRoot = opts.RunRoot
	}
	return root, runRoot, nil
}

// Close releases the store.
func (e *Engine) Close() { e.Store.Close() }

// Reset removes everything box stored for this user: containers (running
// ones are ended first, with their monitors, as Podman's reset does),
// images, layers and run state.
func (e *Engine) Reset() error {
	var errs []error
	if all, err := e.Containers(); err == nil {
		for _, c := range all {
			if err := e.RemoveContainer(context.Background(), c.ID, true); err != nil {
				errs = append(errs, err)
			}
		}
	}
	root, runRoot := e.Store.Root(), e.Store.RunRoot()
	wipeErr := e.Store.Wipe()
	e.Store.Close()
	// Wipe leaves the driver's directories; remove the whole tree so a
	// reset store is as new, whatever state it was in.
	errs = append(errs, wipeErr)
	treeGone := true
	for _, dir := range []string{root, runRoot} {
		if err := removeTree(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
			treeGone = false
		}
	}
	if treeGone {
		// On a full disk the store's own removals fail rewriting their
		// lists, but removing the whole tree did the job they failed at.
		errs = slices.DeleteFunc(errs, func(err error) bool { return errors.Is(err, syscall.ENOSPC) })
	}
	return errors.Join(errs...)
}

// removeTree unmounts anything left mounted under dir and removes what
// it holds, then the directory itself when its parent allows (a --root
// the user made in a directory of someone else's stays, empty).
func removeTree(dir string) error {
	unmountUnder(dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	_ = os.Remove(dir)
	return nil
}

func (e *Engine) stateRoot() string { return filepath.Join(e.runRoot, "runtime") }

// controlPath is where the monitor of container id listens (see
// box/engine/control).
func (e *Engine) controlPath(id string) string {
	return filepath.Join(e.runRoot, "ctl", id)
}
