package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestNameOptions: --dns, --dns-search, --dns-option and --add-host shape the container's
// resolv.conf and hosts, and the host answers as host.containers.internal.
func TestNameOptions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from the host")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	forEachUser(t, func(t *testing.T, u *User) {
		name := "names-" + u.Mode
		r := u.MustBox(t, "run", "--name", name, "--dns", "9.9.9.9", "--dns-search", "corp.example",
			"--dns-option", "ndots:2", "--add-host", "db:10.0.0.5", "--add-host", "gw=host-gateway",
			"busybox", "cat", "/etc/resolv.conf", "/etc/hosts")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		for _, want := range []string{"nameserver 9.9.9.9\n", "search corp.example\n", "options ndots:2\n",
			"10.0.0.5\tdb\n", "\tgw\n", "host.containers.internal host.docker.internal\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("want %q in the container's resolv.conf and hosts:\n%s", want, r.Stdout)
			}
		}
		if strings.Count(r.Stdout, "nameserver") != 1 {
			t.Fatalf("--dns replaces the host's nameservers:\n%s", r.Stdout)
		}
		r = u.MustBox(t, "inspect", "--format", "{{.HostConfig.Dns}} {{.HostConfig.DnsSearch}} {{.HostConfig.DnsOptions}} {{.HostConfig.ExtraHosts}}", name)
		wantOut(t, r, "[9.9.9.9] [corp.example] [ndots:2] [db:10.0.0.5 gw=host-gateway]")

		// The host, by its name.
		r = u.MustBox(t, "run", "--rm", "busybox", "wget", "-qO-", fmt.Sprintf("http://host.containers.internal:%d/", port))
		wantOut(t, r, "hello from the host")

		for _, bad := range [][]string{{"--dns", "1.2.3"}, {"--add-host", "nocolon"}, {"--add-host", "db:notanip"}} {
			r := u.Box(t, append(append([]string{"run", "--rm"}, bad...), "busybox", "true")...)
			wantCode(t, r, 125)
			wantOneLineError(t, r, "invalid argument", bad[0])
		}
	})
}
