package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"box/engine/events"
)

// Wait conditions, as Docker's `wait --condition` takes them.
const (
	WaitNotRunning = "not-running"
	WaitNextExit   = "next-exit"
	WaitRemoved    = "removed"
)

// errWaitDone ends a follow of the event log once the awaited event came.
var errWaitDone = fmt.Errorf("wait done")

// WaitFor blocks until the container meets condition (empty: not-running)
// and returns its exit code: not-running returns at once for a container
// that does not run; next-exit waits for its next exit, starting from
// now; removed waits until it is removed, returning the code it last
// exited with. The later conditions read the event log, so that the code
// of a container removed as it ended (--rm) is still known.
func (e *Engine) WaitFor(ctx context.Context, nameOrID, condition string) (int, error) {
	switch condition {
	case "", WaitNotRunning, WaitNextExit, WaitRemoved:
	default:
		return 0, &UsageError{Msg: fmt.Sprintf("invalid condition: %q: want not-running, next-exit or removed", condition)}
	}
	since := time.Now()
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	if condition == "" || condition == WaitNotRunning {
		code, err := e.Wait(ctx, nameOrID)
		if err != nil && ctx.Err() == nil {
			// Removed (--rm) before its code could be read from its
			// record: the log kept its end.
			if code, ok := e.lastExit(ctx, c.ID, since); ok {
				return code, nil
			}
		}
		return code, err
	}
	code, done := c.ExitCode, false
	opts := events.ReadOptions{Since: since, Filter: events.Filter{"container": {c.ID}, "type": {events.Container}}}
	err = e.events.Follow(ctx, true, opts, func(ev events.Event) error {
		switch ev.Action {
		case "die":
			code, _ = strconv.Atoi(ev.Actor.Attributes["exitCode"])
			if condition == WaitNextExit {
				done = true
				return errWaitDone
			}
		case "destroy":
			done = true
			return errWaitDone
		}
		return nil
	})
	if done {
		return code, nil
	}
	if err == nil {
		err = ctx.Err()
	}
	return 0, err
}

// lastExit is the exit code of container id's last die event since then.
func (e *Engine) lastExit(ctx context.Context, id string, since time.Time) (int, bool) {
	code, found := 0, false
	opts := events.ReadOptions{Since: since, Filter: events.Filter{"container": {id}, "event": {"die"}}}
	_ = e.events.Follow(ctx, false, opts, func(ev events.Event) error {
		code, _ = strconv.Atoi(ev.Actor.Attributes["exitCode"])
		found = true
		return nil
	})
	return code, found
}

// WatchEvents passes fn the logged events opts selects, then, until ctx
// ends (or opts.Until passes), those logged from now on.
func (e *Engine) WatchEvents(ctx context.Context, opts events.ReadOptions, fn func(events.Event) error) error {
	return e.events.Follow(ctx, true, opts, fn)
}
