package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// rootfs makes a tiny root filesystem with /etc/passwd and /etc/group.
func rootfs(t *testing.T) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, "etc", name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
	write("group", "root:x:0:\nwheel:x:10:root,app\napp:x:1000:\n")
	return dir
}

func TestCommandRules(t *testing.T) {
	img := v1.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	for _, tc := range []struct {
		name       string
		cmd, entry []string
		want       []string
	}{
		{"image's", nil, nil, []string{"/entry", "default"}},
		{"cmd replaces Cmd", []string{"x", "y"}, nil, []string{"/entry", "x", "y"}},
		{"entrypoint drops Cmd", nil, []string{"/other"}, []string{"/other"}},
		{"both", []string{"a"}, []string{"/other"}, []string{"/other", "a"}},
		{"cleared entrypoint", []string{"sh"}, []string{}, []string{"sh"}},
	} {
		got, err := command(Options{Image: img, Cmd: tc.cmd, Entrypoint: tc.entry})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := command(Options{Entrypoint: []string{}}); !errors.Is(err, ErrNoCommand) {
		t.Errorf("no command: got %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	env, err := environment(Options{
		Image:    v1.ImageConfig{Env: []string{"PATH=/img", "A=image"}},
		Hostname: "h", TTY: true,
		Env:   []string{"A=flag", "FROM_OS", "UNSET_OS"},
		OSEnv: func(k string) (string, bool) { return map[string]string{"FROM_OS": "os"}[k], k == "FROM_OS" },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/img", "A=flag", "HOSTNAME=h", "TERM=xterm", "FROM_OS=os"}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("got %v, want %v", env, want)
	}
	if _, err := environment(Options{Env: []string{"=x"}}); err == nil {
		t.Fatal("an empty name was accepted")
	}
}

func TestCapabilities(t *testing.T) {
	got, err := capabilities(Options{CapDrop: []string{"ALL"}, CapAdd: []string{"CAP_NET_ADMIN", "CAP_KILL"}})
	if err != nil || !reflect.DeepEqual(got, []string{"CAP_KILL", "CAP_NET_ADMIN"}) {
		t.Fatalf("got %v %v", got, err)
	}
	got, _ = capabilities(Options{CapDrop: []string{"CAP_MKNOD"}})
	if len(got) != len(DefaultCaps)-1 {
		t.Fatalf("dropping one of the defaults left %d", len(got))
	}
	var ue *UsageError
	if _, err := capabilities(Options{CapAdd: []string{"CAP_BOGUS"}}); !errors.As(err, &ue) {
		t.Fatalf("unknown capability: %v", err)
	}
}

func TestGenerateUserAndDefaults(t *testing.T) {
	root := rootfs(t)
	s, err := Generate(Options{Rootfs: root, User: "app", Image: v1.ImageConfig{Cmd: []string{"sh"}}, Network: NetworkNone})
	if err != nil {
		t.Fatal(err)
	}
	u := s.Process.User
	if u.UID != 1000 || u.GID != 1000 || !reflect.DeepEqual(u.AdditionalGids, []uint32{1000, 10}) {
		t.Fatalf("user %+v", u)
	}
	if !hasEnvVal(s.Process.Env, "HOME=/home/app") {
		t.Fatalf("HOME not from passwd: %v", s.Process.Env)
	}
	if s.Linux.Seccomp == nil || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 {
		t.Fatal("default confinement missing")
	}
	if !hasNamespace(s, specs.NetworkNamespace) {
		t.Fatal("network none needs its own namespace")
	}
	p, err := Generate(Options{Rootfs: root, Privileged: true, Image: v1.ImageConfig{Cmd: []string{"sh"}}, Network: NetworkHost})
	if err != nil {
		t.Fatal(err)
	}
	if p.Linux.Seccomp != nil || len(p.Linux.MaskedPaths) != 0 || hasNamespace(p, specs.NetworkNamespace) {
		t.Fatal("privileged host-network container kept confinement or a network namespace")
	}
	if _, err := Generate(Options{Rootfs: root, User: "ghost", Image: v1.ImageConfig{Cmd: []string{"sh"}}}); err == nil {
		t.Fatal("an unknown user was accepted")
	}
	// A single-id namespace holds only id 0.
	single := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
	_, err = Generate(Options{Rootfs: root, User: "app", Image: v1.ImageConfig{Cmd: []string{"sh"}}, UIDMappings: single, GIDMappings: single})
	if err == nil || !strings.Contains(err.Error(), "not mapped") {
		t.Fatalf("unmapped user: %v", err)
	}
}

func TestUserMountsReplaceDefaults(t *testing.T) {
	ms := mounts(Options{Mounts: []Mount{{Type: "tmpfs", Destination: "/dev/shm/"}}})
	n := 0
	for _, m := range ms {
		if m.Destination == "/dev/shm" {
			n++
			if m.Type != "tmpfs" || m.Source != "tmpfs" {
				t.Fatalf("the user's /dev/shm did not win: %+v", m)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d mounts at /dev/shm", n)
	}
}

func TestMountsParentsFirst(t *testing.T) {
	ms := mounts(Options{
		EtcFiles: map[string]string{"/etc/hostname": "/h", "/etc/hosts": "/hs", "/etc/resolv.conf": "/r"},
		Mounts:   []Mount{{Type: "bind", Source: "/v/a", Destination: "/etc/app/conf"}, {Type: "bind", Source: "/v", Destination: "/etc"}},
	})
	at := map[string]int{}
	for i, m := range ms {
		at[m.Destination] = i
	}
	for _, child := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/app/conf"} {
		if at[child] < at["/etc"] {
			t.Errorf("%s is mounted before /etc, which hides it: %v", child, ms)
		}
	}
	if at["/dev/pts"] < at["/dev"] || at["/dev/shm"] < at["/dev"] {
		t.Errorf("a /dev mount comes before /dev: %v", ms)
	}
}

func hasEnvVal(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}

func hasNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}

func TestSeccompArches(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the narrowing applies to amd64 hosts")
	}
	all := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	if got := seccompArches(all, "amd64"); !reflect.DeepEqual(got, []specs.Arch{specs.ArchX86_64}) {
		t.Errorf("amd64 image: %v", got)
	}
	if got := seccompArches(all, "386"); !reflect.DeepEqual(got, []specs.Arch{specs.ArchX86_64, specs.ArchX86}) {
		t.Errorf("386 image: %v", got)
	}
}
