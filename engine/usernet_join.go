package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"box/engine/control"
	"box/engine/flags"
	"box/engine/network"
	"box/engine/spec"
	"box/engine/usernet"
	"box/rootless"
)

// Containers joining user networks, the client's side of the holder
// (engine/usernet/holder.go): run and start reach the holder first (starting it
// if none runs) and, rootless from another user namespace, have it start
// a guest box that makes the same call inside its own; the monitor's
// hook in supervise sends the container's network namespace to be
// attached and keeps that connection for as long as the container runs.

// userNetworksOf are the user networks opts joins, none when its
// network mode is one of box's others; it marks opts as on them.
// --ip and --network-alias apply to the first network, as Docker's
// short flags do.
func (e *Engine) userNetworksOf(opts *RunOptions) ([]*usernet.Network, error) {
	mode := opts.Network.String()
	if mode == "" || isBuiltinNetwork(mode) || isModeName(mode) || strings.Contains(mode, ":") {
		switch {
		case len(opts.Networks) > 0:
			return nil, &UsageError{Msg: "conflicting options: cannot attach both user-defined and non-user-defined network-modes"}
		case opts.IP != "":
			return nil, &UsageError{Msg: "user specified IP address is supported on user defined networks only"}
		case len(opts.NetworkAliases) > 0:
			return nil, &UsageError{Msg: "network-scoped alias is supported only for containers in user defined networks"}
		}
		// The default network is the holder's bridge where pasta runs (a
		// holder's guest is given it already chosen), with two
		// exceptions that keep a private network: a build's RUN step,
		// which lives no longer than its command and gains nothing from
		// the bridge; and a rootless container joining another's PID or
		// IPC namespace, which is run in that container's user namespace
		// by its monitor, where the holder cannot reach it (nsOwner).
		chosen := opts.Network == flags.NamedNetwork(defaultBridge)
		if opts.Network.Mode != flags.NetworkDefault && !chosen || opts.buildStep || NetworkBackend() != networkPasta ||
			e.Identity.Rootless() && len(sharedNamespaces(opts.Settings)) > 0 {
			return nil, nil
		}
		n, err := e.defaultNetwork()
		if err != nil {
			return nil, err
		}
		opts.userNetwork, opts.publishOnUser = true, true
		opts.Network = flags.NamedNetwork(defaultBridge)
		return []*usernet.Network{n}, nil
	}
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var found []*usernet.Network
	err = s.Read(func(list []*usernet.Network) error {
		for i, name := range append([]string{mode}, opts.Networks...) {
			if isBuiltinNetwork(name) || isModeName(name) || strings.Contains(name, ":") {
				return &UsageError{Msg: "conflicting options: cannot attach both user-defined and non-user-defined network-modes"}
			}
			n, err := findNetwork(list, name)
			if err != nil {
				if i == 0 {
					// Not a network: resolveNetwork says what it may be.
					return nil
				}
				return err
			}
			if slices.ContainsFunc(found, func(o *usernet.Network) bool { return o.ID == n.ID }) {
				return &UsageError{Msg: fmt.Sprintf("network %s is given twice", n.Name)}
			}
			found = append(found, n)
		}
		return nil
	})
	if err != nil || len(found) == 0 {
		return nil, err
	}
	opts.userNetwork = true
	opts.Network = flags.NamedNetwork(found[0].Name)
	opts.Networks = nil
	for _, n := range found {
		if n != found[0] {
			opts.Networks = append(opts.Networks, n.Name)
		}
		// Docker publishes nothing of a container on internal networks
		// only.
		opts.publishOnUser = opts.publishOnUser || !n.Internal
	}
	return found, nil
}

// defaultBridge is Docker's name for the default network. Where pasta
// can run, box serves it as Docker does, one bridge for every container
// on it, in the network holder's namespace (see usernet.go); a container
// run there records it as its network mode. Without pasta each container
// has a private network of netstack's instead.
const defaultBridge = "bridge"

// defaultNetwork is the default network's record, made on first use:
// Docker's 172.17.0.0/16 unless the host or a user network has it, then
// the first free subnet of the user networks' pool.
func (e *Engine) defaultNetwork() (*usernet.Network, error) {
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var found *usernet.Network
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		for _, n := range list {
			if n.Default {
				found = n
				return list, nil
			}
		}
		taken := takenPrefixes(list)
		plan, err := usernet.PlanAddresses("172.17.0.0/16", "", "", taken)
		if err != nil {
			if plan, err = usernet.PlanAddresses("", "", "", taken); err != nil {
				return nil, err
			}
		}
		found = &usernet.Network{
			ID: builtinID(defaultBridge), Name: defaultBridge, Created: time.Now().UTC(), Default: true,
			Subnet: plan.Subnet.String(), Gateway: plan.Gateway.String(),
		}
		return append(list, found), nil
	})
	return found, err
}

// isUserNetworkMode says whether a container's recorded network mode
// names a network of the holder's, a user network or the default one
// served there: the modes box knows otherwise are fixed words.
func isUserNetworkMode(mode string) bool {
	return mode == defaultBridge || mode != "" && !isPrivate(mode) && !isBuiltinNetwork(mode) && !isModeName(mode) &&
		mode != string(spec.NetworkHost) && mode != string(spec.NetworkNone) && !strings.Contains(mode, ":")
}

// holderGuest reaches the network holder, starting it when none runs,
// for a run or start on a user network. It returns the connection, to be
// kept open until the run or start is done (the holder lives while it
// is), and whether the call must go through the holder as a guest:
// rootless from a user namespace other than the holder's.
func (e *Engine) holderGuest() (*net.UnixConn, bool, error) {
	wait, guest, err := e.reachHolder()
	if err != nil {
		return nil, false, err
	}
	c, err := wait()
	return c, guest, err
}

// reachHolder is holderGuest for a caller with work to do while a holder
// it starts gets ready (a run prepares its container meanwhile: a cold
// rootless `run --rm alpine true` took 242 ms, now 228 here). guest is known
// at once: a holder this process starts is in its user namespace. wait
// returns the connection, once; whoever called reachHolder must call it,
// also when giving up, so that the holder does not wait for a client.
func (e *Engine) reachHolder() (wait func() (*net.UnixConn, error), guest bool, err error) {
	e.awaitRepair()
	c, hello, ready, err := e.dialHolder()
	if err != nil {
		return nil, false, err
	}
	if c != nil {
		return func() (*net.UnixConn, error) { return c, nil }, e.foreignHolder(hello), nil
	}
	return sync.OnceValues(ready), false, nil
}

// foreignHolder says whether the holder that greeted with hello is in
// another user namespace than this process (rootless).
func (e *Engine) foreignHolder(hello usernet.Hello) bool {
	return e.Identity.Rootless() && hello.UserNS != usernet.UserNSInode()
}

// awaitRepair gives the monitors of running containers a moment to start
// a new holder when the last one was killed (its socket is left, and
// refuses): rootless, a holder a run or start made instead would be in
// a user namespace of its own, which those containers cannot join.
func (e *Engine) awaitRepair() {
	sock := filepath.Join(e.runRoot, usernet.SocketFile)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !holderRefuses(sock) {
			return
		}
	}
}

// holderRefuses says whether sock is a holder's socket that nobody
// serves: a killed holder's, which a monitor may be replacing. Anything
// else at the path (nothing, a live holder, a file that is no socket,
// which the next holder replaces) is not worth waiting for.
func holderRefuses(sock string) bool {
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket {
		return false
	}
	c, err := control.Dial(sock)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// dialHolder connects to the network holder under the holder's lock (see
// the holder's maybeEnd). When one runs it returns the connection and
// its greeting; else it starts one and returns ready, which keeps the
// lock until the new holder serves and then connects to it.
func (e *Engine) dialHolder() (*net.UnixConn, usernet.Hello, func() (*net.UnixConn, error), error) {
	if err := os.MkdirAll(e.runRoot, 0o700); err != nil {
		return nil, usernet.Hello{}, nil, fmt.Errorf("network holder: %w", err)
	}
	unlock, err := usernet.Lock(e.runRoot)
	if err != nil {
		return nil, usernet.Hello{}, nil, err
	}
	if c, hello, err := e.greetHolder(); err == nil {
		unlock()
		return c, hello, nil, nil
	}
	started, err := e.spawnHolder()
	if err != nil {
		unlock()
		return nil, usernet.Hello{}, nil, err
	}
	return nil, usernet.Hello{}, func() (*net.UnixConn, error) {
		defer unlock()
		if err := started(); err != nil {
			return nil, err
		}
		c, _, err := e.greetHolder()
		return c, err
	}, nil
}

// dialHolderNow is dialHolder for a caller with nothing to do meanwhile;
// foreign is foreignHolder's answer.
func (e *Engine) dialHolderNow() (c *net.UnixConn, foreign bool, err error) {
	c, hello, ready, err := e.dialHolder()
	if err != nil {
		return nil, false, err
	}
	if c == nil {
		c, err = ready()
		return c, false, err
	}
	return c, e.foreignHolder(hello), nil
}

// greetHolder connects to a running holder and reads its greeting.
func (e *Engine) greetHolder() (*net.UnixConn, usernet.Hello, error) {
	c, err := control.Dial(filepath.Join(e.runRoot, usernet.SocketFile))
	if err != nil {
		return nil, usernet.Hello{}, fmt.Errorf("reach the network holder: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := control.Receive(c)
	_ = c.SetReadDeadline(time.Time{})
	var hello usernet.Hello
	if err == nil && (m.Kind != usernet.MsgHello || m.Decode(&hello) != nil) {
		err = errors.New("unexpected greeting")
	}
	if err != nil {
		c.Close()
		return nil, usernet.Hello{}, fmt.Errorf("reach the network holder: %w", err)
	}
	return c, hello, nil
}

// spawnHolder starts the holder, in a session of its own, its output to
// a log under the run root; started returns once it serves its socket.
func (e *Engine) spawnHolder() (started func() error, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start the network holder: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(e.runRoot, usernet.LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start the network holder: %w", err)
	}
	defer log.Close()
	cmd := exec.Command("/proc/self/exe", string(rootless.RoleNetworkHolder), e.runRoot)
	cmd.Args[0] = os.Args[0]
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start the network holder: %w", err)
	}
	return func() error {
		defer r.Close()
		out, _ := bufio.NewReader(r).ReadString('\n')
		if msg := strings.TrimSpace(out); msg != "ok" {
			_ = cmd.Wait()
			if msg == "" {
				msg = "it exited before it was ready"
			}
			return fmt.Errorf("start the network holder: %s", msg)
		}
		// A long-lived starter (a monitor) reaps it when it ends.
		go func() { _ = cmd.Wait() }()
		return nil
	}, nil
}

// userNetworkHook is networkHook for a container on user networks: the
// holder attaches the container's namespace to the networks' bridges
// while the monitor keeps the connection open; stop closes it. Should
// the holder end while the container runs (killed), the monitor joins
// again, starting a new holder in its own user namespace, the one every
// container on user networks shares, so that its peers can join it too.
func (e *Engine) userNetworkHook(rec *record) (hook func(pid int) error, ready func() error, stop func()) {
	var (
		mu      sync.Mutex
		conn    *net.UnixConn
		ns      *os.File
		stopped bool
	)
	hook = func(pid int) error {
		var err error
		if ns, err = os.Open(fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil {
			return fmt.Errorf("container network: %w", err)
		}
		c, err := e.joinHolder(rec, ns)
		if err != nil {
			ns.Close()
			ns = nil
			return err
		}
		conn = c
		return nil
	}
	// Once runc has made the container, and before its command starts,
	// the holder says when the way out is ready: a holder started for
	// this run serves while its pasta gets ready, in parallel with the
	// making of the container. Then the connection is watched.
	ready = func() error {
		mu.Lock()
		c := conn
		mu.Unlock()
		if err := control.Send(c, usernet.MsgOutside, nil); err != nil {
			return fmt.Errorf("network %s: %w", rec.NetworkMode, err)
		}
		if err := holderAnswer(c, rec.NetworkMode); err != nil {
			return err
		}
		go e.keepJoined(rec, ns, c, &mu, &conn, &stopped)
		return nil
	}
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		if conn != nil {
			conn.Close()
		}
		if ns != nil {
			ns.Close()
		}
	}
	return hook, ready, stop
}

// keepJoined waits for the holder to close c; unless the container has
// stopped meanwhile, it joins again, until stop.
func (e *Engine) keepJoined(rec *record, ns *os.File, c *net.UnixConn, mu *sync.Mutex, conn **net.UnixConn, stopped *bool) {
	for {
		for {
			if _, err := control.Receive(c); err != nil {
				break
			}
		}
		mu.Lock()
		if *stopped {
			mu.Unlock()
			return
		}
		mu.Unlock()
		var err error
		for try := 0; try < 5; try++ {
			if c, err = e.joinHolder(rec, ns); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond << try)
			mu.Lock()
			done := *stopped
			mu.Unlock()
			if done {
				return
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "box: container %s lost its network: %v\n", rec.Name, err)
			return
		}
		mu.Lock()
		if *stopped {
			mu.Unlock()
			c.Close()
			return
		}
		*conn = c
		mu.Unlock()
	}
}

// joinHolder has the holder (started if none runs) attach rec's
// container, whose network namespace is ns, to its networks, and
// returns the connection that keeps it attached.
func (e *Engine) joinHolder(rec *record, ns *os.File) (*net.UnixConn, error) {
	att, err := e.joinOf(rec)
	if err != nil {
		return nil, err
	}
	c, foreign, err := e.dialHolderNow()
	if err != nil {
		return nil, err
	}
	if foreign {
		c.Close()
		return nil, fmt.Errorf("network %s: the network holder runs in another user namespace than this container's monitor (it was restarted while the container ran): restart the container", rec.NetworkMode)
	}
	if err := control.Send(c, usernet.MsgJoin, att, ns); err != nil {
		c.Close()
		return nil, fmt.Errorf("network %s: %w", rec.NetworkMode, err)
	}
	if err := holderAnswer(c, rec.NetworkMode); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// holderAnswer reads the holder's answer to a request about network.
func holderAnswer(c *net.UnixConn, network string) error {
	m, err := control.Receive(c)
	if err == nil && m.Kind == control.MsgError {
		var r control.ErrorReport
		_ = m.Decode(&r)
		return errOf(r, network)
	}
	if err != nil {
		return fmt.Errorf("network %s: %w", network, err)
	}
	return nil
}

// joinOf is what the holder needs to attach rec's container to its
// networks: their bridges and its endpoints, from the records, in the
// order it joined them.
func (e *Engine) joinOf(rec *record) (usernet.Attach, error) {
	s, err := e.networkStore()
	if err != nil {
		return usernet.Attach{}, err
	}
	att := usernet.Attach{Container: rec.ID, Ports: rec.Ports, Upstreams: rec.DNS}
	for _, l := range rec.Settings.Links {
		if att.Links == nil {
			att.Links = map[string]string{}
		}
		att.Links[l.Alias] = l.Name
	}
	err = s.Read(func(list []*usernet.Network) error {
		type found struct {
			n  *usernet.Network
			ep *usernet.Endpoint
		}
		var on []found
		for _, n := range list {
			if ep := n.Endpoints[rec.ID]; ep != nil {
				on = append(on, found{n, ep})
			}
		}
		sort.SliceStable(on, func(i, j int) bool { return on[i].ep.Attached.Before(on[j].ep.Attached) })
		for _, f := range on {
			att.Joins = append(att.Joins, holderJoinOf(f.n, rec.ID, rec.Name, f.ep))
		}
		return nil
	})
	if err == nil && len(att.Joins) == 0 {
		// Disconnected from all: the container keeps its loopback only.
		att.Ports = nil
	}
	return att, err
}

// holderJoinOf is container id's endpoint ep on n as the holder takes it.
func holderJoinOf(n *usernet.Network, id, name string, ep *usernet.Endpoint) usernet.Join {
	bits := n.Subnet[strings.IndexByte(n.Subnet, '/'):]
	j := usernet.Join{
		Network: n.Name, Bridge: bridgeName(n.ID), Gateway: n.Gateway + bits,
		HostIf: "v" + endpointID(n.ID, id)[:13], Addr: ep.IP + bits, MAC: ep.MAC,
		Internal: n.Internal,
	}
	// Refused at create when it is not a number; 0, the bridges' own,
	// when unset.
	j.MTU, _ = parseMTU(n.Options[mtuOption])
	if !n.Default {
		// Docker's default bridge answers no container's name.
		j.Names = append([]string{name, id[:12]}, ep.Aliases...)
	}
	return j
}

// mtuOption is Docker's bridge driver option for the network's MTU.
const mtuOption = "com.docker.network.driver.mtu"

// parseMTU reads the mtu option: 0 when unset or 0 (as Docker, the
// default), else a number from 68 (IPv4's least) to 65535.
func parseMTU(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	mtu, err := strconv.Atoi(v)
	if err == nil && mtu == 0 {
		return 0, nil
	}
	if err != nil || mtu < 68 || mtu > 65535 {
		return 0, &UsageError{Msg: fmt.Sprintf("invalid %s %q: want a number from 68 to 65535", mtuOption, v)}
	}
	return mtu, nil
}

// bridgeName is the bridge of network id, as Docker names its own.
func bridgeName(id string) string { return "br-" + id[:12] }

// endpointExists says whether container cid still exists, for dropping
// the endpoints of containers removed without box's knowledge.
func (e *Engine) endpointExists(cid string) bool {
	_, err := e.Store.Container(cid)
	return err == nil
}

// userNetworkNames records container id's endpoints on nets, when there
// are any, all or none, and points its names at them: its name server
// at 127.0.0.11 (forwarding to --dns, else the host's resolvers), and
// its own address on its first network for its hostname.
func (e *Engine) userNetworkNames(nets []*usernet.Network, id, name, hostname string, opts RunOptions, names *nameOptions) error {
	if len(nets) == 0 {
		return nil
	}
	s, err := e.networkStore()
	if err != nil {
		return err
	}
	var first *usernet.Endpoint
	err = s.Update(func(list []*usernet.Network) ([]*usernet.Network, error) {
		for i, n := range nets {
			req := usernet.JoinRequest{Network: n.ID, ContainerID: id, Name: name}
			if i == 0 {
				req.IP, req.Aliases = opts.IP, opts.NetworkAliases
			} else {
				req.Aliases = opts.NetworkAliasesOn[n.Name]
			}
			_, ep, err := attachEndpoint(list, req, e.endpointExists)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				first = ep
			}
		}
		return list, nil
	})
	if err != nil {
		return err
	}
	if !nets[0].Default {
		names.Resolver = usernet.ResolverAddr
	}
	names.Gateway = network.Gateway()
	names.Hosts = append(names.Hosts, flags.Host{Name: hostname, IP: first.IP})
	names.Bridged = true
	return nil
}

// bridgeNameOptions are the default network's names, Docker's default
// bridge's: the host's nameservers (or --dns) in resolv.conf, no name
// server answering the containers' names. When the host's nameservers are
// loopback addresses, which the container cannot reach, it asks the name
// server the holder gives each container, which asks them from the
// host's namespace.
func bridgeNameOptions(names *nameOptions) {
	names.Gateway = network.Gateway()
	if network.HostNameserversLoopback() {
		names.DNSForward = usernet.ResolverAddr
	}
}

// runThroughHolder has the network holder carry out Run with opts in a
// guest, over c.
func (e *Engine) runThroughHolder(ctx context.Context, c *net.UnixConn, opts RunOptions, io IO) (string, error) {
	return e.runVia(ctx, opts, func(req guestRequest) (control.GuestResult, error) {
		return e.guestOver(c, "the network holder", req, io)
	})
}

// startThroughHolder has the network holder carry out Start in a guest.
func (e *Engine) startThroughHolder(c *net.UnixConn, act startAction, io IO) (int, error) {
	res, err := e.guestOver(c, "the network holder", guestRequest{Start: &act}, io)
	if err != nil {
		return 0, err
	}
	if res.Error != nil {
		return 0, errOf(*res.Error, act.Name)
	}
	return res.Code, nil
}

// EndpointSettings is a container's place on a network as Docker's
// inspect shows it under NetworkSettings.Networks.
type EndpointSettings struct {
	IPAMConfig          *struct{}         `json:"IPAMConfig"`
	Links               []string          `json:"Links"`
	Aliases             []string          `json:"Aliases"`
	MacAddress          string            `json:"MacAddress"`
	DriverOpts          map[string]string `json:"DriverOpts"`
	GwPriority          int               `json:"GwPriority"`
	NetworkID           string            `json:"NetworkID"`
	EndpointID          string            `json:"EndpointID"`
	Gateway             string            `json:"Gateway"`
	IPAddress           string            `json:"IPAddress"`
	IPPrefixLen         int               `json:"IPPrefixLen"`
	IPv6Gateway         string            `json:"IPv6Gateway"`
	GlobalIPv6Address   string            `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int               `json:"GlobalIPv6PrefixLen"`
	DNSNames            []string          `json:"DNSNames"`
}

// userNetworkSettings adds rec's user networks to networks. As Docker's,
// the address, gateway and endpoint are shown while the container runs.
func (e *Engine) userNetworkSettings(rec *record, running bool, networks map[string]any) {
	s, err := e.networkStore()
	if err != nil {
		return
	}
	_ = s.Read(func(list []*usernet.Network) error {
		for _, n := range list {
			ep := n.Endpoints[rec.ID]
			if ep == nil {
				continue
			}
			es := EndpointSettings{
				Aliases: nonNil(ep.Aliases), MacAddress: ep.MAC, NetworkID: n.ID,
				DNSNames: append([]string{rec.Name, rec.ID[:12]}, ep.Aliases...),
			}
			if running {
				if p, err := netip.ParsePrefix(n.Subnet); err == nil {
					es.IPPrefixLen = p.Bits()
				}
				es.EndpointID, es.Gateway, es.IPAddress = endpointID(n.ID, rec.ID), n.Gateway, ep.IP
			}
			networks[n.Name] = es
		}
		return nil
	})
}
