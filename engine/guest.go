package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/rootless"
)

// The network guest (rootless.RoleNetworkGuest): box started by a
// container's monitor (guest_server.go), or by the network holder, in
// its user namespace, to make the engine call a client asked for
// (guest_client.go), so that the container it runs or starts can share
// that namespace's network (joinnet.go). The request and its result are
// the engine's; the control socket carries them through.

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

// NetworkGuestMain is the network guest role (rootless.RoleNetworkGuest)
// as main.go dispatches it: it reads a guestRequest on fd 3, makes the
// engine call it asks for on this process's stdio, and writes the
// control.GuestResult on fd 4. It returns the process's exit code: 0
// once the result is written, whatever it says.
func NetworkGuestMain(args []string) int {
	reqFile, resFile := os.NewFile(3, "guest-request"), os.NewFile(4, "guest-result")
	if len(args) != 0 || reqFile == nil || resFile == nil {
		fmt.Fprintf(os.Stderr, "box: %s is started by a container's monitor, with its request on fd 3\n", rootless.RoleNetworkGuest)
		return 125
	}
	// What the guest starts must not keep the result pipe open: its
	// client waits for the end of it. A monitor gets other files in
	// those places, but a network holder the guest starts gets only fd 3.
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	defer resFile.Close()
	// The CLI's default --log-level: runc's warnings (a rootless container
	// in another's PID namespace has no private one) are not the user's
	// business on the terminal this guest writes to.
	logrus.SetLevel(logrus.ErrorLevel)
	var req guestRequest
	err := json.NewDecoder(reqFile).Decode(&req)
	reqFile.Close()
	var res control.GuestResult
	if err == nil {
		res = serveGuest(req)
	} else {
		res.Error = &control.ErrorReport{Message: fmt.Sprintf("read the guest request: %v", err)}
	}
	if err := json.NewEncoder(resFile).Encode(res); err != nil {
		return 125
	}
	return 0
}

// serveGuest makes the engine call req asks for.
func serveGuest(req guestRequest) control.GuestResult {
	var res control.GuestResult
	report := func(err error) {
		var exit *ExitError
		if errors.As(err, &exit) {
			res.Code = exit.Code
		} else if err != nil {
			r := reportOf(err)
			res.Error = &r
		}
	}
	e, err := New(req.Store)
	if err != nil {
		report(err)
		return res
	}
	defer e.Close()
	stdio := IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	ctx := context.Background()
	if req.Run != nil {
		res.ID, err = e.Run(ctx, *req.Run, stdio)
		report(err)
		return res
	}
	res.Code, err = e.Start(ctx, req.Start.Name, req.Start.Attach, req.Start.Interactive, stdio)
	report(err)
	return res
}
