package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	itypes "go.podman.io/image/v5/types"
)

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:5000":    true,
		"127.1.2.3":         true,
		"localhost:5000":    true,
		"LOCALHOST":         true,
		"[::1]:5000":        true,
		"::1":               true,
		"docker.io":         false,
		"10.0.0.1:5000":     false,
		"localhost.example": false,
		"[::2]:5000":        false,
		"127.0.0.1.nip.io":  false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestAllowLoopbackHTTP(t *testing.T) {
	sys := &itypes.SystemContext{}
	allowLoopbackHTTP(sys, "docker.io")
	if sys.DockerInsecureSkipTLSVerify != itypes.OptionalBoolUndefined {
		t.Errorf("docker.io made insecure")
	}
	allowLoopbackHTTP(sys, "localhost:5000")
	if sys.DockerInsecureSkipTLSVerify != itypes.OptionalBoolTrue {
		t.Errorf("localhost:5000 not made insecure")
	}
	sys = &itypes.SystemContext{DockerInsecureSkipTLSVerify: itypes.OptionalBoolFalse}
	allowLoopbackHTTP(sys, "127.0.0.1:5000")
	if sys.DockerInsecureSkipTLSVerify != itypes.OptionalBoolFalse {
		t.Errorf("an explicit TLS choice was overridden")
	}
}

// TestPullSources: pull -a lists tags where a pull looks, remapped locations included.
func TestPullSources(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(conf, []byte(`
[[registry]]
prefix = "docker.io"
location = "127.0.0.1:5000/some/path"

[[registry.mirror]]
location = "127.0.0.1:5001/digests"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "127.0.0.1:5002/hub"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	sys := &itypes.SystemContext{SystemRegistriesConfPath: conf, SystemRegistriesConfDirPath: filepath.Join(dir, "none")}
	ref, err := reference.ParseNormalizedNamed("alpine:3")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range pullSources(sys, ref) {
		got = append(got, s.Reference.String())
	}
	want := []string{"127.0.0.1:5002/hub/library/alpine:3", "127.0.0.1:5000/some/path/library/alpine:3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sources %q, want %q", got, want)
	}
	if !needsOwnWalk(sys, ref) {
		t.Errorf("a loopback mirror not marked insecure does not need box's own walk")
	}
	other, _ := reference.ParseNormalizedNamed("quay.io/x/y:1")
	if s := pullSources(sys, other); len(s) != 1 || s[0].Reference.String() != "quay.io/x/y:1" || s[0].Endpoint.Location != "quay.io" {
		t.Errorf("a registry without an entry: %+v", s)
	}
	if needsOwnWalk(sys, other) {
		t.Errorf("quay.io needs box's own walk")
	}
	if c := sourceSystemContext(sys, sysregistriesv2.PullSource{Endpoint: sysregistriesv2.Endpoint{Location: "localhost:5000/hub"}}); c.DockerInsecureSkipTLSVerify != itypes.OptionalBoolTrue {
		t.Errorf("a loopback source with a path is not asked over plain HTTP")
	}
}

func TestUserAuthFile(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, "cfg")
	own := filepath.Join(cfg, "containers", "auth.json")
	docker := filepath.Join(home, ".docker", "config.json")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("REGISTRY_AUTH_FILE", "")
	write := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(`{"auths":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv("REGISTRY_AUTH_FILE", "/x/auth.json")
	if got := userAuthFile(false); got != "/x/auth.json" {
		t.Errorf("REGISTRY_AUTH_FILE: %q", got)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "")

	// A runtime directory that exists: the library's own choice stands.
	t.Setenv("XDG_RUNTIME_DIR", home)
	if got := userAuthFile(true); got != "" {
		t.Errorf("with XDG_RUNTIME_DIR: %q, want the library's default", got)
	}
	// One that does not: the user's own file.
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "gone"))
	if got := userAuthFile(false); got != own {
		t.Errorf("with a missing XDG_RUNTIME_DIR: %q, want %q", got, own)
	}

	// None, inside a user namespace of uid 1000: never root's /run/containers/0.
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("_CONTAINERS_ROOTLESS_UID", "1000")
	if os.Getuid() == 1000 {
		t.Setenv("_CONTAINERS_ROOTLESS_UID", "1001")
	}
	if got := userAuthFile(false); got != own {
		t.Errorf("no runtime dir, nothing stored: %q, want %q", got, own)
	}
	write(docker)
	if got := userAuthFile(false); got != docker {
		t.Errorf("only Docker's config.json: reads %q, want it", got)
	}
	if got := userAuthFile(true); got != own {
		t.Errorf("only Docker's config.json: writes %q, want %q", got, own)
	}
	write(own)
	if got := userAuthFile(false); got != own {
		t.Errorf("both files: reads %q, want %q", got, own)
	}
}
