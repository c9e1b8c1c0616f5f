package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Sharing another container's network: --network container:NAME.
//
// A rootless container's network namespace belongs to the container's own
// user namespace, a child of the one its box invocation made. Only a
// process of that invocation's namespace may join it; a later box lives in
// a sibling namespace and may not. So an invocation that starts a
// container in another's network is carried out by that container's
// monitor: box sends it its command line, environment, working directory
// and stdio over the control socket, and the monitor runs box again, as
// its child, inside its namespace (in a mount namespace of the child's
// own). Root needs none of this and joins directly.

// containerNetworkPrefix starts the network mode that shares a container's.
const containerNetworkPrefix = "container:"

// networkOwnerEnv names, in a box that a monitor runs for a client, the
// container whose namespace it runs in.
const networkOwnerEnv = "_BOX_NETWORK_OWNER"

// runRequest asks a monitor to run box for a client; files: stdin, stdout,
// stderr.
type runRequest struct {
	Args []string `json:"args"` // without argv[0]
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

// networkOwnerName is NAME of a "container:NAME" mode, or "".
func networkOwnerName(mode string) string {
	name, ok := strings.CutPrefix(mode, containerNetworkPrefix)
	if !ok {
		return ""
	}
	return name
}

// NotRunningOwnerError is a container to share the network of that is not
// running.
type NotRunningOwnerError struct{ ID string }

func (e *NotRunningOwnerError) Error() string {
	return "cannot join network of a non running container: " + e.ID
}

// runningOwner finds the container whose network mode shares, which must
// be running.
func (e *Engine) runningOwner(mode string) (*Container, error) {
	c, err := e.LookupContainer(networkOwnerName(mode))
	if err != nil {
		return nil, err
	}
	if c.State != Running || c.Pid == 0 {
		return nil, &NotRunningOwnerError{ID: c.ID}
	}
	return c, nil
}

// networkOwner is the container whose network opts share, nil for other
// modes; the mode then names it by id. It must run unless the container
// is only created.
func (e *Engine) networkOwner(opts *RunOptions) (*Container, error) {
	name := networkOwnerName(opts.Network)
	if name == "" {
		return nil, nil
	}
	c, err := e.LookupContainer(name)
	if err != nil {
		return nil, err
	}
	if !opts.CreateOnly && c.State != Running {
		return nil, &NotRunningOwnerError{ID: c.ID}
	}
	opts.Network = containerNetworkPrefix + c.ID
	return c, nil
}

// NetworkRunner says which container's monitor must carry out an
// invocation that starts a container with network mode: "" when this
// process can itself (root, or a box that monitor runs).
func (e *Engine) NetworkRunner(mode string) (string, error) {
	if networkOwnerName(mode) == "" || !e.Identity.Rootless() {
		return "", nil
	}
	c, err := e.runningOwner(mode)
	if err != nil {
		return "", err
	}
	if os.Getenv(networkOwnerEnv) == c.ID {
		return "", nil
	}
	return c.ID, nil
}

// RunRunner is NetworkRunner for box run with opts, which are checked
// first as Run checks them.
func (e *Engine) RunRunner(opts RunOptions) (string, error) {
	if networkOwnerName(opts.Network) == "" || !e.Identity.Rootless() {
		// The common case, without Run's checks done twice.
		return "", nil
	}
	if err := validate(&opts); err != nil {
		return "", err
	}
	return e.NetworkRunner(opts.Network)
}

// StartRunner is NetworkRunner for starting the existing container
// nameOrID: "" as well when it is running already.
func (e *Engine) StartRunner(nameOrID string) (string, error) {
	if !e.Identity.Rootless() {
		return "", nil
	}
	c, err := e.LookupContainer(nameOrID)
	if err != nil || c.State == Running || c.State == Restarting {
		return "", err
	}
	dir, err := e.Store.Backing().ContainerDirectory(c.ID)
	if err != nil {
		return "", err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return "", err
	}
	return e.NetworkRunner(rec.NetworkMode)
}

// GlobalArgs are the options that make another box use this one's store.
func (e *Engine) GlobalArgs() []string {
	return []string{"--root", e.Store.Root(), "--runroot", e.Store.RunRoot(), "--storage-driver", e.Store.Driver()}
}

// RunThrough has the monitor of container id run box with args, on this
// process's stdio, environment and working directory, and returns its
// exit code. Signals this process gets are passed on.
func (e *Engine) RunThrough(id string, args []string) (int, error) {
	c, err := e.dialControl(id, id)
	if err != nil {
		var nr *NotRunningError
		if errors.As(err, &nr) {
			return 0, &NotRunningOwnerError{ID: id}
		}
		return 0, err
	}
	defer c.Close()
	dir, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	req, err := json.Marshal(runRequest{Args: args, Env: os.Environ(), Dir: dir})
	if err != nil {
		return 0, err
	}
	if len(req) >= maxMessage {
		return 0, fmt.Errorf("the command line and environment (%d bytes) are too large to pass to the monitor of %s (at most %d)", len(req), id, maxMessage-1)
	}
	if err := send(c, msgRun, req, os.Stdin, os.Stdout, os.Stderr); err != nil {
		return 0, fmt.Errorf("reach the monitor of %s: %w", id, err)
	}
	m, err := receive(c)
	if err != nil {
		return 0, fmt.Errorf("reach the monitor of %s: %w", id, err)
	}
	if m.kind == msgError {
		var r errorReport
		_ = m.decode(&r)
		if r.Kind == "notrunning" {
			return 0, &NotRunningOwnerError{ID: id}
		}
		return 0, r.err(id)
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
		return 0, fmt.Errorf("the monitor of %s ended while it ran box %s", id, strings.Join(args, " "))
	}
	var x exitReport
	if err := m.decode(&x); err != nil {
		return 0, err
	}
	return x.Code, nil
}

// run serves a runRequest: box again, in this monitor's user namespace,
// on the client's stdio, in a session and mount namespace of its own.
// The client hears its pid, then its exit code; signals it sends are
// passed on.
func (s *controlServer) run(c *net.UnixConn, m message) {
	defer c.Close()
	defer closeAll(m.files)
	var req runRequest
	if err := m.decode(&req); err != nil || len(m.files) != 3 {
		_ = send(c, msgError, errorReport{Message: "malformed run request"})
		return
	}
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   append([]string{"box"}, req.Args...),
		Env:    ownerEnvironment(req.Env, s.id),
		Dir:    req.Dir,
		Stdin:  m.files[0],
		Stdout: m.files[1],
		Stderr: m.files[2],
		// The child mounts the container's root; the monitor's own
		// mount namespace stays as it is.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Unshareflags: syscall.CLONE_NEWNS},
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
	if err := cmd.Start(); err != nil {
		_ = send(c, msgError, errorReport{Message: fmt.Sprintf("run box for %s: %v", s.id, err)})
		return
	}
	closeAll(m.files)
	m.files = nil
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
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	_ = send(c, msgExit, exitReport{Code: code})
}

// ownerEnvironment is the client's environment with this process's user
// namespace settings in place of the client's, so that the child box
// stays in the namespace it starts in, and the owner named.
func ownerEnvironment(client []string, owner string) []string {
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
	return append(env, networkOwnerEnv+"="+owner)
}

// ownerEtcFiles are the owner's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, which a container sharing its network uses as Docker
// does, and the owner's hostname.
func (e *Engine) ownerEtcFiles(owner string) (map[string]string, string, error) {
	dir, err := e.Store.Backing().ContainerDirectory(owner)
	if err != nil {
		return nil, "", err
	}
	files := map[string]string{}
	for _, dst := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"} {
		p := filepath.Join(dir, filepath.Base(dst))
		if _, err := os.Stat(p); err != nil {
			return nil, "", fmt.Errorf("network of %s: %w", owner, err)
		}
		files[dst] = p
	}
	host, err := os.ReadFile(files["/etc/hostname"])
	if err != nil {
		return nil, "", err
	}
	return files, strings.TrimSpace(string(host)), nil
}

// joinOwnerNetwork points sp at the network namespace of the container
// rec shares, as it is now: the owner may have been restarted since rec
// was created.
func (e *Engine) joinOwnerNetwork(rec *record, sp *specs.Spec) error {
	if networkOwnerName(rec.NetworkMode) == "" {
		return nil
	}
	c, err := e.runningOwner(rec.NetworkMode)
	if err != nil {
		return err
	}
	if e.Identity.Rootless() && os.Getenv(networkOwnerEnv) != c.ID {
		return fmt.Errorf("the network of %s can be joined only by box run or box start, through its monitor", c.Name)
	}
	for i, ns := range sp.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			sp.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", c.Pid)
			return nil
		}
	}
	return errors.New("container spec has no network namespace")
}
