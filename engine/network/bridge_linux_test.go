package network

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// newNS makes a network namespace of its own for the test (root only).
func newNS(t *testing.T) *os.File {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making network namespaces needs root")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := netns.Set(orig); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(h), "netns")
	t.Cleanup(func() { f.Close() })
	return f
}

// inNS runs f on a thread in ns; sockets f makes stay in ns.
func inNS(t *testing.T, ns *os.File, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(netns.NsHandle(int(ns.Fd()))); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(err)
		}
	}()
	f()
}

func TestBridgeJoinsContainers(t *testing.T) {
	shared, a, b := newNS(t), newNS(t), newNS(t)
	br := Bridge{Name: "br-test0", Gateway: netip.MustParsePrefix("10.89.200.1/24")}
	if err := EnsureBridge(shared, br); err != nil {
		t.Fatal(err)
	}
	if err := EnsureBridge(shared, br); err != nil {
		t.Fatalf("a second EnsureBridge: %v", err)
	}
	gw := netip.MustParseAddr("10.89.200.1")
	for i, ns := range []*os.File{a, b} {
		ip := netip.AddrFrom4([4]byte{10, 89, 200, byte(2 + i)})
		mac := net.HardwareAddr{0x02, 0x42, 10, 89, 200, byte(2 + i)}
		ep := Endpoint{HostIf: "vtest" + string(rune('a'+i)), IfName: "eth0", Addr: netip.PrefixFrom(ip, 24), MAC: mac, Gateway: gw}
		if err := Attach(shared, ns, br.Name, ep); err != nil {
			t.Fatal(err)
		}
	}
	// The bridge keeps the address made from its gateway's, whatever ports
	// join it: a bridge left to choose takes its lowest port's, and every
	// container's ARP entry for the gateway (the name server) goes stale.
	hs, err := handleAt(shared)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	if link, err := hs.LinkByName(br.Name); err != nil {
		t.Fatal(err)
	} else if got, want := link.Attrs().HardwareAddr.String(), "02:42:0a:59:c8:01"; got != want {
		t.Errorf("bridge MAC with two ports = %s, want %s", got, want)
	}

	// A serves on 10.89.200.2:8080; B reaches it over the bridge.
	var l net.Listener
	inNS(t, a, func() {
		var err error
		if l, err = net.Listen("tcp", "10.89.200.2:8080"); err != nil {
			t.Fatal(err)
		}
	})
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = c.Write([]byte("over the bridge"))
			c.Close()
		}
	}()
	var got []byte
	inNS(t, b, func() {
		c, err := net.Dial("tcp", "10.89.200.2:8080")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got, _ = io.ReadAll(c)
	})
	if string(got) != "over the bridge" {
		t.Fatalf("got %q", got)
	}
	// The gateway answers too (the name server listens there).
	inNS(t, shared, func() {
		var err error
		if l, err = net.Listen("tcp", "10.89.200.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	defer l.Close()
	inNS(t, b, func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("gateway: %v", err)
		}
		c.Close()
	})
	if err := Detach(shared, "vtesta"); err != nil {
		t.Fatal(err)
	}
	h, _ := handleAt(a)
	defer h.Close()
	if _, err := h.LinkByName("eth0"); err == nil {
		t.Error("eth0 is still in the container after Detach")
	}
	if err := Detach(shared, "vtesta"); err != nil {
		t.Errorf("a second Detach: %v", err)
	}
}
