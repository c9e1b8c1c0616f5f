package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestRunLinkDefaultNetwork: --link NAME:ALIAS on the default network, for
// every user, as Docker's legacy links: the alias, hostname and name in
// /etc/hosts, ALIAS_NAME, ALIAS_ENV_* and ALIAS_PORT_* in the environment,
// and through them the linked container's web server answers. On the
// default bridge the link gives the linked container's address and its
// own port, as Docker's; between containers with private networks
// (--network netstack, or pasta) it leads to the host, where the port is
// published. inspect shows HostConfig.Links as Docker does.
func TestRunLinkDefaultNetwork(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		for _, network := range []string{"", "netstack"} {
			var net []string
			if network != "" {
				net = []string{"--network", network}
			}
			db := "link-db-" + u.Mode + network
			t.Cleanup(func() { u.Box(t, "rm", "-f", db) })
			port := hostPort(t)
			u.MustBox(t, append(append([]string{"run", "-d", "--name", db}, net...), "-e", "DB_USER=me", "--expose", "9000", "-p", strconv.Itoa(port)+":80",
				"busybox", "sh", "-c", "mkdir /w && echo linked-hello > /w/index.html && echo ready && exec httpd -f -p 80 -h /w")...)
			waitLogs(t, u, db, "ready")
			hostname := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.Config.Hostname}}", db).Stdout)
			mode := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.HostConfig.NetworkMode}}", db).Stdout)
			if network == "" && mode != "bridge" && inCI {
				t.Fatalf("the default network is %q, want bridge (pasta runs in CI)", mode)
			}
			// The address and port the link gives.
			addr, dbPort := "", strconv.Itoa(port)
			if mode == "bridge" {
				addr, dbPort = strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", db).Stdout), "80"
			}

			app := "link-app-" + u.Mode + network
			r := u.MustBox(t, append(append([]string{"run", "--rm", "--name", app}, net...), "--link", db+":db", "busybox", "sh", "-c",
				`grep -w db /etc/hosts; env | grep ^DB_ | sort; wget -qO- -T 5 "http://db:$DB_PORT_80_TCP_PORT/"`)...)
			out := r.Stdout
			hostsLine := strings.SplitN(out, "\n", 2)[0]
			if f := strings.Fields(hostsLine); len(f) != 4 || f[1] != "db" || f[2] != hostname || f[3] != db {
				t.Fatalf("/etc/hosts: want 'ADDR db %s %s', got %q", hostname, db, hostsLine)
			}
			if addr == "" {
				addr = strings.Fields(hostsLine)[0]
			} else if got := strings.Fields(hostsLine)[0]; got != addr {
				t.Fatalf("/etc/hosts gives db at %s, want its address on the bridge, %s", got, addr)
			}
			for _, want := range []string{
				"DB_NAME=/" + app + "/db", "DB_ENV_DB_USER=me",
				"DB_PORT=tcp://" + addr + ":" + dbPort,
				"DB_PORT_80_TCP=tcp://" + addr + ":" + dbPort,
				"DB_PORT_80_TCP_ADDR=" + addr, "DB_PORT_80_TCP_PORT=" + dbPort, "DB_PORT_80_TCP_PROTO=tcp",
				"DB_PORT_9000_TCP=tcp://" + addr + ":9000",
				"linked-hello",
			} {
				if !strings.Contains("\n"+out+"\n", "\n"+want+"\n") {
					t.Errorf("%s: the linking container lacks %q: %s", mode, want, r)
				}
			}
			if strings.Contains(out, "DB_ENV_PATH=") || strings.Contains(out, "DB_ENV_HOME=") || strings.Contains(out, "DB_ENV_HOSTNAME=") {
				t.Errorf("PATH, HOME and HOSTNAME are not passed on by a link: %s", r)
			}

			// Without an alias the name is the alias; inspect shows Docker's form.
			linker := "link-keep-" + u.Mode + network
			t.Cleanup(func() { u.Box(t, "rm", "-f", linker) })
			u.MustBox(t, append(append([]string{"run", "-d", "--name", linker}, net...), "--link", db, "busybox", "sleep", "60")...)
			wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .HostConfig.Links}}", linker), `["/`+db+`:/`+linker+`/`+db+`"]`)
			upper := strings.ToUpper(strings.ReplaceAll(db, "-", "_"))
			r = u.MustBox(t, "exec", linker, "sh", "-c", "echo $"+upper+"_NAME; grep -c -w "+db+" /etc/hosts")
			if got := strings.Fields(r.Stdout); len(got) != 2 || got[0] != "/"+linker+"/"+db || got[1] != "1" {
				t.Fatalf("--link %s without an alias: %s", db, r)
			}
		}
	})
}

// TestRunLinkUserNetwork: on a user network --link makes ALIAS a name
// that the linking container's name server alone answers with the linked
// container's address; another container on the network does not know
// it, and no variables are set (Docker's links there).
func TestRunLinkUserNetwork(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		net := "link-net-" + u.Mode
		svc := "link-svc-" + u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", svc)
			u.Box(t, "network", "rm", net)
		})
		u.MustBox(t, "network", "create", net)
		u.MustBox(t, "run", "-d", "--network", net, "--name", svc, "busybox", "sleep", "120")
		ip := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+net+"\").IPAddress}}", svc).Stdout)
		r := u.MustBox(t, "run", "--rm", "--network", net, "--link", svc+":backend", "busybox", "sh", "-c",
			"nslookup backend 127.0.0.11; env | grep -c ^BACKEND_ || true")
		if !strings.Contains(r.Stdout, "Address: "+ip) || !strings.HasSuffix(strings.TrimSpace(r.Stdout), "0") {
			t.Fatalf("the linking container: want backend at %s and no BACKEND_ variables: %s", ip, r)
		}
		r = u.Box(t, "run", "--rm", "--network", net, "busybox", "nslookup", "backend", "127.0.0.11")
		if strings.Contains(r.Stdout, "Address: "+ip) || !strings.Contains(r.Stdout+r.Stderr, "NXDOMAIN") {
			t.Fatalf("a container without the link resolves its alias: %s", r)
		}
	})
}

// TestRunLinkRefused: a link to a container that does not exist or does
// not run, with the host's network, or malformed, is refused in one line
// with exit 125 and Docker's words, and leaves no container.
func TestRunLinkRefused(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		stopped := "link-stopped-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", stopped) })
		u.MustBox(t, "create", "--name", stopped, "busybox", "true")
		before := u.MustBox(t, "ps", "-aq").Stdout
		missing := "link-missing-" + u.Mode
		wantRefused(t, u.Box(t, "run", "--rm", "--link", missing, "busybox", "true"), "could not get container for "+missing+": No such container: "+missing)
		wantRefused(t, u.Box(t, "run", "--rm", "--name", "link-x-"+u.Mode, "--link", stopped+":s", "busybox", "true"),
			"Cannot link to a non running container: /"+stopped+" AS /link-x-"+u.Mode+"/s")
		wantRefused(t, u.Box(t, "run", "--rm", "--network", "host", "--link", stopped, "busybox", "true"),
			"conflicting options: host type networking can't be used with links")
		wantRefused(t, u.Box(t, "run", "--rm", "--link", "a:b:c", "busybox", "true"), "bad format for links: a:b:c")
		if after := u.MustBox(t, "ps", "-aq").Stdout; after != before {
			t.Fatalf("a refused --link left a container: before %q, after %q", before, after)
		}
		// create does not need the linked container running (its start does).
		created := "link-created-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", created) })
		u.MustBox(t, "create", "--name", created, "--link", stopped+":s", "busybox", "true")
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .HostConfig.Links}}", created), `["/`+stopped+`:/`+created+`/s"]`)
		r := u.Box(t, "start", created)
		if r.Code == 0 || !strings.Contains(r.Stderr, "Cannot link to a non running container: /"+stopped+" AS /"+created+"/s") {
			t.Fatalf("start of a container linked to a stopped one: %s", r)
		}
	})
}
