package engine

import (
	"testing"

	"box/engine/network"
)

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
