package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"box/rootless"
)

// guest serves a guestRequest: box started again as a network guest
// (rootless.RoleNetworkGuest), in this monitor's user namespace, on the
// client's stdio, in a session and mount namespace of its own. The request
// goes to the guest on its fd 3 and its result comes back on fd 4. The
// client hears the guest's pid, then its result; signals it sends are
// passed on.
func (s *controlServer) guest(c *net.UnixConn, m message) {
	defer c.Close()
	defer closeAll(m.files)
	var req guestRequest
	if err := m.decode(&req); err != nil || len(m.files) != 3 || (req.Run == nil) == (req.Start == nil) {
		_ = send(c, msgError, errorReport{Message: "malformed guest request"})
		return
	}
	// Counted only while the container runs: close waits for what is
	// counted once it has marked the container ended.
	s.mu.Lock()
	if s.running == nil {
		s.mu.Unlock()
		_ = send(c, msgError, errorReport{Kind: "notrunning"})
		return
	}
	s.runs.Add(1)
	s.mu.Unlock()
	defer s.runs.Done()
	runGuest(c, m, ownerEnvironment(req.Env, s.id), req.Dir, s.id)
}

// runGuest starts box as a network guest in this process's user
// namespace for the request m carries (decoded already: env and dir are
// its), on the client's files, tells the client its pid, passes on the
// signals the client sends and, once it ends, its result. for names
// whom the guest is started for, in errors.
func runGuest(c *net.UnixConn, m message, env []string, dir, whom string) {
	reqR, reqW, err1 := os.Pipe()
	resR, resW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		_ = send(c, msgError, errorReport{Message: fmt.Sprintf("start a guest for %s: %v", whom, err)})
		return
	}
	defer resR.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"box", string(rootless.RoleNetworkGuest)},
		Env:        env,
		Dir:        dir,
		Stdin:      m.files[0],
		Stdout:     m.files[1],
		Stderr:     m.files[2],
		ExtraFiles: []*os.File{reqR, resW}, // fds 3 and 4
		// The guest mounts the container's root; the monitor's own
		// mount namespace stays as it is.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Unshareflags: syscall.CLONE_NEWNS},
	}
	err := cmd.Start()
	reqR.Close()
	resW.Close()
	if err != nil {
		reqW.Close()
		_ = send(c, msgError, errorReport{Message: fmt.Sprintf("start a guest for %s: %v", whom, err)})
		return
	}
	// The guest has the client's files now (m's owner closes them too:
	// closing twice is harmless).
	closeAll(m.files)
	// The payload is at most maxMessage: the pipe takes it whole.
	_, _ = reqW.Write(m.payload)
	reqW.Close()
	_ = send(c, msgStarted, startedReport{Pid: cmd.Process.Pid})
	go func() {
		for {
			m, err := receive(c)
			if err != nil {
				// The client is gone; what it started goes on, as a
				// container started from a closed terminal would.
				return
			}
			var sig signalMessage
			if m.kind == msgSignal && m.decode(&sig) == nil {
				_ = cmd.Process.Signal(syscall.Signal(sig.Signal))
			}
		}
	}()
	out, _ := io.ReadAll(resR)
	_ = cmd.Wait()
	rep := exitReport{Code: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		rep.Code = 128 + int(ws.Signal())
	}
	var res guestResult
	if json.Unmarshal(out, &res) == nil {
		rep.Guest = &res
	}
	_ = send(c, msgExit, rep)
}

// ownerEnvironment is the client's environment with this process's user
// namespace settings in place of the client's, so that the guest stays in
// the namespace it starts in, and the owner named.
func ownerEnvironment(client []string, owner string) []string {
	return append(guestEnvironment(client), networkOwnerEnv+"="+owner)
}

// guestEnvironment is the client's environment with this process's user
// namespace settings in place of the client's.
func guestEnvironment(client []string) []string {
	own := func(kv string) bool {
		return strings.HasPrefix(kv, "_BOX_") || strings.HasPrefix(kv, "_CONTAINERS_")
	}
	var env []string
	for _, kv := range client {
		if !own(kv) {
			env = append(env, kv)
		}
	}
	for _, kv := range os.Environ() {
		if own(kv) && !strings.HasPrefix(kv, networkOwnerEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// NetworkGuestMain is the network guest role (rootless.RoleNetworkGuest)
// as main.go dispatches it: it reads a guestRequest on fd 3, makes the
// engine call it asks for on this process's stdio, and writes the
// guestResult on fd 4. It returns the process's exit code: 0 once the
// result is written, whatever it says.
func NetworkGuestMain(args []string) int {
	reqFile, resFile := os.NewFile(3, "guest-request"), os.NewFile(4, "guest-result")
	if len(args) != 0 || reqFile == nil || resFile == nil {
		fmt.Fprintf(os.Stderr, "box: %s is started by a container's monitor, with its request on fd 3\n", rootless.RoleNetworkGuest)
		return 125
	}
	defer resFile.Close()
	var req guestRequest
	err := json.NewDecoder(reqFile).Decode(&req)
	reqFile.Close()
	var res guestResult
	if err == nil {
		res = serveGuest(req)
	} else {
		res.Error = &errorReport{Message: fmt.Sprintf("read the guest request: %v", err)}
	}
	if err := json.NewEncoder(resFile).Encode(res); err != nil {
		return 125
	}
	return 0
}

// serveGuest makes the engine call req asks for.
func serveGuest(req guestRequest) guestResult {
	var res guestResult
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
