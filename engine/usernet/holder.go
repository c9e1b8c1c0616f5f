package usernet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/network"
	"box/engine/spec"
	"box/rootless"
)

// The network holder (rootless.RoleNetworkHolder), the process of the
// model in the engine's usernet.go: it holds the namespace of the user's
// networks (a bridge each, made when a container first joins) and the pasta that
// joins the namespace to the outside, and for each running container on
// user networks its name server and published ports. It serves a socket
// under the run root, where each client is greeted with the holder's
// user namespace and then asks for one thing: a join (a container's
// network namespace, sent by its monitor with every network it is on,
// attached until the monitor closes the connection), a connect or
// disconnect of one network of a joined container, or a guest (box
// started in the holder's user namespace to run or start a container,
// rootless, as the engine's guest_server.go does for a container's
// monitor, served through Hooks.Guest). The
// holder ends when its last connection closes: with the last container
// on a user network.
//
// Each joined container has a name server of its own at 127.0.0.11 in
// its namespace, as Docker's containers have: it answers the names of
// the containers on every network the asker is on, and only those, and
// its address stays the same whatever the container connects to or
// disconnects from (a server on one network's gateway would answer for
// that network alone, and be gone with it).

const (
	SocketFile = "netholder.sock"
	LockFile   = "netholder.lock"
	LogFile    = "netholder.log"

	MsgHello      = 'H' // Hello, the holder's greeting
	MsgJoin       = 'J' // Attach; files: the container's network namespace
	MsgConnect    = 'N' // Connect
	MsgDisconnect = 'L' // Disconnect
	// MsgOutside, on a joined container's connection, asks the holder
	// to answer once the way out (pasta) is ready or has failed: the
	// container's command starts after that.
	MsgOutside = 'O'

	// ResolverAddr is where a container on user networks finds its name
	// server, Docker's address for its own.
	ResolverAddr = "127.0.0.11"
)

// Hello tells a client where the holder lives.
type Hello struct {
	Pid int `json:"pid"`
	// UserNS is the inode of the holder's user namespace: only a
	// container made in it (or, as root, anywhere) can be attached.
	UserNS uint64 `json:"userns"`
}

// Join is one container's attachment to one user network.
type Join struct {
	Network string `json:"network"` // its name, for messages
	Bridge  string `json:"bridge"`
	// Gateway is the bridge's address with the subnet's length.
	Gateway string `json:"gateway"`
	HostIf  string `json:"host_if"`
	// Addr is the container's address with the subnet's length.
	Addr string `json:"addr"`
	MAC  string `json:"mac"`
	// Names are what the name servers of the network's containers
	// answer with Addr.
	Names []string `json:"names"`
	// Internal networks give no default route: no way out.
	Internal bool `json:"internal,omitempty"`
	// MTU is the bridge's and the container's interface's (0: the
	// network package's default for bridges).
	MTU int `json:"mtu,omitempty"`
}

// Attach attaches a running container to every network it is on.
type Attach struct {
	Container string `json:"container"`
	Joins     []Join `json:"joins"`
	// Ports are published on the host and forwarded to the container's
	// address on its first network that is not internal.
	Ports []network.Port `json:"ports,omitempty"`
	// Upstreams are the container's --dns servers, the host's when none.
	Upstreams []string `json:"upstreams,omitempty"`
	// Links are its --link aliases, each to the name of the container it
	// links to: its own name server alone answers them, with that
	// container's addresses on the networks both are on (Docker's links
	// on a user network).
	Links map[string]string `json:"links,omitempty"`
}

// Connect attaches a joined container to one more network.
type Connect struct {
	Container string `json:"container"`
	Join      Join   `json:"join"`
}

// Disconnect detaches a joined container from one network.
type Disconnect struct {
	Container string `json:"container"`
	Bridge    string `json:"bridge"`
}

// UserNSInode is the inode of this process's user namespace.
func UserNSInode() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/user", &st) != nil {
		return 0
	}
	return st.Ino
}

// netHolder is the holder's state.
type netHolder struct {
	hooks                      Hooks
	runRoot, sockPath, pidPath string
	ln                         *net.UnixListener
	nsCmd                      *exec.Cmd
	nsW                        *os.File
	shared                     *os.File
	pasta                      *network.Pasta
	upstreams                  []string
	// outside is closed once pasta is ready or has failed: the holder
	// serves before then, so that pasta's start overlaps the run's
	// making of its container.
	outside chan struct{}

	mu      sync.Mutex
	conns   int
	bridges map[string]bool
	members map[string]*holderMember // by container id
	done    chan struct{}
	ended   bool
}

// holderMember is one joined container: its namespace (kept open for
// later connects), its networks in the order they were attached, its
// name server and its published ports.
type holderMember struct {
	id    string
	ns    *os.File
	joins []memberJoin
	// route is the bridge the default route goes through, "" for none.
	route string
	dns   *network.DNS
	ports *portForwarder
	// links are Attach.Links.
	links map[string]string
}

// memberJoin is one network of a member, with its interface's name.
type memberJoin struct {
	Join
	ifName string
}

// Hooks are what the holder asks of the engine that starts it.
type Hooks struct {
	// Guest serves a guest request: box started in the holder's user
	// namespace to run or start a container there.
	Guest func(c *net.UnixConn, m control.Message, req control.GuestEnvelope)
	// Report is an error as it travels to a client.
	Report func(error) control.ErrorReport
	// PastaUsable says why pasta cannot join the namespace to the
	// outside; nil when it can.
	PastaUsable func() error
}

// HolderMain is the holder role (engine.NetworkHolderMain): args are
// the run root; fd 3 hears "ok" once the socket is served, or why not.
func HolderMain(args []string, hooks Hooks) int {
	ready := os.NewFile(3, "holder-ready")
	if len(args) != 1 || ready == nil {
		fmt.Fprintf(os.Stderr, "box: %s is started by box, with a pipe on fd 3\n", rootless.RoleNetworkHolder)
		return 125
	}
	// What the holder starts (its namespace's holder, pasta) must not
	// keep the pipe open: its starter reads until the end of it.
	unix.CloseOnExec(3)
	h, err := startNetHolder(args[0], hooks)
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

func startNetHolder(runRoot string, hooks Hooks) (_ *netHolder, err error) {
	// h is not the named result: a failure returns nil, and must close
	// what it had started.
	h := &netHolder{
		hooks:   hooks,
		runRoot: runRoot, sockPath: filepath.Join(runRoot, SocketFile),
		pidPath: filepath.Join(runRoot, rootless.HolderPidFile),
		bridges: map[string]bool{}, members: map[string]*holderMember{}, done: make(chan struct{}),
		upstreams: hostNameservers(), outside: make(chan struct{}),
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
	// Without pasta, containers still reach each other; not the
	// outside.
	if hooks.PastaUsable() != nil {
		close(h.outside)
	} else if p, err := network.SpawnPasta(network.Config{NetNS: h.shared}); err != nil {
		fmt.Fprintf(os.Stderr, "box: network holder: %v\n", err)
		close(h.outside)
	} else {
		h.pasta = p
		go func() {
			if err := p.Ready(); err != nil {
				fmt.Fprintf(os.Stderr, "box: network holder: %v\n", err)
			}
			close(h.outside)
		}()
	}
	if h.ln, err = control.Listen(h.sockPath); err != nil {
		return nil, err
	}
	if err := writePidFile(h.pidPath); err != nil {
		return nil, err
	}
	go h.accept()
	// A holder nobody reaches (its starter died) does not stay.
	time.AfterFunc(10*time.Second, h.maybeEnd)
	return h, nil
}

// writePidFile writes this process's pid to path, whole or not at all:
// box's C constructor reads it to join the holder's user namespace
// (rootless/userns_linux.c, join_holder).
func writePidFile(path string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("network holder: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("network holder: %w", err)
	}
	return nil
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
	if control.Send(c, MsgHello, Hello{Pid: os.Getpid(), UserNS: UserNSInode()}) != nil {
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
		h.hooks.Guest(c, m, req)
	case MsgJoin:
		var att Attach
		if err := m.Decode(&att); err != nil || len(m.Files) != 1 || att.Container == "" {
			_ = control.Send(c, control.MsgError, control.ErrorReport{Message: "malformed join request"})
			return
		}
		if err := h.join(att, m.Files[0]); err != nil {
			_ = control.Send(c, control.MsgError, h.hooks.Report(err))
			return
		}
		_ = control.Send(c, control.MsgStarted, nil)
		for {
			m, err := control.Receive(c)
			if err != nil {
				break
			}
			if m.Kind == MsgOutside {
				<-h.outside
				_ = control.Send(c, control.MsgStarted, nil)
			}
		}
		h.leave(att.Container)
	case MsgConnect:
		var cr Connect
		err := m.Decode(&cr)
		if err == nil {
			err = h.connect(cr)
		}
		// A running container that joins a network gets its way out
		// at once.
		<-h.outside
		h.reply(c, err)
	case MsgDisconnect:
		var dr Disconnect
		err := m.Decode(&dr)
		if err == nil {
			err = h.disconnect(dr)
		}
		h.reply(c, err)
	}
}

func (h *netHolder) reply(c *net.UnixConn, err error) {
	if err != nil {
		_ = control.Send(c, control.MsgError, h.hooks.Report(err))
		return
	}
	_ = control.Send(c, control.MsgStarted, nil)
}

// maybeEnd ends the holder when no connection is open. Clients connect
// under the lock (dialHolder): one that holds it is counted before the
// holder can stop listening, or finds no holder and starts another.
func (h *netHolder) maybeEnd() {
	unlock, err := Lock(h.runRoot)
	if err != nil {
		return
	}
	defer unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns != 0 || h.ended {
		return
	}
	h.ended = true
	_ = os.Remove(h.pidPath)
	_ = h.ln.Close()
	_ = os.Remove(h.sockPath)
	close(h.done)
}

// close ends what the holder runs; the namespace goes with its holder.
func (h *netHolder) close() {
	_ = os.Remove(h.pidPath)
	h.mu.Lock()
	for id := range h.members {
		h.dropMember(id)
	}
	h.mu.Unlock()
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

// join attaches the container's namespace ns to every network att names,
// making bridges that do not exist yet, and serves its name server and
// published ports. On failure nothing of it remains.
func (h *netHolder) join(att Attach, ns *os.File) (err error) {
	own, err := dupFile(ns)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.members[att.Container] != nil {
		// A monitor that lost its holder connection and joins again.
		h.dropMember(att.Container)
	}
	mb := &holderMember{id: att.Container, ns: own, links: att.Links}
	h.members[att.Container] = mb
	defer func() {
		if err != nil {
			h.dropMember(att.Container)
		}
	}()
	for _, j := range att.Joins {
		if err := h.attach(mb, j); err != nil {
			return err
		}
	}
	upstreams := att.Upstreams
	if len(upstreams) == 0 {
		upstreams = h.upstreams
	}
	mb.dns = network.NewDNS(upstreams, 2*time.Second)
	var pc net.PacketConn
	var l net.Listener
	at := net.JoinHostPort(ResolverAddr, "53")
	if err := inNetNS(own, func() (err error) {
		if lo, err := netlink.LinkByName("lo"); err == nil {
			_ = netlink.LinkSetUp(lo)
		}
		if pc, err = net.ListenPacket("udp4", at); err != nil {
			return err
		}
		l, err = net.Listen("tcp4", at)
		return err
	}); err != nil {
		if pc != nil {
			pc.Close()
		}
		return fmt.Errorf("name server at %s: %w", ResolverAddr, err)
	}
	mb.dns.Serve(pc, l)
	if len(att.Ports) > 0 {
		if mb.ports, err = h.forwardPorts(mb, att.Ports); err != nil {
			return err
		}
	}
	h.refresh()
	return nil
}

// dupFile is a second descriptor of f, which the caller closes.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// attach joins member mb to one network: its bridge (made on first use),
// a veth pair, and the default route when mb has none yet and the
// network is not internal. The caller holds h.mu.
func (h *netHolder) attach(mb *holderMember, j Join) error {
	gw, err := netip.ParsePrefix(j.Gateway)
	if err != nil {
		return fmt.Errorf("join %s: gateway %q: %w", j.Network, j.Gateway, err)
	}
	addr, err := netip.ParsePrefix(j.Addr)
	if err != nil {
		return fmt.Errorf("join %s: address %q: %w", j.Network, j.Addr, err)
	}
	mac, err := net.ParseMAC(j.MAC)
	if err != nil {
		return fmt.Errorf("join %s: %w", j.Network, err)
	}
	for _, o := range mb.joins {
		if o.Bridge == j.Bridge {
			return &spec.UsageError{Msg: fmt.Sprintf("endpoint with name %s already exists in network %s", firstName(j.Names), j.Network)}
		}
	}
	if !h.bridges[j.Bridge] {
		if err := network.EnsureBridge(h.shared, network.Bridge{Name: j.Bridge, Gateway: gw, MTU: j.MTU}); err != nil {
			return err
		}
		h.bridges[j.Bridge] = true
	}
	// A pair left by a monitor that was killed goes first.
	_ = network.Detach(h.shared, j.HostIf)
	ep := network.Endpoint{HostIf: j.HostIf, IfName: mb.freeIfName(), Addr: addr, MAC: mac}
	route := mb.route == "" && !j.Internal
	if route {
		ep.Gateway = gw.Addr()
	}
	if err := network.Attach(h.shared, mb.ns, j.Bridge, ep); err != nil {
		return err
	}
	if route {
		mb.route = j.Bridge
	}
	mb.joins = append(mb.joins, memberJoin{Join: j, ifName: ep.IfName})
	return nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// freeIfName is the first of eth0, eth1, ... that none of mb's networks
// uses.
func (mb *holderMember) freeIfName() string {
	for i := 0; ; i++ {
		name := fmt.Sprintf("eth%d", i)
		used := false
		for _, j := range mb.joins {
			used = used || j.ifName == name
		}
		if !used {
			return name
		}
	}
}

// detach removes member mb from the network of bridge br, moving its
// default route to another network that has a way out.
func (h *netHolder) detach(mb *holderMember, br string) error {
	i := slices.IndexFunc(mb.joins, func(j memberJoin) bool { return j.Bridge == br })
	if i < 0 {
		return nil
	}
	if err := network.Detach(h.shared, mb.joins[i].HostIf); err != nil {
		return err
	}
	mb.joins = slices.Delete(mb.joins, i, i+1)
	if mb.route == br {
		mb.route = ""
		for _, j := range mb.joins {
			if j.Internal {
				continue
			}
			if gw, err := netip.ParsePrefix(j.Gateway); err == nil && network.SetDefaultRoute(mb.ns, j.ifName, gw.Addr()) == nil {
				mb.route = j.Bridge
				break
			}
		}
	}
	return nil
}

// connect attaches a joined container to one more network.
func (h *netHolder) connect(cr Connect) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	mb := h.members[cr.Container]
	if mb == nil {
		return fmt.Errorf("connect %s: the container's network is not attached: restart it", cr.Join.Network)
	}
	if err := h.attach(mb, cr.Join); err != nil {
		return err
	}
	h.refresh()
	return nil
}

// disconnect detaches a joined container from one network.
func (h *netHolder) disconnect(dr Disconnect) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	mb := h.members[dr.Container]
	if mb == nil {
		return nil
	}
	if err := h.detach(mb, dr.Bridge); err != nil {
		return err
	}
	h.refresh()
	return nil
}

// leave detaches what join attached; the container's end of each pair
// may be gone with its namespace already.
func (h *netHolder) leave(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropMember(id)
	h.refresh()
}

// dropMember ends member id's ports and name server and detaches it
// from every network. The caller holds h.mu.
func (h *netHolder) dropMember(id string) {
	mb := h.members[id]
	if mb == nil {
		return
	}
	delete(h.members, id)
	mb.ports.close()
	if mb.dns != nil {
		mb.dns.Close()
	}
	for _, j := range mb.joins {
		_ = network.Detach(h.shared, j.HostIf)
	}
	mb.ns.Close()
}

// refresh gives each member's name server the names of the containers
// on the networks it is on, with their addresses there. The caller
// holds h.mu.
func (h *netHolder) refresh() {
	byBridge := map[string]map[string][]netip.Addr{}
	for _, mb := range h.members {
		for _, j := range mb.joins {
			a, err := netip.ParsePrefix(j.Addr)
			if err != nil {
				continue
			}
			if byBridge[j.Bridge] == nil {
				byBridge[j.Bridge] = map[string][]netip.Addr{}
			}
			for _, n := range j.Names {
				byBridge[j.Bridge][n] = append(byBridge[j.Bridge][n], a.Addr())
			}
		}
	}
	for _, mb := range h.members {
		if mb.dns == nil {
			continue
		}
		names := map[string][]netip.Addr{}
		add := func(n string, as []netip.Addr) {
			for _, a := range as {
				if !slices.Contains(names[n], a) {
					names[n] = append(names[n], a)
				}
			}
		}
		for _, j := range mb.joins {
			for n, as := range byBridge[j.Bridge] {
				add(n, as)
			}
			for alias, target := range mb.links {
				add(alias, byBridge[j.Bridge][target])
			}
		}
		mb.dns.SetNames(names)
	}
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
