package flags

import (
	"errors"
	"reflect"
	"strings"
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
		{"8080-8080:80", []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
	} {
		got, err := ParsePorts([]string{c.spec})
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
}

func TestParsePortsRefuses(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"abc", `container port "abc" is not a port number`},
		{"8080:abc", `container port "abc" is not a port number`},
		{"0", `container port "0" is not a port number`},
		{"x:80", `host port "x" is not a port number`},
		{"70000:80", `host port "70000" is not a port number`},
		{"80:81-x", `container port "x" is not a port number`},
		{"1.2.3:8080:80", `host IP "1.2.3" is not an IP address`},
		{"1:2:3:4", "too many colons"},
		{"80/sctp", `protocol "sctp": box publishes tcp and udp`},
		{"8080-8082:80-81", "differ in size"},
		{"8080-8090:80", "differ in size"},
		{"90-80:90-80", "ends before it starts"},
		{"8080:", "no container port"},
		{"[::1:8080:80", "unclosed ["},
		{"[::1]80", "want [hostIP]:hostPort:containerPort"},
	} {
		_, err := ParsePorts([]string{"80", c.spec})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), `invalid publish spec "`+c.spec+`": `) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error about %q", c.spec, err, c.want)
		}
	}
}

func TestExposedPorts(t *testing.T) {
	got := ExposedPorts(map[string]struct{}{"53/udp": {}, "80/tcp": {}, "9/sctp": {}, "8000-8001": {}, "bogus": {}, "0/tcp": {}})
	want := []network.Port{
		{ContainerPort: 53, Proto: "udp"}, {ContainerPort: 80, Proto: "tcp"},
		{ContainerPort: 8000, Proto: "tcp"}, {ContainerPort: 8001, Proto: "tcp"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := ExposedPorts(nil); got != nil {
		t.Errorf("no EXPOSE: got %+v", got)
	}
}

func TestParseContainerPort(t *testing.T) {
	for in, want := range map[string]network.Port{
		"80":     {ContainerPort: 80, Proto: "tcp"},
		"80/tcp": {ContainerPort: 80, Proto: "tcp"},
		"53/udp": {ContainerPort: 53, Proto: "udp"},
	} {
		if got, err := ParseContainerPort(in); err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "0", "70000", "/udp", "80-81"} {
		var ue *UsageError
		if _, err := ParseContainerPort(bad); !errors.As(err, &ue) || !strings.Contains(err.Error(), "want PORT[/tcp|/udp]") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}
