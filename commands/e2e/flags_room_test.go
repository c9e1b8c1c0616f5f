package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What Docker's flag syntax (parsed by engine/flags before the engine
// sees it) comes to for the user, where other tests do not look already:
// a -p range with host ports box picks, --mount and --tmpfs options in the
// container's mount table, an --env-file's bare names, and mistakes
// refused before anything is made.

// wantNoContainer fails when a container called name exists.
func wantNoContainer(t *testing.T, u *User, name string) {
	t.Helper()
	if out := u.MustBox(t, "ps", "-aq", "--filter", "name="+name).Stdout; out != "" {
		t.Fatalf("a refused run left container %s: %q", name, out)
	}
}

// TestFlagsPublishRange: -p HOSTIP::A-B publishes each port of the range
// on a host port of its own, and each reaches the container.
func TestFlagsPublishRange(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "flags-range-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		www := wwwDir(t, u, "range-"+u.Mode)
		u.MustBox(t, "run", "-d", "--name", name, "-p", "127.0.0.1::8080-8081", "-v", www+":/www",
			"busybox", "httpd", "-f", "-p", "8081", "-h", "/www")
		lines := strings.Split(strings.TrimSpace(u.MustBox(t, "port", name).Stdout), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "8080/tcp -> 127.0.0.1:") || !strings.HasPrefix(lines[1], "8081/tcp -> 127.0.0.1:") {
			t.Fatalf("want 8080/tcp and 8081/tcp on 127.0.0.1, box port says %q", lines)
		}
		var p0, p1 int
		fmt.Sscanf(lines[0], "8080/tcp -> 127.0.0.1:%d", &p0)
		fmt.Sscanf(lines[1], "8081/tcp -> 127.0.0.1:%d", &p1)
		if p0 == 0 || p1 == 0 || p0 == p1 {
			t.Fatalf("want two host ports, got %d and %d", p0, p1)
		}
		if got := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/", p1)); got != "range-"+u.Mode {
			t.Fatalf("port 8081 of the range served %q", got)
		}
		wantOut(t, u.MustBox(t, "port", name, "8081/tcp"), fmt.Sprintf("127.0.0.1:%d", p1))
	})
}

// TestFlagsMountForms: --mount's and --tmpfs's options reach the mount
// table; -v makes a missing host directory, --mount refuses one and makes
// nothing; a volume made by --mount carries its volume-label.
func TestFlagsMountForms(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.MustBox(t, "run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,readonly", "--tmpfs", "/s:size=2m,mode=1777",
			"busybox", "sh", "-c", "grep -E ' /(t|s) ' /proc/mounts | cut -d' ' -f2,4; stat -c %a /s")
		out := r.Stdout
		for _, want := range []string{"/t ro,", "size=1024k", "/s rw,", "size=2048k", "\n1777\n"} {
			if !strings.Contains(out, want) {
				t.Fatalf("want %q in the container's mounts:\n%s", want, out)
			}
		}

		dir := filepath.Join(tempDir, "flags-mounts-"+u.Mode)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dir, 0o777)
		made := filepath.Join(dir, "made", "by-v")
		u.MustBox(t, "run", "--rm", "-v", made+":/x", "busybox", "sh", "-c", "echo in > /x/f")
		if b, err := os.ReadFile(filepath.Join(made, "f")); err != nil || string(b) != "in\n" {
			t.Fatalf("-v did not make its missing host directory: %q %v", b, err)
		}

		missing := filepath.Join(dir, "missing")
		name := "flags-mount-missing-" + u.Mode
		r = u.Box(t, "run", "--name", name, "--mount", "type=bind,src="+missing+",dst=/x", "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "bind source path does not exist: "+missing)
		if _, err := os.Stat(missing); err == nil {
			t.Fatal("a refused --mount bind made its host directory")
		}
		wantNoContainer(t, u, name)

		vol := "flags-labelled-" + u.Mode
		t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", vol) })
		u.MustBox(t, "run", "--rm", "--mount", "type=volume,source="+vol+",target=/v,volume-label=team=flags", "busybox", "touch", "/v/f")
		wantOut(t, u.MustBox(t, "volume", "inspect", "-f", "{{index .Labels \"team\"}}", vol), "flags")
	})
}

// TestFlagsEnvFile: an --env-file's bare NAME takes the caller's value,
// its comments and indented lines are read as Docker reads them, and a
// bad line is refused, naming the file's line, before anything is made.
func TestFlagsEnvFile(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		envFile := filepath.Join(u.Home, "flags.env")
		if err := os.WriteFile(envFile, []byte("# a comment\n\nFROM_CALLER\n\t  INDENTED=two words\n  # indented comment\nUNSET_IN_CALLER\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := u.BoxWith(t, RunOpts{Env: []string{"FROM_CALLER=hello"}}, "run", "--rm", "--env-file", envFile,
			"busybox", "sh", "-c", `echo "$FROM_CALLER|$INDENTED|${UNSET_IN_CALLER-unset}"`)
		if r.Code != 0 {
			t.Fatalf("box run: %s", r)
		}
		wantOut(t, r, "hello|two words|unset")

		bad := filepath.Join(u.Home, "flags-bad.env")
		if err := os.WriteFile(bad, []byte("OK=1\nBAD KEY=2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		name := "flags-env-bad-" + u.Mode
		r = u.Box(t, "run", "--name", name, "--env-file", bad, "busybox", "true")
		wantCode(t, r, 125)
		wantOneLineError(t, r, "invalid env file "+bad+" line 2")
		wantNoContainer(t, u, name)
	})
}

// TestFlagsRefusedFirst: mistakes in flags the engine used to find only
// while it made the container are refused up front: 125, one line, and no
// container (create as run), nor a pull.
func TestFlagsRefusedFirst(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "flags-refused-" + u.Mode
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--volumes-from", "whatever:rx"}, "the mode must be ro or rw"},
			{[]string{"--label-file", "/does/not/exist"}, "open label file"},
			{[]string{"--restart", "always:3", "-d"}, "only on-failure takes a maximum retry count"},
			{[]string{"--security-opt", "seccomp=/does/not/exist"}, "invalid --security-opt"},
			{[]string{"--log-opt", "max-file=0"}, "max-file=0"},
			// A mount over the whole root, however it is spelt (Docker's words).
			{[]string{"-v", "vol:/x/.."}, "destination can't be '/'"},
			{[]string{"--mount", "dst=/."}, "destination can't be '/'"},
			{[]string{"--tmpfs", "//"}, "destination can't be '/'"},
		} {
			for _, verb := range []string{"run", "create"} {
				// An image that is nowhere: a pull would fail otherwise.
				args := append(append([]string{verb, "--name", name}, c.args...), "flags-no-such-image:1")
				r := u.Box(t, args...)
				wantCode(t, r, 125)
				wantOneLineError(t, r, c.want)
				if strings.Contains(r.Stderr, "Unable to find image") {
					t.Fatalf("%s %q: tried to pull before refusing the flag: %s", verb, c.args, r)
				}
				wantNoContainer(t, u, name)
			}
		}
		// box build checks --add-host before any step runs.
		ctx := filepath.Join(u.Home, "flags-build")
		if err := os.MkdirAll(ctx, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox\nRUN true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := u.Box(t, "build", "--add-host", "nocolon", "-t", "flags-never", ctx)
		wantCode(t, r, 125)
		wantOneLineError(t, r, `invalid argument "nocolon" for "--add-host" flag`)
		if r := u.Box(t, "image", "inspect", "flags-never"); r.Code == 0 {
			t.Fatal("a refused build made an image")
		}
	})
}
