package e2e

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunFlagsContainer: Docker's container flags scripts use do what
// Docker's do, for every user: --ulimit seen by `ulimit -n`, --shm-size
// by df, --domainname, --group-add by id, --stop-signal honoured by
// stop, --stop-timeout, --expose, --annotation and --sysctl in inspect.
func TestRunFlagsContainer(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		if u.Mode == "norange" {
			// Only the user's own id is mapped: group 10 cannot be had.
			wantRefused(t, u.Box(t, "run", "--rm", "--group-add", "10", "busybox", "true"), "--group-add: gid 10 is not mapped in box's user namespace")
		}
		group := map[bool]string{true: "0", false: "10"}[u.Mode == "norange"]
		r := u.MustBox(t, "run", "--rm", "--ulimit", "nofile=512:512", "--shm-size", "96m", "--domainname", "example.org",
			"--group-add", group, "--sysctl", "net.ipv4.ip_forward=1", "busybox", "sh", "-c",
			`ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1; cat /proc/sys/kernel/domainname; id -G; cat /proc/sys/net/ipv4/ip_forward`)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 6 || lines[0] != "512" || lines[1] != "512" || !strings.Contains(lines[2], " 98304 ") ||
			lines[3] != "example.org" || !strings.Contains(" "+lines[4]+" ", " "+group+" ") || lines[5] != "1" {
			t.Fatalf("ulimit, /dev/shm, domainname, groups and sysctl inside the container: %s", r)
		}

		name := "flags-stop-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		u.MustBox(t, "run", "-d", "--name", name, "--stop-signal", "USR1", "--stop-timeout", "20", "--expose", "7000-7001/udp",
			"--annotation", "org.example=yes", "busybox", "sh", "-c", `trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.1; done`)
		waitLogs(t, u, name, "ready")
		r = u.MustBox(t, "inspect", "-f", `{{.Config.StopSignal}} {{.Config.StopTimeout}} {{json .Config.ExposedPorts}} {{json .HostConfig.Annotations}}`, name)
		if got := strings.TrimSpace(r.Stdout); got != `USR1 20 {"7000/udp":{},"7001/udp":{}} {"org.example":"yes"}` {
			t.Fatalf("inspect of the stop signal, timeout, exposed ports and annotations: %q", got)
		}
		start := time.Now()
		u.MustBox(t, "stop", name)
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("stop took %s: the --stop-signal did not reach the trap", took)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.ExitCode}}", name), "7")
		if r := u.MustBox(t, "logs", name); !strings.Contains(r.Stdout, "got USR1") {
			t.Fatalf("the container's trap did not run: %s", r)
		}
	})
}

// TestRunFlagsStopTimeout: with no -t, stop waits the container's
// --stop-timeout before it kills: 1 s here, for a command that ignores
// SIGTERM.
func TestRunFlagsStopTimeout(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "pull", "-q", "busybox")
	name := "flags-stoptimeout"
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	u.MustBox(t, "run", "-d", "--name", name, "--stop-timeout", "1", "busybox", "sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.1; done`)
	waitLogs(t, u, name, "ready")
	start := time.Now()
	u.MustBox(t, "stop", name)
	if took := time.Since(start); took < time.Second || took > 8*time.Second {
		t.Fatalf("stop of a container with --stop-timeout 1 took %s", took)
	}
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.ExitCode}}", name), "137")
}

// TestRunFlagsCIDFile: --cidfile is written with the id as the container
// is made, refused when it exists (nothing is created then), and kept
// after the container ends, as Docker's.
func TestRunFlagsCIDFile(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		cid := filepath.Join(u.Home, "flags.cid")
		_ = os.Remove(cid)
		t.Cleanup(func() { _ = os.Remove(cid) })
		name := "flags-cid-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		r := u.MustBox(t, "run", "-d", "--name", name, "--cidfile", cid, "busybox", "true")
		id := strings.TrimSpace(r.Stdout)
		data, err := os.ReadFile(cid)
		if err != nil || string(data) != id {
			t.Fatalf("--cidfile holds %q (%v); want the id %q", data, err, id)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.ContainerIDFile}}", name), cid)
		before := u.MustBox(t, "ps", "-aq").Stdout
		r = u.Box(t, "run", "--rm", "--cidfile", cid, "busybox", "true")
		wantRefused(t, r, "container ID file found, make sure the other container isn't running or delete "+cid)
		if after := u.MustBox(t, "ps", "-aq").Stdout; after != before {
			t.Fatalf("a refused --cidfile left a container: before %q, after %q", before, after)
		}
		if data, _ := os.ReadFile(cid); string(data) != id {
			t.Fatalf("the refused run changed the existing cidfile to %q", data)
		}
		// A run that fails before the container exists leaves no file.
		other := filepath.Join(u.Home, "flags-fail.cid")
		t.Cleanup(func() { _ = os.Remove(other) })
		u.Box(t, "run", "--rm", "--cidfile", other, "--pull", "never", "no-such-image-here", "true")
		if _, err := os.Stat(other); err == nil {
			t.Fatal("a failed run left its --cidfile behind")
		}
	})
}

// TestRunFlagsBadInput: malformed values and Docker flags box does not
// have give one line, exit 125, and leave no container.
func TestRunFlagsBadInput(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		before := u.MustBox(t, "ps", "-aq").Stdout
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--memory", "12x"}, `invalid argument "12x" for "-m, --memory" flag`},
			{[]string{"--cpus", "-1"}, `invalid argument "-1" for "--cpus" flag`},
			{[]string{"--ulimit", "nofile=10:5"}, "ulimit soft limit must be less than or equal to hard limit: 10 > 5"},
			{[]string{"--ulimit", "nofile=100000000"}, "above your own hard limit for nofile"},
			{[]string{"--sysctl", "kernel.foo=1"}, "sysctl 'kernel.foo' is not allowed"},
			{[]string{"--sysctl", "net.ipv4.ip_forward=1", "--network", "host"}, `sysctl "net.ipv4.ip_forward" not allowed with --network host`},
			{[]string{"--gpus", "all"}, "box run does not support --gpus"},
			{[]string{"--runtime", "crun"}, "unknown or invalid runtime name: crun"},
			{[]string{"--pid", "bogus"}, `invalid argument "bogus" for "--pid" flag`},
			{[]string{"--stop-signal", "NOPE"}, "invalid --stop-signal: invalid signal: NOPE"},
			{[]string{"--expose", "80/xyz"}, "invalid proto: xyz"},
			{[]string{"--userns", "bogus"}, `invalid argument "bogus" for "--userns" flag`},
			{[]string{"--device", "/dev/null:/dev/n:rx"}, "bad mode specified: rx"},
		} {
			r := u.Box(t, append(append([]string{"run", "--rm"}, c.args...), "busybox", "true")...)
			wantRefused(t, r, c.want)
		}
		r := u.Box(t, "create", "--gpus", "all", "busybox", "true")
		wantRefused(t, r, "box create does not support --gpus")
		if after := u.MustBox(t, "ps", "-aq").Stdout; after != before {
			t.Fatalf("refused runs left containers: before %q, after %q", before, after)
		}
	})
}

// TestRunFlagsResourcesRoot: as root the limits reach the container's
// cgroup (cgroup v1 here: memory.limit_in_bytes, pids.max,
// cpu.cfs_quota_us) and show in inspect; a fork bomb is capped by
// --pids-limit.
func TestRunFlagsResourcesRoot(t *testing.T) {
	u := requireRoot(t)
	u.MustBox(t, "pull", "-q", "busybox")
	name := "flags-res-root"
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	r := u.MustBox(t, "run", "--name", name, "-m", "64m", "--pids-limit", "20", "--cpus", "0.5", "--cpu-shares", "512", "busybox", "sh", "-c",
		`if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cut -d' ' -f1 /sys/fs/cgroup/cpu.max; else
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us; fi`)
	if got := strings.Fields(r.Stdout); strings.Join(got, " ") != "67108864 20 50000" {
		t.Fatalf("the container's cgroup limits: %q; want 64 MiB, 20 pids, 50000 us of 100000", got)
	}
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}", name),
		"67108864 134217728 20 500000000 512")

	// More processes than --pids-limit allows cannot be made: the inner
	// shell's forks fail past 10, and the cgroup counts the refusals.
	r = u.MustBox(t, "run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c",
		`sh -c 'i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; echo $n; read m < /sys/fs/cgroup/pids/pids.events; echo $m`)
	f := strings.Fields(r.Stdout)
	if len(f) != 3 || f[2] == "0" {
		t.Fatalf("--pids-limit 10 did not cap a fork loop: %s", r)
	}
	if n, err := strconv.Atoi(f[0]); err != nil || n > 10 {
		t.Fatalf("--pids-limit 10 let %s processes run", f[0])
	}

	// An allocation over --memory is killed: 137, and OOMKilled in inspect.
	oom := "flags-oom-root"
	t.Cleanup(func() { u.Box(t, "rm", "-f", oom) })
	r = u.Box(t, "run", "--name", oom, "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c", `x=$(head -c 100000000 /dev/zero | tr '\0' a); echo survived`)
	if r.Code != 137 || strings.Contains(r.Stdout, "survived") {
		t.Fatalf("a 100 MB allocation under -m 16m: want exit 137, got %s", r)
	}
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", oom), "true 137")
}

// TestRunFlagsResourcesRootless: a rootless run with limits on this
// machine (cgroup v1: nothing delegated) goes ahead with exactly one
// warning that says why and how to enable limits; inspect still shows
// what was asked for.
func TestRunFlagsResourcesRootless(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "pull", "-q", "busybox")
	name := "flags-res-rootless"
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	r := u.Box(t, "run", "--name", name, "-m", "64m", "--pids-limit", "20", "busybox", "echo", "ran")
	if r.Code != 0 || r.Stdout != "ran\n" {
		t.Fatalf("a rootless run with limits did not run: %s", r)
	}
	var warnings []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "WARNING:") {
			warnings = append(warnings, l)
		}
	}
	if v1 := cgroupV1(); v1 && (len(warnings) != 1 || !strings.Contains(warnings[0], "resource limits are ignored") || !strings.Contains(warnings[0], "cgroup v2")) {
		t.Fatalf("want exactly one warning saying limits are ignored and how to enable them, got %q", warnings)
	}
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", name), "67108864 20")
}

// TestRunFlagsNamespaces: --pid host sees the host's processes and
// --uts host keeps the host's name, for every user; --pid container:NAME
// sees the other container's processes and --ipc container:NAME its IPC
// namespace (its message queues), and --ipc host the host's (its System
// V shared memory), as root and
// rootless (joining the other container's user namespace too, as
// Podman's does).
func TestRunFlagsNamespaces(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		r := u.MustBox(t, "run", "--rm", "--pid", "host", "busybox", "sh", "-c", "cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l")
		lines := strings.Fields(r.Stdout)
		host1, _ := os.ReadFile("/proc/1/comm")
		if len(lines) != 2 || lines[0] != strings.TrimSpace(string(host1)) {
			t.Fatalf("--pid host: PID 1 is %q, want the host's %q", r.Stdout, host1)
		}
		if n, _ := strconv.Atoi(lines[1]); n < 5 {
			t.Fatalf("--pid host sees %d processes", n)
		}
		name := "flags-pid-owner-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		// The owner makes a POSIX message queue in its IPC namespace,
		// which a joiner must see.
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "touch /dev/mqueue/boxq && echo ready; exec sleep 300")
		waitLogs(t, u, name, "ready")
		wantOut(t, u.MustBox(t, "run", "--rm", "--uts", "host", "busybox", "hostname"), hostname(t))

		r = u.MustBox(t, "run", "--rm", "--pid", "container:"+name, "busybox", "ps", "-o", "comm")
		if !strings.Contains(r.Stdout, "sleep") {
			t.Fatalf("--pid container:%s does not see its sleep: %s", name, r)
		}
		if msg := strings.TrimSpace(withoutWarnings(r.Stderr)); msg != "" {
			t.Errorf("--pid container:%s wrote to stderr: %q", name, msg)
		}
		ownerIPC := strings.TrimSpace(u.MustBox(t, "exec", name, "readlink", "/proc/self/ns/ipc").Stdout)
		r = u.MustBox(t, "run", "--rm", "--ipc", "container:"+name, "busybox", "sh", "-c", "readlink /proc/self/ns/ipc; ls /dev/mqueue")
		if got := strings.Fields(r.Stdout); len(got) != 2 || got[0] != ownerIPC || got[1] != "boxq" {
			t.Fatalf("--ipc container:%s: want its namespace %s and its queue boxq, got %s", name, ownerIPC, r)
		}
		r = u.MustBox(t, "run", "--rm", "--pid", "container:"+name, "--ipc", "container:"+name, "busybox", "sh", "-c", "ps -o comm; ls /dev/mqueue")
		if !strings.Contains(r.Stdout, "sleep") || !strings.Contains(r.Stdout, "boxq") {
			t.Fatalf("--pid and --ipc container:%s together: %s", name, r)
		}
		if r := u.MustBox(t, "run", "--rm", "busybox", "ls", "/dev/mqueue"); strings.Contains(r.Stdout, "boxq") {
			t.Fatalf("a container of its own sees another's message queue: %s", r)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.PidMode}}", mustRunID(t, u, "--pid", "container:"+name)), "container:"+name)
		if u.Mode != "root" {
			// One monitor carries a rootless run out: one owner only.
			other := mustRunID(t, u)
			wantRefused(t, u.Box(t, "run", "--rm", "--pid", "container:"+name, "--network", "container:"+other, "busybox", "true"),
				"a rootless container can share the namespaces of one other container only")
		}
		// create then start: the namespaces the owner has when it starts.
		joiner := "flags-pid-joiner-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", joiner) })
		u.MustBox(t, "create", "--name", joiner, "--pid", "container:"+name, "--ipc", "container:"+name, "busybox", "sh", "-c", "ps -o comm; ls /dev/mqueue")
		if r := u.MustBox(t, "start", "-a", joiner); !strings.Contains(r.Stdout, "sleep") || !strings.Contains(r.Stdout, "boxq") {
			t.Fatalf("start of a container created with --pid and --ipc container:%s: %s", name, r)
		}
		wantRefused(t, u.Box(t, "run", "--rm", "--pid", "container:flags-no-such-"+u.Mode, "busybox", "true"), "No such container: flags-no-such-"+u.Mode)
		stopped := "flags-pid-stopped-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", stopped) })
		u.MustBox(t, "create", "--name", stopped, "busybox", "true")
		wantRefused(t, u.Box(t, "run", "--rm", "--ipc", "container:"+stopped, "busybox", "true"), "cannot join IPC of a non running container: ")
		u.MustBox(t, "stop", "-t", "0", name)
		if r := u.Box(t, "start", joiner); r.Code == 0 || !strings.Contains(r.Stderr, "cannot join PID of a non running container: ") {
			t.Fatalf("start of a container whose --pid owner has stopped: %s", r)
		}

		// --ipc host: the host's System V segments, one made here by
		// the test's user.
		key := ipcmkHost(t, u)
		r = u.MustBox(t, "run", "--rm", "--ipc", "host", "busybox", "cat", "/proc/sysvipc/shm")
		if !strings.Contains(r.Stdout, key) {
			t.Fatalf("--ipc host does not see the host's segment %s: %s", key, r)
		}
	})
}

// mustRunID runs a detached sleep with args and returns its id, removed
// when the test ends.
func mustRunID(t *testing.T, u *User, args ...string) string {
	t.Helper()
	r := u.MustBox(t, append(append([]string{"run", "-d"}, args...), "busybox", "sleep", "30")...)
	id := strings.TrimSpace(r.Stdout)
	t.Cleanup(func() { u.Box(t, "rm", "-f", id) })
	return id
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func cgroupV1() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err != nil
}

// waitLogs waits until the container's log holds want.
func waitLogs(t *testing.T, u *User, name, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(u.Box(t, "logs", name).Stdout, want) {
			return
		}
	}
	t.Fatalf("container %s never logged %q", name, want)
}

// wantRefused checks a box failure: exit 125 and one line on stderr
// (beyond box's own rootless warnings and a "Hint: " line) holding want.
func wantRefused(t *testing.T, r Result, want string) {
	t.Helper()
	msg := strings.TrimSpace(withoutWarnings(r.Stderr))
	if first, hint, ok := strings.Cut(msg, "\n"); ok && strings.HasPrefix(hint, "Hint: ") && !strings.Contains(hint, "\n") {
		msg = first
	}
	if r.Code != 125 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, want) {
		t.Errorf("want exit 125 and one line about %q, got %s", want, r)
	}
}

// TestRunFlagsUpdate: `box update` changes the limits of a running
// container where run applies them: as root at once, in its cgroup and
// in inspect, and still after a restart; rootless (cgroup v1 here) the
// limits are recorded with one warning.
func TestRunFlagsUpdate(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "flags-update-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		r := u.MustBox(t, "update", "-m", "96m", "--pids-limit", "40", name)
		wantOut(t, r, name)
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", name), "100663296 40")
		if u.Mode != "root" {
			if v1 := cgroupV1(); v1 && strings.Count(r.Stderr, "WARNING: resource limits are ignored") != 1 {
				t.Fatalf("a rootless update of limits on cgroup v1: want one warning, got %s", r)
			}
			return
		}
		read := `cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max`
		if !cgroupV1() {
			read = `cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max`
		}
		if got := strings.Fields(u.MustBox(t, "exec", name, "sh", "-c", read).Stdout); strings.Join(got, " ") != "100663296 40" {
			t.Fatalf("after update the running container's cgroup has %q", got)
		}
		u.MustBox(t, "stop", "-t", "0", name)
		u.MustBox(t, "update", "--pids-limit", "41", name)
		u.MustBox(t, "start", name)
		if got := strings.Fields(u.MustBox(t, "exec", name, "sh", "-c", read).Stdout); strings.Join(got, " ") != "100663296 41" {
			t.Fatalf("after update of the stopped container and a start its cgroup has %q", got)
		}

		// A container its monitor restarts keeps the updated limits.
		rs := "flags-update-restarted"
		t.Cleanup(func() { u.Box(t, "rm", "-f", rs) })
		u.MustBox(t, "run", "-d", "--name", rs, "--restart", "always", "busybox", "sh", "-c",
			"echo limit=$(cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null); sleep 1; exit 1")
		waitLogs(t, u, rs, "limit=max")
		u.MustBox(t, "update", "--pids-limit", "44", rs)
		waitLogs(t, u, rs, "limit=44")
	})
}

// TestRunFlagsAttach: -a picks the streams a foreground run passes on;
// -a with -d is refused, as Docker does.
func TestRunFlagsAttach(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "pull", "-q", "busybox")
	r := u.MustBox(t, "run", "--rm", "-a", "stdout", "busybox", "sh", "-c", "echo out; echo err >&2")
	if r.Stdout != "out\n" || strings.Contains(r.Stderr, "err") {
		t.Fatalf("-a stdout: %s", r)
	}
	r = u.MustBox(t, "run", "--rm", "-a", "STDERR", "busybox", "sh", "-c", "echo out; echo err >&2")
	if r.Stdout != "" || !strings.Contains(r.Stderr, "err") {
		t.Fatalf("-a STDERR: %s", r)
	}
	r = u.BoxIn(t, "piped\n", "run", "--rm", "-a", "stdin", "-a", "stdout", "busybox", "cat")
	wantOut(t, r, "piped")
	wantRefused(t, u.Box(t, "run", "-d", "-a", "stdout", "busybox", "true"), "conflicting options: cannot specify both --attach and --detach")
	wantRefused(t, u.Box(t, "run", "-a", "bogus", "busybox", "true"), "valid streams are STDIN, STDOUT and STDERR")

	// --detach-keys: taken with -d, refused where box cannot detach.
	name := "flags-detachkeys"
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	u.MustBox(t, "run", "-d", "--name", name, "--detach-keys", "ctrl-x,x", "busybox", "true")
	wantRefused(t, u.Box(t, "run", "--rm", "--detach-keys", "ctrl-x,x", "busybox", "true"), "--detach-keys needs -d")
	wantRefused(t, u.Box(t, "run", "-d", "--detach-keys", "ctrl-", "busybox", "true"), "ctrl-")
}

// TestRunFlagsDevice: --device gives the container a host device at the
// path asked for (rootless by bind mount, when the user can open it);
// a missing or unopenable one is refused in one line.
func TestRunFlagsDevice(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		r := u.MustBox(t, "run", "--rm", "--device", "/dev/null:/dev/mynull:rw", "busybox", "sh", "-c", "echo x > /dev/mynull && stat -c '%t,%T' /dev/mynull")
		wantOut(t, r, "1,3")
		wantRefused(t, u.Box(t, "run", "--rm", "--device", "/nonexistent", "busybox", "true"), `adding custom device "/nonexistent": no such file or directory`)
		// --device-cgroup-rule opens the device cgroup to a node made
		// inside (1:2, no device here: ENXIO once allowed, EPERM before).
		open := `mknod /tmp/n c 1 2; cat /tmp/n`
		if u.Mode == "root" {
			if r := u.Box(t, "run", "--rm", "busybox", "sh", "-c", open); !strings.Contains(r.Stderr, "Operation not permitted") {
				t.Fatalf("without a rule the device cgroup lets c 1:2 open: %s", r)
			}
			if r := u.Box(t, "run", "--rm", "--device-cgroup-rule", "c 1:2 r", "busybox", "sh", "-c", open); !strings.Contains(r.Stderr, "No such device or address") {
				t.Fatalf("--device-cgroup-rule 'c 1:2 r' did not allow it: %s", r)
			}
			wantOut(t, u.MustBox(t, "run", "--rm", "--device-cgroup-rule", "c 1:2 r", "busybox", "true"), "")
		} else {
			wantRefused(t, u.Box(t, "run", "--rm", "--device-cgroup-rule", "c 1:2 r", "busybox", "true"), "--device-cgroup-rule needs root")
		}
		if u.Mode != "root" {
			// /dev/fuse is root's alone (0600) on this machine.
			if st, err := os.Stat("/dev/fuse"); err == nil && st.Mode().Perm()&0o006 == 0 {
				wantRefused(t, u.Box(t, "run", "--rm", "--device", "/dev/fuse", "busybox", "true"), "you must be able to open it")
			}
		}
	})
}

// TestRunFlagsUsernsKeepID: --userns keep-id runs the container as the
// user's own ids, and a file it writes into a bind mount is the user's
// on the host (rootless with a subordinate range); elsewhere it is
// refused in one line.
func TestRunFlagsUsernsKeepID(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		dir := filepath.Join(u.Home, "keepid")
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.Chown(dir, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
		args := []string{"run", "--rm", "--userns", "keep-id", "-v", dir + ":/data", "busybox", "sh", "-c", "id -u; id -g; echo hi > /data/made"}
		switch u.Mode {
		case "root":
			wantRefused(t, u.Box(t, args...), "--userns keep-id is for rootless box")
			return
		case "norange":
			wantRefused(t, u.Box(t, args...), "does not fit box's user namespace")
			return
		}
		r := u.MustBox(t, args...)
		if got := strings.Fields(r.Stdout); len(got) != 2 || got[0] != strconv.Itoa(int(u.UID)) || got[1] != strconv.Itoa(int(u.GID)) {
			t.Fatalf("keep-id: the container runs as %q, want %d %d", got, u.UID, u.GID)
		}
		st, err := os.Stat(filepath.Join(dir, "made"))
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != u.UID || sys.Gid != u.GID {
			t.Fatalf("a file made in the bind mount is owned by %d:%d, want the user's %d:%d", sys.Uid, sys.Gid, u.UID, u.GID)
		}
		wantOut(t, u.MustBox(t, "run", "--rm", "--userns", "keep-id:uid=1000,gid=1000", "busybox", "id", "-u"), "1000")
	})
}

// TestRunFlagsIDMaps: --uidmap/--gidmap set the container's mappings
// within box's namespace (rootless with a range); ranges beyond it and
// root are refused in one line.
func TestRunFlagsIDMaps(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		args := []string{"run", "--rm", "--uidmap", "0:1:1000", "--uidmap", "1000:0:1", "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map"}
		switch u.Mode {
		case "root":
			wantRefused(t, u.Box(t, args...), "--uidmap and --gidmap are for rootless box")
			return
		case "norange":
			wantRefused(t, u.Box(t, args...), "box's user namespace holds ids 0 to 0 only")
			return
		}
		r := u.MustBox(t, args...)
		if got := strings.Join(strings.Fields(r.Stdout), " "); got != "0 1 1000 1000 0 1 0 1 1000 1000 0 1" {
			t.Fatalf("--uidmap 0:1:1000 --uidmap 1000:0:1 (gidmap the same): maps %q", got)
		}
		wantRefused(t, u.Box(t, "run", "--rm", "--uidmap", "0:1:70000", "busybox", "true"), "box's user namespace holds ids 0 to 65536 only")
	})
}

// TestRunFlagsCreate: create takes the same flags; they hold when the
// container is started later (the cidfile is written at create).
func TestRunFlagsCreate(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "flags-create-" + u.Mode
		cid := filepath.Join(u.Home, "create.cid")
		_ = os.Remove(cid)
		t.Cleanup(func() { u.Box(t, "rm", "-f", name); _ = os.Remove(cid) })
		r := u.MustBox(t, "create", "--name", name, "--cidfile", cid, "--ulimit", "nofile=256:256", "--shm-size", "32m",
			"--stop-timeout", "5", "busybox", "sh", "-c", "ulimit -n; df -k /dev/shm | tail -1")
		id := strings.TrimSpace(r.Stdout)
		if data, err := os.ReadFile(cid); err != nil || string(data) != id {
			t.Fatalf("create --cidfile holds %q (%v), want %q", data, err, id)
		}
		r = u.MustBox(t, "start", "-a", name)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 2 || lines[0] != "256" || !strings.Contains(lines[1], " 32768 ") {
			t.Fatalf("a created container's --ulimit and --shm-size at its start: %s", r)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.Config.StopTimeout}} {{.HostConfig.ShmSize}}", name), "5 33554432")
	})
}

// TestRunFlagsExposePublishAll: -P publishes --expose's ports too, on a
// host port that answers.
func TestRunFlagsExposePublishAll(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "pull", "-q", "busybox")
	name := "flags-expose"
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	u.MustBox(t, "run", "-d", "--name", name, "--expose", "8080", "-P", "busybox", "sh", "-c", "while true; do echo hi | nc -l -p 8080; done")
	out := strings.TrimSpace(u.MustBox(t, "port", name, "8080/tcp").Stdout)
	_, port, ok := strings.Cut(strings.Split(out, "\n")[0], ":")
	if !ok {
		t.Fatalf("-P with --expose 8080 published %q", out)
	}
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && got != "hi"; time.Sleep(200 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 2*time.Second); err == nil {
			_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
			b, _ := io.ReadAll(conn)
			conn.Close()
			got = strings.TrimSpace(string(b))
		}
	}
	if got != "hi" {
		t.Fatalf("the published --expose port %s does not answer: %q", port, got)
	}
}

// ipcmkHost makes a System V shared memory segment in the host's IPC
// namespace as u, removed when the test ends, and returns its id as
// /proc/sysvipc/shm shows it (" ID ").
func ipcmkHost(t *testing.T, u *User) string {
	t.Helper()
	out, err := u.Cmd("ipcmk", "-M", "5151").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk: %v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("ipcmk printed no id: %q", out)
	}
	id := f[len(f)-1]
	t.Cleanup(func() { _ = u.Cmd("ipcrm", "-m", id).Run() })
	return " " + id + " "
}

// TestRunSigProxyFalse: `run --sig-proxy=false` in the foreground, for
// every user, as Docker's: the container's output and exit code come
// through, and its input until it ends; Ctrl-C (SIGINT to the run's
// process group) and SIGTERM reach the run but not the container, which
// runs on to its own end, also when rootless box carries the run out
// through another container's monitor (--network container:NAME). create
// has no such flag; with -t it is ignored.
func TestRunSigProxyFalse(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		r := u.Box(t, "run", "--rm", "--sig-proxy=false", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
		if r.Code != 3 || strings.TrimSpace(r.Stdout) != "out" || !strings.Contains(r.Stderr, "err") {
			t.Fatalf("want exit 3, out and err: %s", r)
		}
		if r := u.BoxIn(t, "one\ntwo\n", "run", "--rm", "-i", "--sig-proxy=false", "busybox", "wc", "-l"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "2" {
			t.Fatalf("input to the end: %s", r)
		}
		wantOut(t, u.MustBox(t, "run", "--rm", "-t", "--sig-proxy=false", "busybox", "echo", "tty"), "tty")
		wantRefused(t, u.Box(t, "create", "--sig-proxy=false", "busybox", "true"), "unknown flag: --sig-proxy")

		owner := "sigproxy-owner-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", owner) })
		u.MustBox(t, "run", "-d", "--name", owner, "busybox", "sleep", "120")
		for i, c := range []struct {
			sig  syscall.Signal
			args []string
		}{{syscall.SIGINT, nil}, {syscall.SIGTERM, nil}, {syscall.SIGINT, []string{"--network", "container:" + owner}}} {
			sig := c.sig
			name := "sigproxy-" + strconv.Itoa(i) + "-" + u.Mode
			t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
			out, err := os.CreateTemp(tempDir, "sigproxy-")
			if err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"run", "--name", name, "--sig-proxy=false"}, c.args...), "busybox", "sh", "-c",
				`trap "echo got INT" INT; trap "echo got TERM" TERM; echo ready; i=0; while [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; echo done; exit 4`)
			cmd := u.BoxCmd(args...)
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if b, _ := os.ReadFile(out.Name()); strings.Contains(string(b), "ready") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the container never said ready")
				}
			}
			if sig == syscall.SIGINT {
				syscall.Kill(-cmd.Process.Pid, sig) // Ctrl-C: the whole group
			} else {
				cmd.Process.Signal(sig)
			}
			ended := make(chan error, 1)
			go func() { ended <- cmd.Wait() }()
			select {
			case <-ended:
			case <-time.After(2 * time.Second):
				t.Fatalf("%v did not end the run %q", sig, args)
			}
			if b, _ := os.ReadFile(out.Name()); strings.Contains(string(b), "Error") {
				t.Errorf("the run ended by %v reported an error: %q", sig, b)
			}
			wantOut(t, u.MustBox(t, "inspect", "-f", "{{.State.Running}}", name), "true")
			wantOut(t, u.MustBox(t, "wait", name), "4")
			logs := u.MustBox(t, "logs", name).Stdout
			if !strings.Contains(logs, "done") || strings.Contains(logs, "got ") {
				t.Fatalf("after %v the container should run to its end, untouched: %q", sig, logs)
			}
		}
	})
}
