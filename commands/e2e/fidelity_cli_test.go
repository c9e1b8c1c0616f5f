package e2e

import (
	"strings"
	"testing"
)

// TestFidelityCLIFlags checks that box reads its command line as Docker's
// flag parser does, on one container: values attached to short flags,
// grouped flags, "/NAME", the newer spellings, and the list template
// fields Docker's ps offers.
func TestFidelityCLIFlags(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "fid-" + u.Mode
		vol := "fidvol-" + u.Mode
		only := "name=^" + name + "$"
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", name)
			u.Box(t, "volume", "rm", "-f", vol)
		})
		u.MustBox(t, "run", "-d", "--name", "/"+name, "-eBAR=baz", "-lcom.example.tier=db",
			"-v"+vol+":/data", "busybox", "sleep", "600")
		wantOut(t, u.MustBox(t, "exec", name, "sh", "-c", "echo $BAR"), "baz")
		wantOut(t, u.MustBox(t, "ps", "-an1", "--filter", only, "--format", "{{.Names}}"), name)

		// Docker's ps template fields, a label by key among them.
		r := u.MustBox(t, "ps", "--filter", only, "--format", `{{.Label "com.example.tier"}}|{{.LocalVolumes}}|{{.Mounts}}|{{.Platform}}`)
		if !strings.HasPrefix(r.Stdout, "db|1|"+vol+"|linux/") {
			t.Fatalf("ps label, volume and platform fields: %s", r)
		}
		if r := u.MustBox(t, "ps", "--filter", only, "--format", "{{.Networks}}"); strings.TrimSpace(r.Stdout) == "" {
			t.Fatalf("ps {{.Networks}} is empty: %s", r)
		}
		r = u.MustBox(t, "ps", "--filter", only, "--format", `table {{.Names}}\t{{.Label "com.example.tier"}}`)
		if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 2 || strings.Fields(lines[0])[1] != "tier" {
			t.Fatalf("ps table with a label column: %s", r)
		}

		// stop's and restart's spellings, old and new.
		r = u.Box(t, "stop", "--time", "1", "--timeout", "1", name)
		wantCode(t, r, 125)
		wantOneLineError(t, r, "conflicting options: cannot specify both --timeout and --time")
		wantOut(t, u.MustBox(t, "restart", "--timeout=0", name), name)
		wantOut(t, u.MustBox(t, "stop", "-t0", name), name)

		// Stopped, it shows only when asked for: -a or a status.
		wantOut(t, u.MustBox(t, "ps", "--filter", only, "--format", "{{.Names}}"), "")
		wantOut(t, u.MustBox(t, "ps", "--filter", only, "--filter", "status=exited", "--format", "{{.Names}}"), name)
		wantOut(t, u.MustBox(t, "ps", "-a", "--filter", only, "--format", "{{.Names}}"), name)

		wantOut(t, u.MustBox(t, "rm", "--volumes", name), name)
	})
}

// TestFidelityCLIErrors checks usage errors as Docker words them, and
// that -f makes removing what is not there no failure.
func TestFidelityCLIErrors(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"run", "-h"}, "Error: flag needs an argument: 'h' in -h\nSee 'box run --help'."},
			{[]string{"run", "--name"}, "Error: flag needs an argument: --name\nSee 'box run --help'."},
			{[]string{"run", "--foo", "busybox"}, "Error: unknown flag: --foo\nSee 'box run --help'."},
			{[]string{"container", "ls", "-x"}, "Error: unknown shorthand flag: 'x' in -x\nSee 'box container ls --help'."},
			{[]string{"--foo", "ps"}, "Error: unknown flag: --foo\nSee 'box --help'."},
			{[]string{"build", "--secret", "id=x", "."}, "Error: box build does not support --secret yet"},
		} {
			r := u.Box(t, c.args...)
			wantCode(t, r, 125)
			if got := strings.TrimSpace(r.Stderr); got != c.want {
				t.Errorf("box %s: stderr %q, want %q", strings.Join(c.args, " "), got, c.want)
			}
		}
		// -h where it is no flag asks for help.
		if r := u.MustBox(t, "ps", "-h"); !strings.Contains(r.Stdout, "--all") {
			t.Fatalf("ps -h shows no help: %s", r)
		}

		nosuch := "nosuch-" + u.Mode
		for _, args := range [][]string{{"rm", "-f", nosuch}, {"rmi", "-f", nosuch}, {"volume", "rm", "-f", nosuch}} {
			r := u.Box(t, args...)
			wantCode(t, r, 0)
			if strings.Contains(r.Stdout, "Error") {
				t.Fatalf("box %s: %s", strings.Join(args, " "), r)
			}
		}
		r := u.Box(t, "rm", "-f", nosuch)
		wantOneLineError(t, r, "No such container: "+nosuch)
		wantCode(t, u.Box(t, "rm", nosuch), 1)
	})
}

// TestFidelityCLIPublishDiscarded: as Docker, -p with the host's network
// is discarded with a warning, and with none silently; the container runs.
func TestFidelityCLIPublishDiscarded(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "run", "--rm", "--network", "host", "-p", "18080:80", "busybox", "echo", "ran")
		wantOut(t, r, "ran")
		wantOneLineError(t, r, "WARNING: Published ports are discarded when using host network mode")
		r = u.MustBox(t, "run", "--rm", "--network", "none", "-p", "18080:80", "busybox", "echo", "ran")
		wantOut(t, r, "ran")
		if strings.TrimSpace(r.Stderr) != "" {
			t.Fatalf("--network none -p: want no warning, got %s", r)
		}
	})
}

// TestFidelityCLIBuildx builds through Docker's `buildx build` spelling,
// with a RUN that sees --add-host's line.
func TestFidelityCLIBuildx(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		tag := "fidbx-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rmi", "-f", tag) })
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nRUN grep -q '10.1.2.3.*fidhost' /etc/hosts\n",
		})
		u.MustBox(t, "buildx", "build", "--load", "-q", "--add-host", "fidhost:10.1.2.3", "-t", tag, ctx)
		if r := u.MustBox(t, "images", "-q", tag); strings.TrimSpace(r.Stdout) == "" {
			t.Fatalf("buildx build made no %s: %s", tag, r)
		}
	})
}
