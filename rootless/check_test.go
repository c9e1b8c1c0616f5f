package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeMachine lays out a fake /proc/sys, /etc/sub{u,g}id, PATH and tun
// under a temporary directory: a laptop where everything is right.
func fakeMachine(t *testing.T) (Machine, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/sys/user/max_user_namespaces", "28633\n", 0o644)
	write("proc/sys/kernel/unprivileged_userns_clone", "1\n", 0o644)
	write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n", 0o644)
	write("proc/sys/net/ipv4/ip_unprivileged_port_start", "80\n", 0o644)
	write("etc/subuid", "# ranges\nother:200000:65536\nalice:100000:65536\n", 0o644)
	write("etc/subgid", "1000:100000:65536\n", 0o644)
	write("bin/newuidmap", "", 0o755|os.ModeSetuid)
	write("bin/newgidmap", "", 0o755|os.ModeSetuid)
	write("dev/net/tun", "", 0o666)
	if err := os.MkdirAll(filepath.Join(dir, "run/user/1000"), 0o700); err != nil {
		t.Fatal(err)
	}
	return Machine{
		ProcSys: filepath.Join(dir, "proc/sys"),
		SubUID:  filepath.Join(dir, "etc/subuid"), SubGID: filepath.Join(dir, "etc/subgid"),
		Path:       filepath.Join(dir, "bin"),
		Tun:        filepath.Join(dir, "dev/net/tun"),
		RuntimeDir: filepath.Join(dir, "run/user/1000"),
		CgroupV2:   true,
		User:       "alice", UID: 1000,
		Entered: true, Mode: Ranges,
		Overlay: func() error { return nil },
	}, dir
}

func byName(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func TestChecksAllPass(t *testing.T) {
	m, _ := fakeMachine(t)
	checks := Checks(m)
	if len(checks) != 11 {
		t.Fatalf("want 11 checks, got %d: %+v", len(checks), checks)
	}
	for _, c := range checks {
		if !c.OK() || c.Fix != "" || c.Detail == "" || c.Name == "" {
			t.Errorf("on a laptop where everything is right: %+v", c)
		}
	}
	if w := Warnings(checks); len(w) != 0 {
		t.Errorf("warnings with everything right: %q", w)
	}
}

// TestChecksEachFailure breaks one thing at a time and wants exactly the
// check about it to fail, at its severity, with a fix.
func TestChecksEachFailure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(m *Machine, dir string)
		check   string
		status  Status
		fix     string
	}{
		{"no range", func(m *Machine, dir string) { os.WriteFile(m.SubUID, []byte("bob:100000:65536\n"), 0o644) },
			"subordinate ids", StatusWarning, "usermod --add-subuids"},
		{"small range", func(m *Machine, dir string) { os.WriteFile(m.SubGID, []byte("alice:100000:1000\n"), 0o644) },
			"subordinate ids", StatusWarning, "usermod"},
		{"no newuidmap", func(m *Machine, dir string) { os.Remove(filepath.Join(dir, "bin/newuidmap")) },
			"newuidmap/newgidmap", StatusWarning, "apt-get install uidmap"},
		{"newgidmap not setuid", func(m *Machine, dir string) { os.Chmod(filepath.Join(dir, "bin/newgidmap"), 0o755) },
			"newuidmap/newgidmap", StatusWarning, "chmod u+s"},
		{"apparmor", func(m *Machine, dir string) {
			os.WriteFile(filepath.Join(m.ProcSys, "kernel/apparmor_restrict_unprivileged_userns"), []byte("1\n"), 0o644)
			m.Entered = false
		}, "kernel.apparmor_restrict_unprivileged_userns", StatusError, "apparmor_restrict_unprivileged_userns=0"},
		{"userns clone", func(m *Machine, dir string) {
			os.WriteFile(filepath.Join(m.ProcSys, "kernel/unprivileged_userns_clone"), []byte("0\n"), 0o644)
			m.Entered = false
		}, "kernel.unprivileged_userns_clone", StatusError, "unprivileged_userns_clone=1"},
		{"max namespaces", func(m *Machine, dir string) {
			os.WriteFile(filepath.Join(m.ProcSys, "user/max_user_namespaces"), []byte("0\n"), 0o644)
			m.Entered = false
		}, "user.max_user_namespaces", StatusError, "max_user_namespaces=28633"},
		{"overlay refused", func(m *Machine, dir string) {
			m.Overlay = func() error { return errors.New("mount overlay: operation not permitted") }
		},
			"native overlay", StatusError, "fuse-overlayfs"},
		{"overlay refused, fuse-overlayfs", func(m *Machine, dir string) {
			m.Overlay = func() error { return errors.New("mount overlay: operation not permitted") }
			os.WriteFile(filepath.Join(dir, "bin/fuse-overlayfs"), nil, 0o755)
		}, "native overlay", StatusWarning, "5.11"},
		{"tun closed", func(m *Machine, dir string) { m.Tun = filepath.Join(dir, "dev/net/none") },
			"/dev/net/tun", StatusWarning, "modprobe tun"},
		{"no XDG_RUNTIME_DIR", func(m *Machine, dir string) { m.RuntimeDir = "" },
			"XDG_RUNTIME_DIR", StatusWarning, "/run/user/1000"},
		{"cgroup v1", func(m *Machine, dir string) { m.CgroupV2 = false },
			"cgroups", StatusWarning, "unified_cgroup_hierarchy=1"},
		{"low ports", func(m *Machine, dir string) {
			os.WriteFile(filepath.Join(m.ProcSys, "net/ipv4/ip_unprivileged_port_start"), []byte("1024\n"), 0o644)
		}, "net.ipv4.ip_unprivileged_port_start", StatusWarning, "ip_unprivileged_port_start=80"},
		{"single id", func(m *Machine, dir string) { m.Mode = SingleID }, "user namespace", StatusWarning, "below"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, dir := fakeMachine(t)
			tc.breakIt(&m, dir)
			if !m.Entered {
				m.Overlay = nil
				m.EntryError = &DisabledError{Cause: "x", Fix: "sudo x"}
			}
			checks := byName(Checks(m))
			c, ok := checks[tc.check]
			if !ok {
				t.Fatalf("no check named %q", tc.check)
			}
			if c.Status != tc.status || !strings.Contains(c.Fix, tc.fix) || c.Detail == "" {
				t.Fatalf("want %s with a fix naming %q, got %+v", tc.status, tc.fix, c)
			}
			for _, other := range checks {
				// Outside the namespace its own check and the untried
				// overlay fail too.
				if other.Name == tc.check || !m.Entered && (other.Name == "user namespace" || other.Name == "native overlay") {
					continue
				}
				if !other.OK() {
					t.Errorf("breaking %s also failed %+v", tc.name, other)
				}
			}
			if w := Warnings(Checks(m)); len(w) == 0 || !strings.HasPrefix(w[0], "WARNING: ") {
				t.Errorf("warnings: %q", w)
			}
		})
	}
}

// TestChecksAsRoot: as root box has no user namespace, so what concerns
// one passes, saying it is not needed; tun, overlay and cgroups still count.
func TestChecksAsRoot(t *testing.T) {
	m, dir := fakeMachine(t)
	m.Root, m.Entered, m.User, m.UID, m.RuntimeDir, m.CgroupV2 = true, false, "root", 0, "", false
	os.WriteFile(m.SubUID, nil, 0o644)
	os.Remove(filepath.Join(dir, "bin/newuidmap"))
	os.WriteFile(filepath.Join(m.ProcSys, "kernel/apparmor_restrict_unprivileged_userns"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(m.ProcSys, "net/ipv4/ip_unprivileged_port_start"), []byte("1024\n"), 0o644)
	for _, c := range Checks(m) {
		if !c.OK() {
			t.Errorf("as root: %+v", c)
		}
	}
	m.Tun = filepath.Join(dir, "nothing")
	if c := byName(Checks(m))["/dev/net/tun"]; c.OK() {
		t.Errorf("as root, a missing tun passed: %+v", c)
	}
}

func TestSubordinateRanges(t *testing.T) {
	p := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(p, []byte("alice:100000:65536\n#alice:1:1\n1000:300000:1000\nalice:x:5\nbob:1:1\n"), 0o644)
	n, ids, err := subordinateRanges(p, "alice", 1000)
	if err != nil || n != 2 || ids != 66536 {
		t.Fatalf("got %d ranges of %d ids (%v), want 2 of 66536", n, ids, err)
	}
}
