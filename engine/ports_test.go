package engine

import (
	"reflect"
	"testing"

	"box/engine/network"
)

func TestParsePorts(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []network.Port
	}{
		{"80", []network.Port{{ContainerPort: 80, Proto: "tcp"}}},
		{"8080:80", []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"127.0.0.1:8080:80/udp", []network.Port{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "udp"}}},
		{"127.0.0.1::80", []network.Port{{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"}}},
		{"[::1]:8080:80", []network.Port{{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"8080-8081:80-81", []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, {HostPort: 8081, ContainerPort: 81, Proto: "tcp"}}},
		{"80-81", []network.Port{{ContainerPort: 80, Proto: "tcp"}, {ContainerPort: 81, Proto: "tcp"}}},
	} {
		got, err := parsePorts([]string{c.spec}, false, nil)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	got, err := parsePorts(nil, true, map[string]struct{}{"53/udp": {}, "80/tcp": {}, "9/sctp": {}})
	want := []network.Port{{ContainerPort: 53, Proto: "udp"}, {ContainerPort: 80, Proto: "tcp"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("-P: got %+v, %v; want %+v", got, err, want)
	}
}

func TestPortString(t *testing.T) {
	for p, want := range map[network.Port]string{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}:                  "0.0.0.0:8080->80/tcp",
		{HostIP: "::1", HostPort: 53, ContainerPort: 5353, Proto: "udp"}:   "[::1]:53->5353/udp",
		{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 2, Proto: "tcp"}: "127.0.0.1:1->2/tcp",
	} {
		if got := p.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
