package network

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeUpstream answers every A question with addr, or stays silent when
// addr is invalid, on a free UDP port of 127.0.0.1.
func fakeUpstream(t *testing.T, addr string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		if addr == "" {
			return // a resolver that does not answer
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.ParseIP(addr),
		})
		_ = w.WriteMsg(m)
	})}
	go func() { _ = s.ActivateAndServe() }()
	t.Cleanup(func() { _ = s.Shutdown() })
	return pc.LocalAddr().String()
}

// serve starts d on a port of 127.0.0.1 free for both UDP and TCP and
// returns its address. A free UDP port can be in use for TCP (CI failed
// once: another process's connection had it), so the pair is looked for
// among a few UDP ports.
func serve(t *testing.T, d *DNS) string {
	t.Helper()
	var taken []string
	for len(taken) < 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if errors.Is(err, syscall.EADDRINUSE) {
			taken = append(taken, pc.LocalAddr().String())
			pc.Close()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		d.Serve(pc, l)
		t.Cleanup(d.Close)
		return pc.LocalAddr().String()
	}
	t.Fatalf("no port free for both UDP and TCP; TCP had %v", taken)
	return ""
}

func ask(t *testing.T, server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, server)
	if err != nil {
		t.Fatalf("ask %s for %s: %v", server, name, err)
	}
	return r
}

func answers(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

func TestDNSAnswersNamesAndForwards(t *testing.T) {
	silent := fakeUpstream(t, "")
	upstream := fakeUpstream(t, "192.0.2.7")
	d := NewDNS([]string{silent, upstream}, 300*time.Millisecond)
	d.SetNames(map[string][]netip.Addr{
		"web":          {netip.MustParseAddr("10.89.0.2")},
		"0123456789ab": {netip.MustParseAddr("10.89.0.2")},
		"www":          {netip.MustParseAddr("10.89.0.2")},
		"db":           {netip.MustParseAddr("10.89.0.3")},
	})
	srv := serve(t, d)
	for name, want := range map[string]string{"web": "10.89.0.2", "WEB": "10.89.0.2", "0123456789ab": "10.89.0.2", "www": "10.89.0.2", "db": "10.89.0.3"} {
		for _, nw := range []string{"udp", "tcp"} {
			r := ask(t, srv, nw, name, dns.TypeA)
			if got := answers(r); r.Rcode != dns.RcodeSuccess || len(got) != 1 || got[0] != want {
				t.Errorf("%s over %s: rcode %d, %v; want %s", name, nw, r.Rcode, got, want)
			}
		}
	}
	// A container's name has no IPv6 address, and is not asked elsewhere.
	if r := ask(t, srv, "udp", "web", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("AAAA web: %v", r)
	}
	// Other names go to the upstreams: the silent one first, then the next.
	start := time.Now()
	if r := ask(t, srv, "udp", "example.org", dns.TypeA); len(answers(r)) != 1 || answers(r)[0] != "192.0.2.7" {
		t.Errorf("forwarded: %v", r)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("the silent upstream was not asked first")
	}
	// Names follow the containers.
	d.SetNames(map[string][]netip.Addr{"db": {netip.MustParseAddr("10.89.0.3")}})
	if r := ask(t, srv, "udp", "web", dns.TypeA); len(answers(r)) != 1 || answers(r)[0] != "192.0.2.7" {
		t.Errorf("a removed name should be forwarded: %v", r)
	}
}

func TestDNSNoUpstreamAnswers(t *testing.T) {
	d := NewDNS([]string{fakeUpstream(t, "")}, 200*time.Millisecond)
	srv := serve(t, d)
	if r := ask(t, srv, "udp", "example.org", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %d, want SERVFAIL", r.Rcode)
	}
}

// TestDNSExchangeFallsBack is netstack's DNS address: a query in wire
// format goes to the next nameserver when the first does not answer.
func TestDNSExchangeFallsBack(t *testing.T) {
	silent, good := fakeUpstream(t, ""), fakeUpstream(t, "192.0.2.7")
	d := NewDNS([]string{silent, good}, 300*time.Millisecond)
	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeA)
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := d.Exchange(wire, "udp")
	r := new(dns.Msg)
	if out == nil || r.Unpack(out) != nil {
		t.Fatalf("no answer: %v", out)
	}
	if got := answers(r); len(got) != 1 || got[0] != "192.0.2.7" || r.Id != q.Id {
		t.Fatalf("answers %v (id %d, want %d)", got, r.Id, q.Id)
	}
	if d.Exchange([]byte("junk"), "udp") != nil {
		t.Fatal("junk answered")
	}
}
