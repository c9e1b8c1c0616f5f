package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"box/engine/control"
	"box/rootless"
)

// guest serves a guest request (guest.go's guestRequest, which the
// monitor reads only as far as control.GuestEnvelope): box started again
// as a network guest (rootless.RoleNetworkGuest), in this monitor's user
// namespace, on the client's stdio, in a session and mount namespace of
// its own. The request goes to the guest on its fd 3 and its result
// comes back on fd 4. The client hears the guest's pid, then its result;
// signals it sends are passed on.
func (s *controlServer) guest(c *net.UnixConn, m control.Message) {
	defer c.Close()
	defer m.CloseFiles()
	var req control.GuestEnvelope
	if err := m.Decode(&req); err != nil || len(m.Files) != 3 || !req.Valid() {
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "malformed guest request"})
		return
	}
	// Counted only while the container runs: close waits for what is
	// counted once it has marked the container ended.
	s.mu.Lock()
	if s.running == nil {
		s.mu.Unlock()
		_ = control.Send(c, control.MsgError, control.ErrorReport{Kind: control.KindNotRunning})
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
func runGuest(c *net.UnixConn, m control.Message, env []string, dir, whom string) {
	reqR, reqW, err1 := os.Pipe()
	resR, resW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: fmt.Sprintf("start a guest for %s: %v", whom, err)})
		return
	}
	defer resR.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"box", string(rootless.RoleNetworkGuest)},
		Env:        env,
		Dir:        dir,
		Stdin:      m.Files[0],
		Stdout:     m.Files[1],
		Stderr:     m.Files[2],
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
		_ = control.Send(c, control.MsgError, control.ErrorReport{Message: fmt.Sprintf("start a guest for %s: %v", whom, err)})
		return
	}
	// The guest has the client's files now (m's owner closes them too:
	// closing twice is harmless).
	m.CloseFiles()
	// The payload is at most control.MaxMessage: the pipe takes it whole.
	_, _ = reqW.Write(m.Payload)
	reqW.Close()
	_ = control.Send(c, control.MsgStarted, control.StartedReport{Pid: cmd.Process.Pid})
	go func() {
		for {
			m, err := control.Receive(c)
			if err != nil {
				// The client is gone; what it started goes on, as a
				// container started from a closed terminal would.
				return
			}
			var sig control.SignalMessage
			if m.Kind == control.MsgSignal && m.Decode(&sig) == nil {
				_ = cmd.Process.Signal(syscall.Signal(sig.Signal))
			}
		}
	}()
	out, _ := io.ReadAll(resR)
	_ = cmd.Wait()
	rep := control.ExitReport{Code: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		rep.Code = 128 + int(ws.Signal())
	}
	var res control.GuestResult
	if json.Unmarshal(out, &res) == nil {
		rep.Guest = &res
	}
	_ = control.Send(c, control.MsgExit, rep)
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
