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
)

// guestRequest asks the monitor of a running container to carry out a run
// or a start of another container in its user namespace, so that the
// other one can share its network (joinnet.go). Exactly one of Run and
// Start is set. Files sent with it: the client's stdin, stdout, stderr.
type guestRequest struct {
	Store Options      `json:"store"`
	Run   *RunOptions  `json:"run,omitempty"`
	Start *startAction `json:"start,omitempty"`
	// Env and Dir are the client's: -e VAR and --env-file read them.
	Env []string `json:"env"`
	Dir string   `json:"dir"`
}

// startAction is Start's arguments.
type startAction struct {
	Name        string `json:"name"`
	Attach      bool   `json:"attach"`
	Interactive bool   `json:"interactive"`
}

// guestResult is how the guest's engine call ended: the container's id,
// its exit code when it ran attached, or the error, typed as errorReport
// carries errors.
type guestResult struct {
	ID    string       `json:"id,omitempty"`
	Code  int          `json:"code,omitempty"`
	Error *errorReport `json:"error,omitempty"`
}

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
	return e.runVia(ctx, opts, func(req guestRequest) (guestResult, error) { return e.asGuest(owner, req, io) })
}

// runVia carries out Run with opts through a guest that via starts.
func (e *Engine) runVia(ctx context.Context, opts RunOptions, via func(guestRequest) (guestResult, error)) (string, error) {
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
		return res.ID, res.Error.err(opts.Name)
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
		return 0, res.Error.err(act.Name)
	}
	return res.Code, nil
}

// asGuest sends req to owner's monitor with io and waits for the guest's
// result. Signals this process gets are passed on to the guest.
func (e *Engine) asGuest(owner string, req guestRequest, io IO) (guestResult, error) {
	c, err := e.dialControl(owner, owner)
	if err != nil {
		var nr *NotRunningError
		if errors.As(err, &nr) {
			return guestResult{}, &NotRunningOwnerError{ID: owner}
		}
		return guestResult{}, err
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
func (e *Engine) guestOver(c *net.UnixConn, whom string, req guestRequest, io IO) (guestResult, error) {
	var err error
	req.Store = Options{Root: e.Store.Root(), RunRoot: e.Store.RunRoot(), Driver: e.Store.Driver()}
	req.Env = os.Environ()
	if req.Dir, err = os.Getwd(); err != nil {
		return guestResult{}, err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return guestResult{}, err
	}
	if len(payload) >= maxMessage {
		return guestResult{}, fmt.Errorf("the request and environment (%d bytes) are too large to pass to %s (at most %d)", len(payload), whom, maxMessage-1)
	}
	files := []*os.File{io.Stdin, io.Stdout, io.Stderr}
	if slices.Contains(files, nil) {
		// The guest always gets three files.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return guestResult{}, err
		}
		defer null.Close()
		for i, f := range files {
			if f == nil {
				files[i] = null
			}
		}
	}
	err = send(c, msgGuest, payload, files...)
	if err != nil {
		return guestResult{}, fmt.Errorf("reach %s: %w", whom, err)
	}
	m, err := receive(c)
	if err != nil {
		return guestResult{}, fmt.Errorf("reach %s: %w", whom, err)
	}
	if m.kind == msgError {
		var r errorReport
		_ = m.decode(&r)
		if r.Kind == "notrunning" {
			return guestResult{}, errGuestHostEnded
		}
		return guestResult{}, r.err(whom)
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
				_ = send(c, msgSignal, signalMessage{Signal: int(s.(syscall.Signal))})
			case <-done:
				return
			}
		}
	}()
	m, err = receive(c)
	if err != nil || m.kind != msgExit {
		return guestResult{}, fmt.Errorf("%s ended while it carried out the request", whom)
	}
	var x exitReport
	if err := m.decode(&x); err != nil {
		return guestResult{}, err
	}
	if x.Guest == nil {
		return guestResult{}, fmt.Errorf("the guest box started by %s ended with code %d before it reported", whom, x.Code)
	}
	return *x.Guest, nil
}
