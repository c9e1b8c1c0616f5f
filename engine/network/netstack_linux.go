package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	nicID = 1
	// tcpBuffer is each TCP endpoint's starting buffer, each way; the
	// stack grows a busy connection's up to tcpBufferMax. gVisor's 1 MB
	// default would cost a monitor that much per idle connection.
	tcpBuffer    = 128 << 10
	tcpBufferMax = 4 << 20
	// spliceBuffer is each direction's copy buffer of a TCP connection.
	spliceBuffer = 64 << 10
	// udpIdle is how long a UDP flow lives without a datagram either way;
	// dnsIdle that of a query's, which a resolver ends in seconds (each
	// flow holds a socket and buffers until then).
	udpIdle = 60 * time.Second
	dnsIdle = 10 * time.Second
	// dialTimeout bounds a connection the container opens, made again
	// from the host (the container waits without an answer meanwhile, as
	// on a slow network); inDialTimeout one into the container, which is
	// a veth away.
	dialTimeout   = 30 * time.Second
	inDialTimeout = 10 * time.Second
)

// netstackDriver is the netstack driver: gVisor's user-mode TCP/IP
// stack in the calling process (the container's monitor), which needs
// neither pasta nor /dev/net/tun, only CAP_NET_ADMIN in the namespaces.
type netstackDriver struct{}

func (netstackDriver) Name() string { return "netstack" }

// Usable: always.
func (netstackDriver) Usable() error { return nil }

// Gateway is the stack's address that stands for the host's 127.0.0.1.
func (netstackDriver) Gateway() string { return NetstackGateway }

// DNSForward is the stack's nameserver, which forwards to the host's
// nameservers of the moment.
func (netstackDriver) DNSForward() string { return NetstackDNS }

func (netstackDriver) Attach(cfg Config) (Attachment, error) {
	n, err := StartNetstack(cfg)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Netstack is a container's network served by gVisor's user-mode TCP/IP
// stack inside the monitor (the netstack driver's Attachment): the container's eth0 is a veth whose peer
// the stack drives. Connections the container opens are made again from
// the host (NetstackGateway standing for 127.0.0.1, NetstackDNS for the
// host's nameservers); the published ports are the monitor's own host
// sockets, whose connections the stack carries into the container. It
// lives in the monitor's goroutines; Stop ends all of it.
type Netstack struct {
	stack *stack.Stack
	link  *packetLink
	// ctx ends with Stop: connections being made give up.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	stopped   bool
	closers   map[io.Closer]struct{}
	listeners []io.Closer
	wg        sync.WaitGroup
}

// StartNetstack gives the namespace cfg.NetNS its interface and starts
// the stack for it, with the published ports listening on the host. A
// port that cannot be bound fails it (a *PortError): nothing is left.
func StartNetstack(cfg Config) (_ *Netstack, err error) {
	silenceOnce.Do(func() { log.SetTarget(silence{}) })
	link, err := attachLink(cfg.NetNS)
	if err != nil {
		return nil, err
	}
	n := &Netstack{link: link, closers: map[io.Closer]struct{}{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	if n.stack, err = newStack(link); err != nil {
		return nil, err
	}
	tfwd := tcp.NewForwarder(n.stack, tcpBuffer, 256, n.forwardTCP)
	n.stack.SetTransportProtocolHandler(tcp.ProtocolNumber, tfwd.HandlePacket)
	ufwd := udp.NewForwarder(n.stack, n.forwardUDP)
	n.stack.SetTransportProtocolHandler(udp.ProtocolNumber, ufwd.HandlePacket)
	for _, p := range cfg.Ports {
		if err := n.publish(p); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Ready is at once: StartNetstack returns a configured namespace.
func (n *Netstack) Ready() error { return nil }

// silence takes gVisor's log lines, which would otherwise go to the
// monitor's stderr: a foreground container's own.
type silence struct{}

func (silence) Emit(int, log.Level, time.Time, string, ...any) {}

var silenceOnce sync.Once

func newStack(link *packetLink) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	fail := func(what string, e tcpip.Error) (*stack.Stack, error) {
		s.Destroy()
		return nil, fmt.Errorf("netstack: %s: %s", what, e)
	}
	sack := tcpip.TCPSACKEnabled(true)
	if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); e != nil {
		return fail("sack", e)
	}
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4 << 10, Default: tcpBuffer, Max: tcpBufferMax}
	if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv); e != nil {
		return fail("receive buffer", e)
	}
	// Busy connections grow their receive buffer, up to tcpBufferMax.
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, &moderate); e != nil {
		return fail("receive buffer moderation", e)
	}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: tcpBuffer, Max: tcpBufferMax}
	if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, &snd); e != nil {
		return fail("send buffer", e)
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:            []int{link.fd},
		MTU:            userspaceMTU,
		EthernetHeader: true,
		Address:        tcpip.LinkAddress(link.mac),
		// The veth hands over the container's packets with the checksums
		// it left to offload undone; nothing on a veth corrupts them.
		RXChecksumOffload: true,
		// readv, one packet a call: packets are up to 64 KB, so a call
		// costs little beside them. It is also the one mode in which
		// fdbased stops all the processor goroutines it starts (recvmmsg
		// leaves those of a readv dispatcher it makes first and drops),
		// and those goroutines, one per CPU, double the throughput.
		PacketDispatchMode: fdbased.Readv,
	})
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("netstack: %w", err)
	}
	if e := s.CreateNIC(nicID, ep); e != nil {
		return fail("nic", e)
	}
	for _, a := range []string{NetstackGateway, NetstackDNS} {
		pa := tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddrFromSlice(net.ParseIP(a).To4()).WithPrefix(),
		}
		pa.AddressWithPrefix.PrefixLen = netstackPrefix
		if e := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); e != nil {
			return fail("address "+a, e)
		}
	}
	// The stack answers for every destination the container tries
	// (promiscuous) and speaks as that destination (spoofing).
	if e := s.SetPromiscuousMode(nicID, true); e != nil {
		return fail("promiscuous mode", e)
	}
	if e := s.SetSpoofing(nicID, true); e != nil {
		return fail("spoofing", e)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	return s, nil
}

// Stop closes the published ports and every connection, and ends the
// stack; the container's side is gone or going. It is idempotent.
func (n *Netstack) Stop() {
	if n == nil {
		return
	}
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	n.cancel()
	for _, l := range n.listeners {
		l.Close()
	}
	for c := range n.closers {
		c.Close()
	}
	n.mu.Unlock()
	if n.stack != nil {
		// Aborts the stack's endpoints, handshakes under way too.
		n.stack.Close()
	}
	n.wg.Wait()
	if n.stack != nil {
		// Removes the NIC, which stops reading the socket.
		n.stack.Wait()
	}
	unix.Close(n.link.fd)
}

// track registers c to be closed by Stop; false (c closed) when Stop
// has begun.
func (n *Netstack) track(c io.Closer) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		c.Close()
		return false
	}
	n.closers[c] = struct{}{}
	return true
}

func (n *Netstack) untrack(c io.Closer) {
	n.mu.Lock()
	delete(n.closers, c)
	n.mu.Unlock()
	c.Close()
}

// goroutine runs f as part of the stack: Stop waits for it. It is false
// (f not run) once Stop has begun.
func (n *Netstack) goroutine(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

// forwardTCP makes a connection the container opens again from the
// host, and splices the two once the host's side is up; the container
// sees a refused connection when the host refuses.
func (n *Netstack) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	dst, ok := hostDestination(id.LocalAddress.String(), id.LocalPort, "tcp", hostNameservers)
	if !ok {
		r.Complete(true)
		return
	}
	if !n.goroutine(func() {
		d := net.Dialer{Timeout: dialTimeout}
		host, err := d.DialContext(n.ctx, "tcp", dst)
		if err != nil && id.LocalAddress.String() == NetstackDNS {
			// The first nameserver does not answer: the others in turn.
			for _, ns := range hostNameservers()[1:] {
				if host, err = d.DialContext(n.ctx, "tcp", net.JoinHostPort(ns, "53")); err == nil {
					break
				}
			}
		}
		if err != nil {
			r.Complete(true)
			return
		}
		var wq waiter.Queue
		ep, terr := r.CreateEndpoint(&wq)
		r.Complete(false)
		if terr != nil {
			host.Close()
			return
		}
		n.splice(gonet.NewTCPConn(&wq, ep), host.(*net.TCPConn))
	}) {
		r.Complete(true)
	}
}

// halfCloser is a stream whose sending half closes alone.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// splice copies a and b into each other until both have ended, passing
// on each side's end of sending as the other's, then closes both.
func (n *Netstack) splice(a, b halfCloser) {
	if !n.track(a) {
		b.Close()
		return
	}
	if !n.track(b) {
		n.untrack(a)
		return
	}
	var wg sync.WaitGroup
	pipe := func(dst, src halfCloser) {
		defer wg.Done()
		// One full-size packet a copy; the wrappers keep io.CopyBuffer
		// from passing over buf for a ReadFrom with a smaller one.
		buf := make([]byte, spliceBuffer)
		if _, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf); err != nil {
			// A reset or a failed write: no orderly end to pass on.
			a.Close()
			b.Close()
			return
		}
		dst.CloseWrite()
	}
	wg.Add(2)
	go pipe(a, b)
	go pipe(b, a)
	wg.Wait()
	n.untrack(a)
	n.untrack(b)
}

// forwardUDP relays a flow the container starts to the same destination
// from the host, and the answers back, until it idles.
func (n *Netstack) forwardUDP(r *udp.ForwarderRequest) {
	id := r.ID()
	dst, ok := hostDestination(id.LocalAddress.String(), id.LocalPort, "udp", hostNameservers)
	if !ok {
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		return
	}
	inner := gonet.NewUDPConn(&wq, ep)
	if id.LocalAddress.String() == NetstackDNS {
		// Each query goes to the host's nameservers in turn, the next
		// when one does not answer, not to the first alone.
		if !n.goroutine(func() { n.answerDNS(inner) }) {
			inner.Close()
		}
		return
	}
	if !n.goroutine(func() {
		var d net.Dialer
		host, err := d.DialContext(n.ctx, "udp", dst)
		if err != nil {
			inner.Close()
			return
		}
		flow := newUDPFlow(udpIdle)
		if id.LocalPort == 53 {
			flow = newUDPFlow(dnsIdle)
		}
		n.relayUDP(inner, host, flow, nil)
	}) {
		inner.Close()
	}
}

// answerDNS answers the queries of one flow to the DNS address, each
// through the host's nameservers of the moment, until it idles.
func (n *Netstack) answerDNS(inner net.Conn) {
	if !n.track(inner) {
		return
	}
	defer n.untrack(inner)
	d := NewDNS(hostNameservers(), 2*time.Second)
	buf := make([]byte, 65536)
	for {
		_ = inner.SetReadDeadline(time.Now().Add(dnsIdle))
		k, err := inner.Read(buf)
		if err != nil {
			return
		}
		q := append([]byte(nil), buf[:k]...)
		go func() {
			if r := d.Exchange(q, "udp"); r != nil {
				_, _ = inner.Write(r)
			}
		}()
	}
}

// udpFlow is when a UDP flow last carried a datagram, either way, and
// how long it may idle.
type udpFlow struct {
	last    atomic.Int64
	timeout time.Duration
}

func newUDPFlow(timeout time.Duration) *udpFlow {
	f := &udpFlow{timeout: timeout}
	f.touch()
	return f
}

func (f *udpFlow) touch() { f.last.Store(time.Now().UnixNano()) }

func (f *udpFlow) idle() bool {
	return time.Since(time.Unix(0, f.last.Load())) >= f.timeout
}

// relayUDP copies datagrams between a and b, both connected, until flow
// has carried none for its timeout; then closes both. onDone, when set, runs
// at the end.
func (n *Netstack) relayUDP(a, b net.Conn, flow *udpFlow, onDone func()) {
	if !n.track(a) {
		b.Close()
		return
	}
	if !n.track(b) {
		n.untrack(a)
		return
	}
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			_ = src.SetReadDeadline(time.Now().Add(flow.timeout))
			k, err := src.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && !flow.idle() {
					continue
				}
				// Idle, or closed: end both ways.
				a.Close()
				b.Close()
				return
			}
			flow.touch()
			_, _ = dst.Write(buf[:k])
		}
	}
	wg.Add(2)
	go pipe(a, b)
	go pipe(b, a)
	wg.Wait()
	n.untrack(a)
	n.untrack(b)
	if onDone != nil {
		onDone()
	}
}

// ctrAddr is the container's address for port in the stack.
func ctrAddr(port int) tcpip.FullAddress {
	return tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFromSlice(net.ParseIP(NetstackAddr).To4()), Port: uint16(port)}
}

// publish listens on p's host address and carries what comes into the
// container's port.
func (n *Netstack) publish(p Port) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	if p.Proto == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return portError(p, err)
		}
		n.listeners = append(n.listeners, pc)
		n.goroutine(func() { n.serveUDP(pc, p.ContainerPort) })
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return portError(p, err)
	}
	n.listeners = append(n.listeners, l)
	n.goroutine(func() { n.serveTCP(l.(*net.TCPListener), p.ContainerPort) })
	return nil
}

func (n *Netstack) serveTCP(l *net.TCPListener, port int) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: wait a little, as net/http does.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !n.goroutine(func() {
			ctx, cancel := context.WithTimeout(n.ctx, inDialTimeout)
			inner, err := gonet.DialContextTCP(ctx, n.stack, ctrAddr(port), ipv4.ProtocolNumber)
			cancel()
			if err != nil {
				c.Close()
				return
			}
			n.splice(inner, c)
		}) {
			c.Close()
			return
		}
	}
}

// serveUDP relays datagrams from each host peer to the container's
// port, over a flow of its own per peer, and the answers back.
func (n *Netstack) serveUDP(pc net.PacketConn, port int) {
	type flow struct {
		conn *gonet.UDPConn
		*udpFlow
	}
	var mu sync.Mutex
	flows := map[string]flow{}
	buf := make([]byte, 65536)
	for {
		k, peer, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		key := peer.String()
		mu.Lock()
		f, ok := flows[key]
		mu.Unlock()
		if !ok {
			raddr := ctrAddr(port)
			conn, err := gonet.DialUDP(n.stack, nil, &raddr, ipv4.ProtocolNumber)
			if err != nil {
				continue
			}
			f = flow{conn, newUDPFlow(udpIdle)}
			mu.Lock()
			flows[key] = f
			mu.Unlock()
			out := &peerConn{PacketConn: pc, peer: peer}
			if !n.goroutine(func() {
				n.relayUDP(f.conn, out, f.udpFlow, func() {
					mu.Lock()
					delete(flows, key)
					mu.Unlock()
				})
			}) {
				conn.Close()
				return
			}
		}
		f.touch()
		_, _ = f.conn.Write(buf[:k])
	}
}

// peerConn is a published UDP port's socket seen as a connection to one
// peer: what is written goes to the peer. Reading is left to the port's
// own loop, so Read only waits until Close or its deadline.
type peerConn struct {
	net.PacketConn
	peer net.Addr

	once     sync.Once
	closed   chan struct{}
	mu       sync.Mutex
	deadline time.Time
}

func (c *peerConn) init() { c.once.Do(func() { c.closed = make(chan struct{}) }) }

func (c *peerConn) Read([]byte) (int, error) {
	c.init()
	c.mu.Lock()
	d := c.deadline
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !d.IsZero() {
		t := time.NewTimer(time.Until(d))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	case <-timeout:
		return 0, os.ErrDeadlineExceeded
	}
}

func (c *peerConn) Write(b []byte) (int, error) { return c.WriteTo(b, c.peer) }

// Close ends this peer's view; the port's socket stays open.
func (c *peerConn) Close() error {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

func (c *peerConn) RemoteAddr() net.Addr { return c.peer }

func (c *peerConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}
