package usernet

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"box/engine/network"
)

// Published ports of containers on user networks. The holder runs in the
// host's network namespace (only its namespace holder is in the shared
// one), so it binds each published port on the host itself and carries
// every connection (TCP) or flow (UDP) to the container's address on its
// first network with a way out, dialing from the shared namespace. No
// iptables, as root or not: nothing on the host changes but the sockets.

// portForwarder is one container's published ports.
type portForwarder struct {
	mu      sync.Mutex
	closers []io.Closer
	conns   map[io.Closer]bool
	closed  bool
}

// udpIdleTimeout ends a UDP flow that carried nothing for so long.
const udpIdleTimeout = 60 * time.Second

// forwardPorts binds ports on the host for member mb. The caller holds h.mu.
func (h *netHolder) forwardPorts(mb *holderMember, ports []network.Port) (*portForwarder, error) {
	f := &portForwarder{conns: map[io.Closer]bool{}}
	for _, p := range ports {
		addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
		if p.Proto == "udp" {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				f.close()
				return nil, portError(p, err)
			}
			f.closers = append(f.closers, pc)
			go h.serveUDP(f, mb, pc, p.ContainerPort)
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			f.close()
			return nil, portError(p, err)
		}
		f.closers = append(f.closers, l)
		go h.serveTCP(f, mb, l, p.ContainerPort)
	}
	return f, nil
}

// portError is a port the host refused, as every network driver reports
// it (the engine makes a port in use its PortInUseError).
func portError(p network.Port, err error) error {
	return &network.PortError{Port: p, Err: err}
}

// target is where mb's published port goes now: its address on its
// first network with a way out, else on its first network.
func (h *netHolder) target(mb *holderMember, port int) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var pick *memberJoin
	for i := range mb.joins {
		if pick == nil || pick.Internal && !mb.joins[i].Internal {
			pick = &mb.joins[i]
		}
	}
	if pick == nil {
		return "", false
	}
	a, err := netip.ParsePrefix(pick.Addr)
	if err != nil {
		return "", false
	}
	return net.JoinHostPort(a.Addr().String(), strconv.Itoa(port)), true
}

// dialShared connects to addr from the shared namespace.
func (h *netHolder) dialShared(proto, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetNS(h.shared, func() (err error) {
		c, err = net.DialTimeout(proto, addr, 5*time.Second)
		return err
	})
	return c, err
}

func (f *portForwarder) track(c io.Closer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.conns[c] = true
	return true
}

func (f *portForwarder) untrack(c io.Closer) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

// close unbinds the ports and ends every connection; nil is fine.
func (f *portForwarder) close() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, c := range f.closers {
		c.Close()
	}
	for c := range f.conns {
		c.Close()
	}
	f.conns = map[io.Closer]bool{}
}

func (h *netHolder) serveTCP(f *portForwarder, mb *holderMember, l net.Listener, port int) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			dst, ok := h.target(mb, port)
			if !ok {
				in.Close()
				return
			}
			out, err := h.dialShared("tcp", dst)
			if err != nil {
				in.Close()
				return
			}
			if !f.track(in) {
				out.Close()
				return
			}
			if !f.track(out) {
				f.untrack(in)
				return
			}
			var wg sync.WaitGroup
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
			wg.Add(2)
			go pipe(in, out)
			go pipe(out, in)
			wg.Wait()
			f.untrack(in)
			f.untrack(out)
		}()
	}
}

// serveUDP relays datagrams from each client to the container over a
// flow of its own, and the answers back, until the flow idles.
func (h *netHolder) serveUDP(f *portForwarder, mb *holderMember, pc net.PacketConn, port int) {
	var mu sync.Mutex
	flows := map[string]net.Conn{}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		mu.Lock()
		out := flows[from.String()]
		mu.Unlock()
		if out == nil {
			dst, ok := h.target(mb, port)
			if !ok {
				continue
			}
			if out, err = h.dialShared("udp", dst); err != nil || !f.track(out) {
				continue
			}
			mu.Lock()
			flows[from.String()] = out
			mu.Unlock()
			go func(out net.Conn, from net.Addr) {
				b := make([]byte, 65536)
				for {
					_ = out.SetReadDeadline(time.Now().Add(udpIdleTimeout))
					k, err := out.Read(b)
					if err != nil {
						break
					}
					_, _ = pc.WriteTo(b[:k], from)
				}
				mu.Lock()
				delete(flows, from.String())
				mu.Unlock()
				f.untrack(out)
			}(out, from)
		}
		_, _ = out.Write(buf[:n])
	}
}
