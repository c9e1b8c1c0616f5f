package engine

import (
	"reflect"
	"testing"

	"box/engine/network"
)

// TestLinkEnv: Docker's link variables, TCP ports first, a run of
// consecutive ports with _START and _END, a published port by its host
// port, the linked container's variables less PATH and HOME.
func TestLinkEnv(t *testing.T) {
	got := linkEnv("10.0.2.2", "/web/my-db", []string{"PATH=/bin", "HOME=/root", "USER=pg", "EMPTY="},
		[]string{"53/udp", "5433/tcp", "5432/tcp"}, []network.Port{{HostPort: 15432, ContainerPort: 5432, Proto: "tcp"}})
	want := []string{
		"MY_DB_PORT=tcp://10.0.2.2:15432",
		"MY_DB_PORT_5432_TCP=tcp://10.0.2.2:15432", "MY_DB_PORT_5432_TCP_ADDR=10.0.2.2", "MY_DB_PORT_5432_TCP_PORT=15432", "MY_DB_PORT_5432_TCP_PROTO=tcp",
		"MY_DB_PORT_5433_TCP=tcp://10.0.2.2:5433", "MY_DB_PORT_5433_TCP_ADDR=10.0.2.2", "MY_DB_PORT_5433_TCP_PORT=5433", "MY_DB_PORT_5433_TCP_PROTO=tcp",
		"MY_DB_PORT_53_UDP=udp://10.0.2.2:53", "MY_DB_PORT_53_UDP_ADDR=10.0.2.2", "MY_DB_PORT_53_UDP_PORT=53", "MY_DB_PORT_53_UDP_PROTO=udp",
		"MY_DB_NAME=/web/my-db", "MY_DB_ENV_USER=pg", "MY_DB_ENV_EMPTY=",
	}
	// 5432 and 5433 are a range, which ends at the next port (53/udp):
	// moby's order puts its _START and _END after that one's.
	want = append(want[:13], append([]string{
		"MY_DB_PORT_5432_TCP_START=tcp://10.0.2.2:15432", "MY_DB_PORT_5432_TCP_PORT_START=15432",
		"MY_DB_PORT_5432_TCP_END=tcp://10.0.2.2:5433", "MY_DB_PORT_5432_TCP_PORT_END=5433",
	}, want[13:]...)...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if got := linkEnv("10.0.2.2", "/web/db", nil, nil, nil); !reflect.DeepEqual(got, []string{"DB_NAME=/web/db"}) {
		t.Fatalf("no ports, no variables: %q", got)
	}
}
