package engine

import (
	"os"
	"strings"
	"testing"

	"box/engine/flags"
	"box/engine/spec"
)

func TestResolvConf(t *testing.T) {
	host := "# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"
	for _, c := range []struct {
		names nameOptions
		want  string
	}{
		{nameOptions{}, "# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"},
		{nameOptions{DNS: []string{"9.9.9.9"}}, "# generated\nsearch corp.example\noptions edns0\nnameserver 9.9.9.9\n"},
		{nameOptions{Search: []string{"a.example", "b.example"}, Options: []string{"ndots:2"}},
			"# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch a.example b.example\noptions ndots:2\n"},
	} {
		if got := resolvConf(host, c.names); got != c.want {
			t.Errorf("%+v:\n%q\nwant\n%q", c.names, got, c.want)
		}
	}
}

func TestResolvConfWithoutHostNameservers(t *testing.T) {
	for _, c := range []struct {
		host    string
		names   nameOptions
		network spec.Network
		want    string
	}{
		{"", nameOptions{}, "pasta", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"search corp.example\n", nameOptions{}, "pasta", "search corp.example\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"", nameOptions{DNS: []string{"9.9.9.9"}}, "pasta", "nameserver 9.9.9.9\n"},
		{"nameserver 10.0.0.1\n", nameOptions{}, "pasta", "nameserver 10.0.0.1\n"},
		// The host's own network has the host's resolver default.
		{"", nameOptions{}, spec.NetworkHost, ""},
		{"", nameOptions{}, spec.NetworkNone, ""},
	} {
		if got := containerResolvConf(c.host, c.names, c.network); got != c.want {
			t.Errorf("%q %+v %s:\n%q\nwant\n%q", c.host, c.names, c.network, got, c.want)
		}
	}
}

// On a bridge the hostname is the container's address (given in Hosts),
// not loopback, as Docker writes /etc/hosts.
func TestEtcHostsBridged(t *testing.T) {
	for _, c := range []struct {
		names    nameOptions
		loopback bool
	}{
		{nameOptions{}, true},
		{nameOptions{Bridged: true, Hosts: []flags.Host{{Name: "abc123", IP: "172.17.0.2"}}}, false},
	} {
		files, err := writeEtcFiles(t.TempDir(), "abc123", "bridge", c.names)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(files["/etc/hosts"])
		if err != nil {
			t.Fatal(err)
		}
		hosts := string(b)
		if got := strings.Contains(hosts, "127.0.0.1\tabc123\n"); got != c.loopback {
			t.Errorf("%+v: loopback hostname line %v, want %v:\n%s", c.names, got, c.loopback, hosts)
		}
		if c.names.Bridged && !strings.Contains(hosts, "172.17.0.2\tabc123\n") {
			t.Errorf("the bridged hostname line is missing:\n%s", hosts)
		}
	}
}
