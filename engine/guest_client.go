package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"box/engine/control"
)

// joinsThroughOwner says whether a container in owner's network must be
// run by owner's monitor: rootless, unless this process is already the
// guest that monitor started.
func (e *Engine) joinsThroughOwner(owner string) bool {
	return e.Identity.Rootless() && os.Getenv(networkOwnerEnv) != owner
}

// runAsGuest has owner's monitor carry out Run with opts. The image is
// resolved (and pulled, with the caller's progress) here first, so that
// the guest finds it in the store.
func (e *Engine) runAsGuest(ctx context.Context, owner string, opts RunOptions, io IO) (string, error) {
	return e.runVia(ctx, opts, func(req guestRequest) (control.GuestResult, error) { return e.asGuest(owner, req, io) })
}

// runVia carries out Run with opts through a guest that via starts.
func (e *Engine) runVia(ctx context.Context, opts RunOptions, via func(guestRequest) (control.GuestResult, error)) (string, error) {
	if _, err := e.resolveImage(ctx, opts); err != nil {
		return "", err
	}
	opts.Pull = PullNever
	opts.Puller = nil
	created := opts.Created
	opts.Created = nil
	res, err := via(guestRequest{Run: &opts})
	if err != nil {
		return "", err
	}
	if created != nil && res.ID != "" {
		created(res.ID)
	}
	if res.Error != nil {
		return res.ID, errOf(*res.Error, opts.Name)
	}
	if res.Code != 0 {
		return res.ID, &ExitError{Code: res.Code}
	}
	return res.ID, nil
}

// startAsGuest has owner's monitor carry out Start.
func (e *Engine) startAsGuest(owner string, act startAction, io IO) (int, error) {
	res, err := e.asGuest(owner, guestRequest{Start: &act}, io)
	if err != nil {
		return 0, err
	}
	if res.Error != nil {
		return 0, errOf(*res.Error, act.Name)
	}
	return res.Code, nil
}

// asGuest sends req to owner's monitor with io and waits for the guest's
// result. Signals this process gets are passed on to the guest.
func (e *Engine) asGuest(owner string, req guestRequest, io IO) (control.GuestResult, error) {
	c, err := e.dialControl(owner, owner)
	if err != nil {
		var nr *NotRunningError
		if errors.As(err, &nr) {
			return control.GuestResult{}, &NotRunningOwnerError{ID: owner}
		}
		return control.GuestResult{}, err
	}
	defer c.Close()
	res, err := e.guestOver(c, "the monitor of "+owner, req, io)
	if errors.Is(err, errGuestHostEnded) {
		return res, &NotRunningOwnerError{ID: owner}
	}
	return res, err
}

// errGuestHostEnded is the process asked to start a guest ending (a
// container's monitor whose container has ended).
var errGuestHostEnded = errors.New("the process that starts guests has ended")

// guestOver sends req with io over c, to the process that starts the
// guest (named by whom, in errors), and waits for the guest's result.
func (e *Engine) guestOver(c *net.UnixConn, whom string, req guestRequest, io IO) (control.GuestResult, error) {
	var err error
	req.Store = Options{Root: e.Store.Root(), RunRoot: e.Store.RunRoot(), Driver: e.Store.Driver()}
	req.Env = os.Environ()
	if req.Dir, err = os.Getwd(); err != nil {
		return control.GuestResult{}, err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return control.GuestResult{}, err
	}
	if len(payload) >= control.MaxMessage {
		return control.GuestResult{}, fmt.Errorf("the request and environment (%d bytes) are too large to pass to %s (at most %d)", len(payload), whom, control.MaxMessage-1)
	}
	files := []*os.File{io.Stdin, io.Stdout, io.Stderr}
	if slices.Contains(files, nil) {
		// The guest always gets three files.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return control.GuestResult{}, err
		}
		defer null.Close()
		for i, f := range files {
			if f == nil {
				files[i] = null
			}
		}
	}
	err = control.Send(c, control.MsgGuest, payload, files...)
	if err != nil {
		return control.GuestResult{}, fmt.Errorf("reach %s: %w", whom, err)
	}
	m, err := control.Receive(c)
	if err != nil {
		return control.GuestResult{}, fmt.Errorf("reach %s: %w", whom, err)
	}
	if m.Kind == control.MsgError {
		var r control.ErrorReport
		_ = m.Decode(&r)
		if r.Kind == control.KindNotRunning {
			return control.GuestResult{}, errGuestHostEnded
		}
		return control.GuestResult{}, errOf(r, whom)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGWINCH, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = control.Send(c, control.MsgSignal, control.SignalMessage{Signal: int(s.(syscall.Signal))})
			case <-done:
				return
			}
		}
	}()
	m, err = control.Receive(c)
	if err != nil || m.Kind != control.MsgExit {
		return control.GuestResult{}, fmt.Errorf("%s ended while it carried out the request", whom)
	}
	var x control.ExitReport
	if err := m.Decode(&x); err != nil {
		return control.GuestResult{}, err
	}
	if x.Guest == nil {
		return control.GuestResult{}, fmt.Errorf("the guest box started by %s ended with code %d before it reported", whom, x.Code)
	}
	return *x.Guest, nil
}
