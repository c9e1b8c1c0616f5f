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
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/control"
	"box/engine/flags"
	"box/engine/network"
	"box/engine/spec"
	"box/rootless"
)

// Containers joining user networks, the client's side of the holder
// (usernet_holder.go): run and start reach the holder first (starting it
// if none runs) and, rootless from another user namespace, have it start
// a guest box that makes the same call inside its own; the monitor's
// hook in supervise sends the container's network namespace to be
// attached and keeps that connection for as long as the container runs.

// userNetworkOf is the user network mode names, nil when mode is one of
// box's other modes or names none.
func (e *Engine) userNetworkOf(mode string) (*userNetwork, error) {
	if mode == "" || isBuiltinNetwork(mode) || isModeName(mode) || strings.Contains(mode, ":") {
		return nil, nil
	}
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var found *userNetwork
	err = s.read(func(list []*userNetwork) error {
		found, _ = findNetwork(list, mode)
		return nil
	})
	return found, err
}

// isUserNetworkMode says whether a container's recorded network mode
// names a user network: the modes box knows otherwise are fixed words.
func isUserNetworkMode(mode string) bool {
	return mode != "" && !isPrivate(mode) && !isBuiltinNetwork(mode) && !isModeName(mode) &&
		mode != string(spec.NetworkHost) && mode != string(spec.NetworkNone) && !strings.Contains(mode, ":")
}

// holderGuest reaches the network holder, starting it when none runs,
// for a run or start on a user network. It returns the connection, to be
// kept open until the run or start is done (the holder lives while it
// is), and whether the call must go through the holder as a guest:
// rootless from a user namespace other than the holder's.
func (e *Engine) holderGuest() (*net.UnixConn, bool, error) {
	c, hello, err := e.dialHolder()
	if err != nil {
		return nil, false, err
	}
	return c, e.Identity.Rootless() && hello.UserNS != userNSInode(), nil
}

// dialHolder connects to the network holder, first starting it when
// none runs, under the holder's lock (see netHolder.maybeEnd).
func (e *Engine) dialHolder() (*net.UnixConn, holderHello, error) {
	if err := os.MkdirAll(e.runRoot, 0o700); err != nil {
		return nil, holderHello{}, fmt.Errorf("network holder: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(e.runRoot, holderLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, holderHello{}, fmt.Errorf("network holder: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, holderHello{}, fmt.Errorf("network holder: %w", err)
	}
	if c, hello, err := e.greetHolder(); err == nil {
		return c, hello, nil
	}
	if err := e.spawnHolder(); err != nil {
		return nil, holderHello{}, err
	}
	return e.greetHolder()
}

// greetHolder connects to a running holder and reads its greeting.
func (e *Engine) greetHolder() (*net.UnixConn, holderHello, error) {
	c, err := control.Dial(filepath.Join(e.runRoot, holderSocket))
	if err != nil {
		return nil, holderHello{}, fmt.Errorf("reach the network holder: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := control.Receive(c)
	_ = c.SetReadDeadline(time.Time{})
	var hello holderHello
	if err == nil && (m.Kind != msgHello || m.Decode(&hello) != nil) {
		err = errors.New("unexpected greeting")
	}
	if err != nil {
		c.Close()
		return nil, holderHello{}, fmt.Errorf("reach the network holder: %w", err)
	}
	return c, hello, nil
}

// spawnHolder starts the holder, in a session of its own, its output to
// a log under the run root, and returns once it serves its socket.
func (e *Engine) spawnHolder() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the network holder: %w", err)
	}
	defer r.Close()
	log, err := os.OpenFile(filepath.Join(e.runRoot, holderLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return fmt.Errorf("start the network holder: %w", err)
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
		return fmt.Errorf("start the network holder: %w", err)
	}
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
}

// userNetworkHook is networkHook for a container on a user network: the
// holder attaches the container's namespace to the network's bridge
// while the monitor keeps the connection open; stop closes it.
func (e *Engine) userNetworkHook(rec *record) (hook func(pid int) error, ready func() error, stop func()) {
	var conn *net.UnixConn
	hook = func(pid int) error {
		j, err := e.joinOf(rec)
		if err != nil {
			return err
		}
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			return fmt.Errorf("container network: %w", err)
		}
		defer ns.Close()
		c, hello, err := e.dialHolder()
		if err != nil {
			return err
		}
		if e.Identity.Rootless() && hello.UserNS != userNSInode() {
			c.Close()
			return fmt.Errorf("network %s: the network holder runs in another user namespace than this container's monitor: stop the container and start it again", rec.NetworkMode)
		}
		if err := control.Send(c, msgJoin, j, ns); err != nil {
			c.Close()
			return fmt.Errorf("network %s: %w", rec.NetworkMode, err)
		}
		m, err := control.Receive(c)
		if err == nil && m.Kind == control.MsgError {
			var r control.ErrorReport
			_ = m.Decode(&r)
			err = errOf(r, rec.NetworkMode)
		}
		if err != nil {
			c.Close()
			return fmt.Errorf("network %s: %w", rec.NetworkMode, err)
		}
		conn = c
		return nil
	}
	ready = func() error { return nil }
	stop = func() {
		if conn != nil {
			conn.Close()
		}
	}
	return hook, ready, stop
}

// joinOf is what the holder needs to attach rec's container to its
// network: the network's bridge and its endpoint, from the records.
func (e *Engine) joinOf(rec *record) (holderJoin, error) {
	s, err := e.networkStore()
	if err != nil {
		return holderJoin{}, err
	}
	var j holderJoin
	err = s.read(func(list []*userNetwork) error {
		n, err := findNetwork(list, rec.NetworkMode)
		if err != nil {
			return err
		}
		ep := n.Endpoints[rec.ID]
		if ep == nil {
			return fmt.Errorf("network %s: container %s has no endpoint on it", n.Name, rec.Name)
		}
		bits := n.Subnet[strings.IndexByte(n.Subnet, '/'):]
		j = holderJoin{
			Bridge: bridgeName(n.ID), Gateway: n.Gateway + bits, HostIf: "v" + endpointID(n.ID, rec.ID)[:13], IfName: "eth0",
			Addr: ep.IP + bits, MAC: ep.MAC,
			Names:    append([]string{rec.Name, rec.ID[:12]}, ep.Aliases...),
			Internal: n.Internal,
		}
		return nil
	})
	return j, err
}

// bridgeName is the bridge of network id, as Docker names its own.
func bridgeName(id string) string { return "br-" + id[:12] }

// joinUserNetwork records container id's endpoint on n (its address,
// stable while the container exists) and returns it.
func (e *Engine) joinUserNetwork(n *userNetwork, id, name string, aliases []string) (*endpoint, error) {
	s, err := e.networkStore()
	if err != nil {
		return nil, err
	}
	var ep *endpoint
	exists := func(cid string) bool {
		_, err := e.Store.Container(cid)
		return err == nil
	}
	err = s.update(func(list []*userNetwork) ([]*userNetwork, error) {
		_, made, err := attachEndpoint(list, joinRequest{Network: n.ID, ContainerID: id, Name: name, Aliases: aliases}, exists)
		ep = made
		return list, err
	})
	return ep, err
}

// refuseOnUserNetwork refuses what box cannot do on a user network yet,
// and marks opts as on one.
func refuseOnUserNetwork(opts *RunOptions, n *userNetwork) error {
	if len(opts.Publish) > 0 || opts.PublishAll {
		return &UsageError{
			Msg: fmt.Sprintf("network %s: box cannot publish ports of a container on a user-defined network yet", n.Name),
			Fix: "publish from a container on the default network, or reach the container by name from another on the same network",
		}
	}
	opts.userNetwork = true
	opts.Network = flags.NamedNetwork(n.Name)
	return nil
}

// userNetworkNames records container id's endpoint on n, when n is set,
// and points its names at n: the network's name server on its gateway,
// and its own address for its hostname.
func (e *Engine) userNetworkNames(n *userNetwork, id, name, hostname string, aliases []string, names *nameOptions) error {
	if n == nil {
		return nil
	}
	ep, err := e.joinUserNetwork(n, id, name, aliases)
	if err != nil {
		return err
	}
	if len(names.DNS) == 0 {
		names.DNS = []string{n.Gateway}
	}
	names.Gateway = network.Gateway()
	names.Hosts = append(names.Hosts, flags.Host{Name: hostname, IP: ep.IP})
	return nil
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

// userNetworkSettings adds rec's user network to networks. As Docker's,
// the address, gateway and endpoint are shown while the container runs.
func (e *Engine) userNetworkSettings(rec *record, running bool, networks map[string]any) {
	s, err := e.networkStore()
	if err != nil {
		return
	}
	_ = s.read(func(list []*userNetwork) error {
		n, err := findNetwork(list, rec.NetworkMode)
		if err != nil || n.Endpoints[rec.ID] == nil {
			return nil
		}
		ep := n.Endpoints[rec.ID]
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
		return nil
	})
}
