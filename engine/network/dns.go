package network

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNS is the embedded name server of a user network: it listens on the
// network's gateway address, answers the names of the containers on that
// network (their names, short ids and aliases) with their addresses, and
// forwards every other question to the host's resolvers, in order, going
// on to the next when one does not answer. It never prints.
type DNS struct {
	mu        sync.RWMutex
	names     map[string][]netip.Addr
	upstreams []string
	timeout   time.Duration
	servers   []*dns.Server
}

// NewDNS makes a name server that forwards to upstreams ("IP" or
// "IP:PORT", port 53 when none), waiting timeout for each.
func NewDNS(upstreams []string, timeout time.Duration) *DNS {
	d := &DNS{names: map[string][]netip.Addr{}, timeout: timeout}
	for _, u := range upstreams {
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		d.upstreams = append(d.upstreams, u)
	}
	return d
}

// SetNames replaces the table of names: each name (any case) answers
// with its addresses.
func (d *DNS) SetNames(names map[string][]netip.Addr) {
	t := make(map[string][]netip.Addr, len(names))
	for n, a := range names {
		t[dns.CanonicalName(n)] = append(t[dns.CanonicalName(n)], a...)
	}
	d.mu.Lock()
	d.names = t
	d.mu.Unlock()
}

// Serve answers on pc (UDP) and l (TCP, may be nil) until Close.
func (d *DNS) Serve(pc net.PacketConn, l net.Listener) {
	if pc != nil {
		s := &dns.Server{PacketConn: pc, Handler: d}
		d.servers = append(d.servers, s)
		go func() { _ = s.ActivateAndServe() }()
	}
	if l != nil {
		s := &dns.Server{Listener: l, Handler: d}
		d.servers = append(d.servers, s)
		go func() { _ = s.ActivateAndServe() }()
	}
}

// Close stops serving; it is idempotent.
func (d *DNS) Close() {
	for _, s := range d.servers {
		_ = s.Shutdown()
	}
	d.servers = nil
}

// ServeDNS answers one question.
func (d *DNS) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	if len(q.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	qq := q.Question[0]
	d.mu.RLock()
	addrs, known := d.names[dns.CanonicalName(qq.Name)]
	d.mu.RUnlock()
	if known && qq.Qclass == dns.ClassINET {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.RecursionAvailable = true
		if qq.Qtype == dns.TypeA || qq.Qtype == dns.TypeANY {
			for _, a := range addrs {
				ip := a.As4()
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
					A:   net.IP(ip[:]),
				})
			}
		}
		// Other types of a container's name: no data, and no asking
		// elsewhere for a name that is the network's own.
		_ = w.WriteMsg(m)
		return
	}
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	if r := d.forward(q, network); r != nil {
		_ = w.WriteMsg(r)
		return
	}
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
}

// forward asks each upstream in turn, returning the first answer, or
// nil when none answered. A truncated answer over UDP is asked again
// over TCP of the same server.
func (d *DNS) forward(q *dns.Msg, network string) *dns.Msg {
	for _, u := range d.upstreams {
		c := &dns.Client{Net: network, Timeout: d.timeout}
		ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
		r, _, err := c.ExchangeContext(ctx, q, u)
		cancel()
		if err == nil && r != nil && r.Truncated && network == "udp" {
			c.Net = "tcp"
			ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
			if r2, _, err2 := c.ExchangeContext(ctx, q, u); err2 == nil && r2 != nil {
				r = r2
			}
			cancel()
		}
		if err == nil && r != nil && r.Rcode != dns.RcodeServerFailure && r.Rcode != dns.RcodeRefused {
			r.Id = q.Id
			return r
		}
	}
	return nil
}

// Exchange answers one query in wire format as ServeDNS would, for a
// caller that carries the datagrams itself (netstack's DNS address):
// nil when msg is not a query or nobody answered.
func (d *DNS) Exchange(msg []byte, network string) []byte {
	q := new(dns.Msg)
	if q.Unpack(msg) != nil || len(q.Question) != 1 {
		return nil
	}
	r := d.forward(q, network)
	if r == nil {
		r = new(dns.Msg)
		r.SetRcode(q, dns.RcodeServerFailure)
	}
	out, err := r.Pack()
	if err != nil {
		return nil
	}
	return out
}
