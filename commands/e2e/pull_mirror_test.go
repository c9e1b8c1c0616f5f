package e2e

// Registry addressing: `pull -a` through the registries.conf shapes people use for a local
// Docker Hub mirror, registries on this machine reached over plain HTTP without being marked
// insecure (as Docker does for 127.0.0.0/8, ::1 and localhost), and credentials found in the
// user's own files when no XDG_RUNTIME_DIR is set.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// mirrorWriteConf writes a registries.conf for one test (mode 0644, any user can read it)
// and returns its path.
func mirrorWriteConf(t *testing.T, dir, name, conf string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mirrorTags lists the tags of repository repo in a store.
func mirrorTags(t *testing.T, s *pullStore, repo string) []string {
	t.Helper()
	var tags []string
	for _, l := range s.images(t) {
		ref := strings.Fields(l)[0]
		if i := strings.LastIndexByte(ref, ':'); i > 0 && ref[:i] == repo {
			tags = append(tags, ref[i+1:])
		}
	}
	sort.Strings(tags)
	return tags
}

// TestPullAllTagsMirrors: `pull -a alpine` lists the tags where a pull of one tag would look
// and pulls each from there, whatever shape registries.conf gives docker.io's mirror: a
// remapped location with a path, a mirror with a path (marked insecure or not), mirrors
// restricted to digests or to tags, and the configuration found in the user's
// ~/.config/containers (main file or drop-in) instead of CONTAINERS_REGISTRIES_CONF.
func TestPullAllTagsMirrors(t *testing.T) {
	u := Rootless
	base := registryAddr + "/mirrortest-" + pullUnique(t)
	img := t.TempDir()
	pullWriteImage(t, img, []string{"true"}, pullTarLayer(t, "gzip", tarEntry{Name: "hello", Body: "mirrored\n"}))
	for path, tags := range map[string][]string{
		"remap":    {"a", "b"},
		"hub":      {"a", "b"},
		"upstream": {"a", "b"},
		"mirror-d": {"m"},
		"mirror-t": {"a", "b", "m"},
	} {
		for _, tag := range tags {
			pushLayout(t, img, strings.TrimPrefix(base, registryAddr+"/")+"/"+path+"/library/alpine:"+tag)
		}
	}
	const head = "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"disabled\"\n"
	remap := head + fmt.Sprintf("\n[[registry]]\nprefix = \"docker.io\"\nlocation = %q\n", base+"/remap")
	mirror := func(extra string) string {
		return fmt.Sprintf("\n[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\n[[registry.mirror]]\nlocation = %q\n%s", base+"/hub", extra)
	}
	restricted := func(path, mode string) string {
		return head + fmt.Sprintf("\n[[registry]]\nprefix = \"docker.io\"\nlocation = %q\n\n[[registry.mirror]]\nlocation = %q\npull-from-mirror = %q\n",
			base+"/upstream", base+"/"+path, mode)
	}
	for _, c := range []struct {
		name string
		conf string // CONTAINERS_REGISTRIES_CONF's content; empty: the user's own files
		user string // ~/.config/containers/registries.conf
		drop string // ~/.config/containers/registries.conf.d/50-mirror.conf
		args []string
		want []string
	}{
		{name: "remap-location-with-path", conf: remap, args: []string{"pull", "-a", "alpine"}, want: []string{"a", "b"}},
		{name: "mirror-with-path-insecure", conf: head + mirror("insecure = true\n"), args: []string{"pull", "-a", "alpine"}, want: []string{"a", "b"}},
		{name: "mirror-with-path-not-marked", conf: head + mirror(""), args: []string{"pull", "--all-tags", "docker.io/library/alpine"}, want: []string{"a", "b"}},
		// A digest-only mirror serves no tag: tags are listed and pulled upstream, where
		// the mirror's own tag "m" does not exist.
		{name: "digest-only-mirror", conf: restricted("mirror-d", "digest-only"), args: []string{"pull", "-a", "alpine"}, want: []string{"a", "b"}},
		{name: "tag-only-mirror", conf: restricted("mirror-t", "tag-only"), args: []string{"pull", "-a", "alpine"}, want: []string{"a", "b", "m"}},
		{name: "user-registries-conf", user: remap, args: []string{"image", "pull", "--all-tags", "alpine"}, want: []string{"a", "b"}},
		{name: "user-drop-in", user: head, drop: mirror(""), args: []string{"pull", "-a", "alpine"}, want: []string{"a", "b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newPullStore(t, u)
			dir := filepath.Dir(s.root)
			config := filepath.Join(dir, "config")
			pullMkdirFor(t, u, config)
			env := []string{"XDG_CONFIG_HOME=" + config, "CONTAINERS_REGISTRIES_CONF="}
			if c.conf != "" {
				env[1] += mirrorWriteConf(t, dir, "registries.conf", c.conf)
			}
			if c.user != "" {
				mirrorWriteConf(t, filepath.Join(config, "containers"), "registries.conf", c.user)
			}
			if c.drop != "" {
				mirrorWriteConf(t, filepath.Join(config, "containers", "registries.conf.d"), "50-mirror.conf", c.drop)
			}
			r := s.boxWith(t, RunOpts{Env: env}, c.args...)
			if r.Code != 0 {
				t.Fatalf("box %s: %s", quoteArgs(c.args), r)
			}
			if r.Stdout != "docker.io/library/alpine\n" {
				t.Errorf("stdout %q, want the repository", r.Stdout)
			}
			var wants []string
			for _, tag := range c.want {
				wants = append(wants, tag+": Pulling from library/alpine\n")
			}
			pullWantContains(t, "stderr", r.Stderr, append(wants, "Digest: sha256:", "Status: Downloaded newer image for alpine\n")...)
			if got := mirrorTags(t, s, "alpine"); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("tags pulled: %q, want %q", got, c.want)
			}
			// A second pull -a brings nothing new, and says so once for the repository.
			r = s.boxWith(t, RunOpts{Env: env}, c.args...)
			if r.Code != 0 {
				t.Fatalf("second box %s: %s", quoteArgs(c.args), r)
			}
			pullWantContains(t, "stderr of a second pull", r.Stderr, "Status: Image is up to date for alpine\n")
			if n := strings.Count(r.Stderr, "Status: "); n != 1 {
				t.Errorf("%d status lines, want one for the repository:\n%s", n, r.Stderr)
			}
		})
	}
}

// TestLoopbackRegistryPlainHTTP: a registry on this machine serving plain HTTP is reached
// without registries.conf marking it insecure, by address and as localhost, for pull, push,
// pull -a and search, as Docker treats 127.0.0.0/8 and localhost.
func TestLoopbackRegistryPlainHTTP(t *testing.T) {
	dir, err := os.MkdirTemp(tempDir, "loopback-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	conf := mirrorWriteConf(t, dir, "registries.conf", "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"disabled\"\n")
	_, port, _ := strings.Cut(registryAddr, ":")
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		env := []string{"CONTAINERS_REGISTRIES_CONF=" + conf}
		must := func(args ...string) Result {
			t.Helper()
			r := s.boxWith(t, RunOpts{Env: env}, args...)
			if r.Code != 0 {
				t.Fatalf("box %s: %s", quoteArgs(args), r)
			}
			return r
		}
		must("pull", regRef("library/busybox:musl"))
		must("pull", "localhost:"+port+"/library/busybox:glibc")
		repo := "mirrortest/loop-" + u.Mode + "-" + pullUnique(t)
		must("tag", regRef("library/busybox:musl"), regRef(repo+":v1"))
		must("push", regRef(repo+":v1"))
		must("tag", regRef("library/busybox:musl"), "localhost:"+port+"/"+repo+":v2")
		must("push", "localhost:"+port+"/"+repo+":v2")
		must("rmi", regRef(repo+":v1"), "localhost:"+port+"/"+repo+":v2")
		r := must("pull", "-a", regRef(repo))
		if r.Stdout != regRef(repo)+"\n" {
			t.Errorf("pull -a printed %q", r.Stdout)
		}
		if got := mirrorTags(t, s, regRef(repo)); strings.Join(got, " ") != "v1 v2" {
			t.Errorf("tags pulled: %q, want v1 v2", got)
		}
		r = must("search", registryAddr+"/"+repo)
		pullWantContains(t, "search output", r.Stdout, regRef(repo))
	})
}

// TestRegistryWithoutRuntimeDir: with no XDG_RUNTIME_DIR (su -, cron, ssh) on a machine where
// rootful Podman left /run/containers mode 0700, box reads and writes the user's own
// credentials (~/.config/containers/auth.json), not root's /run/containers/0/auth.json
// that the uid 0 of box's user namespace would otherwise pick: a public pull works, and
// login, a push and a pull that need the credentials, and logout all use the user's file.
func TestRegistryWithoutRuntimeDir(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/run/containers"); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir("/run/containers", 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove("/run/containers") })
	} else if err != nil {
		t.Fatal(err)
	}
	const user, pass = "runtimeless", "N0-Runtime-d1r"
	reg := pullStartAuthRegistry(t, user, pass)
	for _, u := range []*User{Rootless, requireNoRange(t)} {
		t.Run(u.Mode, func(t *testing.T) {
			t.Parallel()
			s := newPullStore(t, u)
			config := filepath.Join(filepath.Dir(s.root), "config")
			pullMkdirFor(t, u, config)
			env := []string{"XDG_RUNTIME_DIR=", "XDG_CONFIG_HOME=" + config}
			box := func(stdin string, args ...string) Result {
				t.Helper()
				r := s.boxWith(t, RunOpts{Env: env, Stdin: stdin}, args...)
				if r.Code != 0 {
					t.Fatalf("box %s: %s", quoteArgs(args), r)
				}
				return r
			}
			box("", "pull", "busybox:musl")

			box(pass+"\n", "login", "-u", user, "--password-stdin", reg)
			authJSON := filepath.Join(config, "containers", "auth.json")
			if got := loginAuths(t, authJSON)[reg]["auth"]; got != base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) {
				t.Fatalf("login stored %q for %s in %s", got, reg, authJSON)
			}
			ref := reg + "/private/" + u.Mode + ":v1"
			box("", "tag", "busybox:musl", ref)
			box("", "push", ref)
			box("", "rmi", ref)
			box("", "pull", ref)
			box("", "logout", reg)
			if _, ok := loginAuths(t, authJSON)[reg]; ok {
				t.Errorf("logout left %s in %s", reg, authJSON)
			}
		})
	}
}
