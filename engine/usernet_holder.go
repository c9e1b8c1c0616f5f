package engine

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/network"
	"box/rootless"
)

// The network holder (rootless.RoleNetworkHolder), the process of the
// model in usernet.go: it holds the namespace of the user's networks (a
// bridge each, made when a container first joins), a name server on each
// bridge's gateway, and the pasta that joins the namespace to the
// outside. It serves a socket under the run root, where each client is
// greeted with the holder's user namespace and then asks for one thing:
// a join (a container's network namespace, sent by its monitor, attached
// to a bridge until the monitor closes the connection) or a guest (box
// started in the holder's user namespace to run or start a container,
// rootless, as guest_server.go does for a container's monitor). The
// holder ends when its last connection closes: with the last container
// on a user network.

const (
	holderSocket = "netholder.sock"
	holderLock   = "netholder.lock"
	holderLog    = "netholder.log"

	msgHello = 'H' // holderHello, the holder's greeting
	msgJoin  = 'J' // holderJoin; files: the container's network namespace
)

// holderHello tells a client where the holder lives.
type holderHello struct {
	Pid int `json:"pid"`
	// UserNS is the inode of the holder's user namespace: only a
	// container made in it (or, as root, anywhere) can be attached.
	UserNS uint64 `json:"userns"`
}

// holderJoin attaches one container to one user network's bridge.
type holderJoin struct {
	Bridge string `json:"bridge"`
	// Gateway is the bridge's address with the subnet's length.
	Gateway string `json:"gateway"`
	HostIf  string `json:"host_if"`
	IfName  string `json:"if_name"`
	// Addr is the container's address with the subnet's length.
	Addr string `json:"addr"`
	MAC  string `json:"mac"`
	// Names are what the network's name server answers with Addr.
	Names []string `json:"names"`
	// Internal networks give no default route: no way out.
	Internal bool `json:"internal,omitempty"`
}

// userNSInode is the inode of this process's user namespace.
func userNSInode() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/user", &st) != nil {
		return 0
	}
	return st.Ino
}

// netHolder is the holder's state.
type netHolder struct {
	sockPath, lockPath string
	ln                 *net.UnixListener
	nsCmd              *exec.Cmd
	nsW                *os.File
	shared             *os.File
	pasta              *network.Pasta
	upstreams          []string

	mu      sync.Mutex
	conns   int
	bridges map[string]*holderBridge
	done    chan struct{}
	ended   bool
}

// holderBridge is one bridge's name server and the containers on it.
type holderBridge struct {
	dns     *network.DNS
	members map[string]holderJoin // by HostIf
}

// NetworkHolderMain is the holder role as main.go dispatches it: args are
// the run root; fd 3 hears "ok" once the socket is served, or why not.
func NetworkHolderMain(args []string) int {
	ready := os.NewFile(3, "holder-ready")
	if len(args) != 1 || ready == nil {
		fmt.Fprintf(os.Stderr, "box: %s is started by box, with a pipe on fd 3\n", rootless.RoleNetworkHolder)
		return 125
	}
	// What the holder starts (its namespace's holder, pasta) must not
	// keep the pipe open: its starter reads until the end of it.
	unix.CloseOnExec(3)
	h, err := startNetHolder(args[0])
	if err != nil {
		fmt.Fprintf(ready, "%v\n", err)
		return 125
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	<-h.done
	h.close()
	return 0
}

func startNetHolder(runRoot string) (h *netHolder, err error) {
	h = &netHolder{
		sockPath: filepath.Join(runRoot, holderSocket), lockPath: filepath.Join(runRoot, holderLock),
		bridges: map[string]*holderBridge{}, done: make(chan struct{}),
		upstreams: hostNameservers(),
	}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("network holder: %w", err)
	}
	defer r.Close()
	h.nsW = w
	h.nsCmd = &exec.Cmd{Path: "/proc/self/exe", Args: []string{"box", string(rootless.RoleNamespaceHolder)}, Stdin: r,
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}}
	if err := h.nsCmd.Start(); err != nil {
		h.nsCmd = nil
		return nil, fmt.Errorf("network holder: namespace: %w", err)
	}
	if h.shared, err = os.Open(fmt.Sprintf("/proc/%d/ns/net", h.nsCmd.Process.Pid)); err != nil {
		return nil, fmt.Errorf("network holder: namespace: %w", err)
	}
	// Containers reach the outside through the namespace: it forwards.
	if err := inNetNS(h.shared, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
	}); err != nil {
		fmt.Fprintf(os.Stderr, "box: network holder: ip_forward: %v\n", err)
	}
	if pastaMissing() == nil {
		p, err := network.SpawnPasta(network.Config{NetNS: h.shared})
		if err == nil {
			err = p.Ready()
		}
		if err != nil {
			// Containers still reach each other; not the outside.
			fmt.Fprintf(os.Stderr, "box: network holder: %v\n", err)
		} else {
			h.pasta = p
		}
	}
	if h.ln, err = control.Listen(h.sockPath); err != nil {
		return nil, err
	}
	go h.accept()
	// A holder nobody reaches (its starter died) does not stay.
	time.AfterFunc(10*time.Second, h.maybeEnd)
	return h, nil
}

// inNetNS calls f on a thread in the network namespace ns. The thread is
// never unlocked: it ends with its goroutine, not back in Go's pool.
func inNetNS(ns *os.File, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

func (h *netHolder) accept() {
	for {
		c, err := h.ln.AcceptUnix()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns++
		h.mu.Unlock()
		go h.handle(c)
	}
}

func (h *netHolder) handle(c *net.UnixConn) {
	defer func() {
		c.Close()
		h.mu.Lock()
		h.conns--
		last := h.conns == 0
		h.mu.Unlock()
		if last {
			h.maybeEnd()
		}
	}()
	if control.Send(c, msgHello, holderHello{Pid: os.Getpid(), UserNS: userNSInode()}) != nil {
		return
	}
	m, err := control.Receive(c)
	if err != nil {
		return
	}
	defer m.CloseFiles()
	switch m.Kind {
	case control.MsgGuest:
		var req control.GuestEnvelope
		if err := m.Decode(&req); err != nil || len(m.Files) != 3 || !req.Valid() {
			_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "malformed guest request"})
			return
		}
		runGuest(c, m, guestEnvironment(req.Env), req.Dir, "the network holder")
	case msgJoin:
		var j holderJoin
		if err := m.Decode(&j); err != nil || len(m.Files) != 1 {
			_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "malformed join request"})
			return
		}
		if err := h.join(j, m.Files[0]); err != nil {
			_ = control.Send(c, control.MsgError, reportOf(err))
			return
		}
		_ = control.Send(c, control.MsgStarted, nil)
		for {
			if _, err := control.Receive(c); err != nil {
				break
			}
		}
		h.leave(j)
	}
}

// maybeEnd ends the holder when no connection is open. Clients connect
// under the lock (dialHolder): one that holds it is counted before the
// holder can stop listening, or finds no holder and starts another.
func (h *netHolder) maybeEnd() {
	lock, err := os.OpenFile(h.lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX) != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns != 0 || h.ended {
		return
	}
	h.ended = true
	_ = h.ln.Close()
	_ = os.Remove(h.sockPath)
	close(h.done)
}

// close ends what the holder runs; the namespace goes with its holder.
func (h *netHolder) close() {
	for _, b := range h.bridges {
		b.dns.Close()
	}
	h.pasta.Stop()
	if h.shared != nil {
		h.shared.Close()
	}
	if h.nsW != nil {
		h.nsW.Close()
	}
	if h.nsCmd != nil {
		_ = h.nsCmd.Wait()
	}
}

// join attaches the container's namespace ctr as j says, making the
// bridge and its name server first if this is its first container.
func (h *netHolder) join(j holderJoin, ctr *os.File) error {
	gw, err := netip.ParsePrefix(j.Gateway)
	if err != nil {
		return fmt.Errorf("join %s: gateway %q: %w", j.Bridge, j.Gateway, err)
	}
	addr, err := netip.ParsePrefix(j.Addr)
	if err != nil {
		return fmt.Errorf("join %s: address %q: %w", j.Bridge, j.Addr, err)
	}
	mac, err := net.ParseMAC(j.MAC)
	if err != nil {
		return fmt.Errorf("join %s: %w", j.Bridge, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.bridges[j.Bridge]
	if b == nil {
		if err := network.EnsureBridge(h.shared, network.Bridge{Name: j.Bridge, Gateway: gw}); err != nil {
			return err
		}
		d := network.NewDNS(h.upstreams, 2*time.Second)
		var pc net.PacketConn
		var l net.Listener
		at := net.JoinHostPort(gw.Addr().String(), "53")
		if err := inNetNS(h.shared, func() (err error) {
			if pc, err = net.ListenPacket("udp4", at); err != nil {
				return err
			}
			l, err = net.Listen("tcp4", at)
			return err
		}); err != nil {
			if pc != nil {
				pc.Close()
			}
			return fmt.Errorf("name server of %s: %w", j.Bridge, err)
		}
		d.Serve(pc, l)
		b = &holderBridge{dns: d, members: map[string]holderJoin{}}
		h.bridges[j.Bridge] = b
	}
	// A pair left by a monitor that was killed goes first.
	_ = network.Detach(h.shared, j.HostIf)
	ep := network.Endpoint{HostIf: j.HostIf, IfName: j.IfName, Addr: addr, MAC: mac, Gateway: gw.Addr()}
	if j.Internal {
		ep.Gateway = netip.Addr{}
	}
	if err := network.Attach(h.shared, ctr, j.Bridge, ep); err != nil {
		return err
	}
	b.members[j.HostIf] = j
	b.refresh()
	return nil
}

// leave detaches what join attached; the container's end of the pair
// may be gone with its namespace already.
func (h *netHolder) leave(j holderJoin) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_ = network.Detach(h.shared, j.HostIf)
	if b := h.bridges[j.Bridge]; b != nil {
		delete(b.members, j.HostIf)
		b.refresh()
	}
}

// refresh gives the name server the names of the bridge's containers.
func (b *holderBridge) refresh() {
	names := map[string][]netip.Addr{}
	for _, m := range b.members {
		a, err := netip.ParsePrefix(m.Addr)
		if err != nil {
			continue
		}
		for _, n := range m.Names {
			names[n] = append(names[n], a.Addr())
		}
	}
	b.dns.SetNames(names)
}

// hostNameservers are the nameservers of the host's resolv.conf, which
// the name servers forward to from the host's namespace.
func hostNameservers() []string {
	data, _ := os.ReadFile("/etc/resolv.conf")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}
