package compose

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine/flags"
	"box/storage"
)

// svc is a service of the given keys (the type's fields are spread
// over embedded structs, which literals cannot name).
func svc(name, image string, b *types.BuildConfig, pull string) types.ServiceConfig {
	var s types.ServiceConfig
	s.Name, s.Image, s.Build, s.PullPolicy = name, image, b, pull
	return s
}

func TestImageName(t *testing.T) {
	for _, c := range []struct {
		s    types.ServiceConfig
		want string
	}{
		{svc("web", "", &types.BuildConfig{}, ""), "shop-web"},
		{svc("web", "example.com/web:2", &types.BuildConfig{}, ""), "example.com/web:2"},
		{svc("db", "busybox", nil, ""), "busybox"},
	} {
		if got := ImageName("shop", c.s); got != c.want {
			t.Errorf("ImageName(shop, %s) = %q, want %q", c.s.Name, got, c.want)
		}
	}
}

// TestBuildOptions loads build: as a user writes it and checks what the
// build is asked: the context made absolute against the project
// directory, the dockerfile a path in it, arguments, target, labels
// (the file's and Docker Compose's) and the image's names.
func TestBuildOptions(t *testing.T) {
	root := project(t, "shop", map[string]string{
		"compose.yaml": `services:
  web:
    build:
      context: ./app
      dockerfile: Dockerfile.web
      args: {GREETING: hello, EMPTY: ""}
      target: final
      labels: {org.example.team: box}
      tags: ["example.com/web:extra"]
      network: none
      no_cache: true
  named:
    image: example.com/named:1
    build: ./named
  inline:
    build:
      context: .
      dockerfile_inline: "FROM busybox\n"
  remote:
    build:
      context: https://example.com/repo.git#main:sub
      dockerfile: sub/Dockerfile
`,
	})
	p, err := load(t, LoadOptions{Files: []string{filepath.Join(root, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	opts := func(name string, bo BuildOptions) (o struct {
		dir, url, dockerfile, content, target string
		args, labels                          map[string]string
		tags                                  []string
		noCache, pull                         bool
		network                               flags.Network
	}) {
		t.Helper()
		b, err := buildOptions(p, p.Services[name], bo, "v-test")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o.dir, o.url, o.dockerfile, o.content, o.target = b.ContextDir, b.ContextURL, b.Dockerfile, string(b.Content), b.Target
		o.args, o.labels, o.noCache, o.pull, o.network = b.BuildArgs, b.Labels, b.NoCache, b.Pull, b.Network
		for _, r := range b.Tags {
			o.tags = append(o.tags, storage.FamiliarString(r))
		}
		return o
	}

	web := opts("web", BuildOptions{Args: map[string]string{"GREETING": "bye", "MORE": "1"}, Pull: true})
	if web.dir != filepath.Join(root, "app") || web.dockerfile != filepath.Join(root, "app", "Dockerfile.web") || web.url != "" {
		t.Errorf("web: context %q, dockerfile %q, url %q", web.dir, web.dockerfile, web.url)
	}
	if want := map[string]string{"GREETING": "bye", "EMPTY": "", "MORE": "1"}; !mapsEqual(web.args, want) {
		t.Errorf("web args %v, want %v (--build-arg over the file's)", web.args, want)
	}
	want := map[string]string{"org.example.team": "box", LabelProject: "shop", LabelService: "web", LabelVersion: "v-test"}
	if !mapsEqual(web.labels, want) {
		t.Errorf("web labels %v, want %v", web.labels, want)
	}
	if web.target != "final" || !web.noCache || !web.pull || web.network != flags.ParseNetwork("none") {
		t.Errorf("web target %q, no_cache %t, pull %t, network %v", web.target, web.noCache, web.pull, web.network)
	}
	if !slices.Equal(web.tags, []string{"shop-web:latest", "example.com/web:extra"}) {
		t.Errorf("web tags %q", web.tags)
	}

	named := opts("named", BuildOptions{})
	if named.dir != filepath.Join(root, "named") || named.dockerfile != filepath.Join(root, "named", "Dockerfile") {
		t.Errorf("named: context %q, dockerfile %q", named.dir, named.dockerfile)
	}
	if !slices.Equal(named.tags, []string{"example.com/named:1"}) {
		t.Errorf("named tags %q", named.tags)
	}

	inline := opts("inline", BuildOptions{})
	if inline.content != "FROM busybox\n" || inline.dir != root {
		t.Errorf("inline: content %q, context %q", inline.content, inline.dir)
	}

	remote := opts("remote", BuildOptions{})
	if remote.url != "https://example.com/repo.git#main:sub" || remote.dir != "" || remote.dockerfile != "sub/Dockerfile" {
		t.Errorf("remote: url %q, dir %q, dockerfile %q", remote.url, remote.dir, remote.dockerfile)
	}

	image := p.Services["inline"]
	ib := *image.Build
	ib.Context, ib.DockerfileInline = "docker-image://busybox", ""
	image.Build = &ib
	if _, err := buildOptions(p, image, BuildOptions{}, "v"); err == nil {
		t.Error("build.context docker-image:// was accepted")
	}

	bad := p.Services["web"]
	b := *bad.Build
	b.Network = "mynet"
	bad.Build = &b
	if _, err := buildOptions(p, bad, BuildOptions{}, "v"); err == nil {
		t.Error("build.network mynet was accepted")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPullAndBuildDecisions is Docker Compose's table: what up pulls
// and what it builds, by pull_policy, --build/--no-build and whether
// the store has the image.
func TestPullAndBuildDecisions(t *testing.T) {
	built := &types.BuildConfig{Context: "."}
	for _, c := range []struct {
		name              string
		s                 types.ServiceConfig
		present           bool
		policy            BuildPolicy
		wantPull, wantBld bool
	}{
		{"image missing", svc("", "busybox", nil, ""), false, "", true, false},
		{"image present", svc("", "busybox", nil, ""), true, "", false, false},
		{"pull always", svc("", "busybox", nil, "always"), true, "", true, false},
		{"pull never", svc("", "busybox", nil, "never"), false, "", false, false},
		{"build only, missing", svc("", "", built, ""), false, "", false, true},
		{"build only, present", svc("", "", built, ""), true, "", false, false},
		{"build only, --build", svc("", "", built, ""), true, BuildAlways, false, true},
		{"build only, --no-build", svc("", "", built, ""), false, BuildNever, false, false},
		{"pull_policy build", svc("", "x", built, "build"), true, "", false, true},
		{"image and build, missing", svc("", "x", built, ""), false, "", true, true},
	} {
		if got := mustPull(c.s, c.present); got != c.wantPull {
			t.Errorf("%s: mustPull %t, want %t", c.name, got, c.wantPull)
		}
		if got := mustBuild(c.s, c.present, c.policy); got != c.wantBld {
			t.Errorf("%s: mustBuild %t, want %t", c.name, got, c.wantBld)
		}
	}
}

func TestUnsupportedBuildKeys(t *testing.T) {
	b := &types.BuildConfig{Context: ".", Target: "x", Secrets: []types.ServiceSecretConfig{{Source: "s"}}, CacheFrom: []string{"a"}, Privileged: true}
	if got := unsupportedBuildKeys(b); !slices.Equal(got, []string{"build.cache_from", "build.privileged", "build.secrets"}) {
		t.Errorf("unsupported %q", got)
	}
	if got := unsupportedBuildKeys(&types.BuildConfig{Context: ".", Dockerfile: "D", Target: "t"}); len(got) != 0 {
		t.Errorf("plain build named %q", got)
	}
}

func TestLatestTag(t *testing.T) {
	for image, want := range map[string]bool{
		"busybox": true, "busybox:latest": true, "example.com:5000/a/b": true,
		"busybox:1.38": false, "busybox@sha256:" + strings.Repeat("a", 64): false, "Bad Name": false,
	} {
		if got := latestTag(image); got != want {
			t.Errorf("latestTag(%q) = %t, want %t", image, got, want)
		}
	}
}
