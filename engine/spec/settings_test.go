package spec

import (
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestGenerateSettings: the container flags land where the runtime
// reads them: rlimits, sysctls, domain name, added groups, annotations,
// /dev/shm's size, the namespaces shared with the host or joined, the
// cgroup limits and /sys/fs/cgroup (root only).
func TestGenerateSettings(t *testing.T) {
	limit, adj := int64(64<<20), 300
	o := Options{
		Rootfs: rootfs(t), Image: v1.ImageConfig{Cmd: []string{"sh"}}, Hostname: "h", Domainname: "example.org",
		GroupAdd: []string{"wheel", "4242"}, Annotations: map[string]string{"a": "b"},
		Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 512}},
		ShmSize: 96 << 20, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"},
		Shared:      map[specs.LinuxNamespaceType]string{specs.PIDNamespace: "", specs.IPCNamespace: "/proc/7/ns/ipc"},
		Resources:   &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}},
		OOMScoreAdj: &adj,
	}
	s, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Domainname != "example.org" || s.Annotations["a"] != "b" || *s.Process.OOMScoreAdj != 300 ||
		len(s.Process.Rlimits) != 1 || s.Linux.Sysctl["net.ipv4.ip_forward"] != "1" || *s.Linux.Resources.Memory.Limit != limit {
		t.Fatalf("settings missing from the spec: %+v %+v", s.Process, s.Linux)
	}
	gids := s.Process.User.AdditionalGids
	if !containsGID(gids, 10) || !containsGID(gids, 4242) {
		t.Errorf("--group-add wheel,4242: groups %v", gids)
	}
	ns := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.Linux.Namespaces {
		ns[n.Type] = n.Path + "|"
	}
	if _, own := ns[specs.PIDNamespace]; own || ns[specs.IPCNamespace] != "/proc/7/ns/ipc|" || ns[specs.UTSNamespace] != "|" {
		t.Errorf("namespaces: %v; want no PID one (host's), the IPC one joined, a UTS one of its own", ns)
	}
	var shm, cgroup *specs.Mount
	for i, m := range s.Mounts {
		switch m.Destination {
		case "/dev/shm":
			shm = &s.Mounts[i]
		case "/sys/fs/cgroup":
			cgroup = &s.Mounts[i]
		}
	}
	if shm == nil || !strings.Contains(strings.Join(shm.Options, ","), "size=100663296") {
		t.Errorf("/dev/shm: %+v", shm)
	}
	if cgroup == nil || cgroup.Type != "cgroup" || !strings.Contains(strings.Join(cgroup.Options, ","), "ro") {
		t.Errorf("a rootful container's /sys/fs/cgroup: %+v", cgroup)
	}

	// Rootless: no cgroup mount, and the host's /proc by bind for --pid host.
	o.Rootless, o.Shared = true, map[specs.LinuxNamespaceType]string{specs.PIDNamespace: "", specs.UTSNamespace: ""}
	s, err = Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "" || s.Domainname != "" {
		t.Errorf("--uts host keeps the host's names, got %q %q", s.Hostname, s.Domainname)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys/fs/cgroup" {
			t.Errorf("a rootless container got %+v", m)
		}
		if m.Destination == "/proc" && (m.Type != "bind" || m.Source != "/proc") {
			t.Errorf("rootless --pid host: /proc is %+v, want the host's by bind", m)
		}
	}

	// --ipc none: no /dev/shm at all.
	o.NoShm = true
	if s, err = Generate(o); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/dev/shm" {
			t.Errorf("--ipc none mounted %+v", m)
		}
	}

	// A group the user namespace cannot hold is refused.
	o.Shared = nil
	o.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
	o.GIDMappings = o.UIDMappings
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "is not mapped in box's user namespace") {
		t.Errorf("--group-add wheel with only gid 0 mapped: %v", err)
	}
}

func containsGID(gids []uint32, g uint32) bool {
	for _, x := range gids {
		if x == g {
			return true
		}
	}
	return false
}

// TestGenerateJoinedUserNamespace: a rootless container sharing another's
// PID namespace joins that one's user namespace by path, with no
// mappings of its own, and binds /sys (its network namespace is not its
// own user namespace's); sharing the host's IPC namespace rootless, it
// mounts no message queue file system of its own.
func TestGenerateJoinedUserNamespace(t *testing.T) {
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
	s, err := Generate(Options{
		Rootfs: rootfs(t), Image: v1.ImageConfig{Cmd: []string{"sh"}}, Rootless: true,
		UIDMappings: ids, GIDMappings: ids, UserNSPath: "/proc/7/ns/user",
		Shared: map[specs.LinuxNamespaceType]string{specs.PIDNamespace: "/proc/7/ns/pid", specs.IPCNamespace: ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	var user *specs.LinuxNamespace
	for i, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			user = &s.Linux.Namespaces[i]
		}
		if n.Type == specs.IPCNamespace {
			t.Errorf("--ipc host made an IPC namespace: %+v", n)
		}
	}
	if user == nil || user.Path != "/proc/7/ns/user" || len(s.Linux.UIDMappings)+len(s.Linux.GIDMappings) != 0 {
		t.Fatalf("want the user namespace /proc/7/ns/user joined without mappings, got %+v, %v %v", s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	for _, m := range s.Mounts {
		switch {
		case m.Destination == "/sys" && m.Type != "bind":
			t.Errorf("/sys is %s, want the host's bound", m.Type)
		case m.Type == "mqueue":
			t.Errorf("a rootless container in the host's IPC namespace mounts mqueue: %+v", m)
		}
	}
}
