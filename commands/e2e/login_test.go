package e2e

// `box login`, `box logout` and `box search`: credentials checked by a registry behind htpasswd
// before they are stored in auth.json (nothing stored when refused, the password never shown),
// a push refused without them and accepted with them, --authfile and REGISTRY_AUTH_FILE,
// Docker's config.json; search through a registry's catalog and a clear error without one.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// loginAuths reads an auth.json and returns its "auths" map (nil when the file is absent).
func loginAuths(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	return f.Auths
}

// loginWantNoSecret fails if the password shows anywhere in what box printed.
func loginWantNoSecret(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.Stdout, s) || strings.Contains(r.Stderr, s) {
			t.Errorf("box printed the password %q: %s", s, r)
		}
	}
}

func TestLogin(t *testing.T) {
	const user, pass = "pusher", "Pu5h-s3cret"
	reg := pullStartAuthRegistry(t, user, pass)
	conf := pullRegistriesConf(t, reg)
	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		s := newPullStore(t, u)
		dir := filepath.Dir(s.root)
		home, runtime := filepath.Join(dir, "home"), filepath.Join(dir, "xdg-run")
		for _, d := range []string{home, runtime} {
			pullMkdirFor(t, u, d)
		}
		env := []string{"CONTAINERS_REGISTRIES_CONF=" + conf, "HOME=" + home, "XDG_RUNTIME_DIR=" + runtime}
		box := func(opts RunOpts, args ...string) Result {
			opts.Env = append(append([]string{}, env...), opts.Env...)
			return s.boxWith(t, opts, args...)
		}
		authJSON := filepath.Join(runtime, "containers", "auth.json")

		s.must(t, "pull", "-q", "busybox:musl")
		ref := reg + "/private/" + u.Mode + ":v1"
		s.must(t, "tag", "busybox:musl", ref)

		// Refused without credentials: the registry's words, exit 1, as docker push.
		r := box(RunOpts{}, "push", ref)
		pullWantContains(t, "stderr of a push without credentials", r.Stderr, "Error: push "+ref+": registry "+reg+" refused the push", "authentication required", "box login "+reg)
		wantCode(t, r, 1)

		// Wrong password: refused, nothing stored, the password never printed.
		r = box(RunOpts{Stdin: "wrong-Pa55\n"}, "login", "-u", user, "--password-stdin", reg)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "login "+reg, `refused the credentials of user "`+user+`"`)
		loginWantNoSecret(t, r, "wrong-Pa55")
		if auths := loginAuths(t, authJSON); len(auths) != 0 {
			t.Errorf("a refused login stored %v", auths)
		}
		r = box(RunOpts{}, "login", "-u", user, reg)
		wantCode(t, r, 1)
		pullWantContains(t, "stderr of a login without a terminal", r.Stderr, "Cannot perform an interactive login from a non TTY device")

		// Right password on stdin: verified, stored where Podman and Skopeo look.
		r = box(RunOpts{Stdin: pass + "\n"}, "login", "-u", user, "--password-stdin", reg)
		wantCode(t, r, 0)
		wantOut(t, r, "Login Succeeded")
		loginWantNoSecret(t, r, pass)
		auths := loginAuths(t, authJSON)
		if got := auths[reg]["auth"]; got != base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) {
			t.Errorf("auth.json holds %v for %s", auths, reg)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(authJSON, &st); err != nil || st.Uid != u.UID || st.Mode&0o077 != 0 {
			t.Errorf("auth.json: owner %d mode %o (%v), want %d and private", st.Uid, st.Mode&0o777, err, u.UID)
		}

		// Now the push goes through, and a clean store pulls it back by its digest.
		r = box(RunOpts{}, "push", ref)
		if r.Code != 0 {
			t.Fatalf("push after login: %s", r)
		}
		d := pushDigest(t, r, "v1")
		clean := newPullStore(t, u)
		back := clean.boxWith(t, RunOpts{Env: env}, "pull", ref)
		if back.Code != 0 {
			t.Fatalf("pull back with the stored credentials: %s", back)
		}
		pullWantContains(t, "stderr of the pull back", back.Stderr, "Digest: "+d+"\n")

		// Login again with stored credentials and no flags: checked, not asked.
		r = box(RunOpts{}, "login", reg)
		wantOut(t, r, "Login Succeeded")
		// -p works but warns.
		r = box(RunOpts{}, "login", "-u", user, "-p", pass, reg)
		wantOut(t, r, "Login Succeeded")
		pullWantContains(t, "stderr of login -p", r.Stderr, "WARNING! Using --password via the CLI is insecure")
		loginWantNoSecret(t, r, pass)

		// Logout removes them; the push is refused again; a second logout has nothing to do.
		r = box(RunOpts{}, "logout", "https://"+reg+"/")
		wantOut(t, r, "Removing login credentials for "+reg)
		if _, ok := loginAuths(t, authJSON)[reg]; ok {
			t.Errorf("logout left %s in auth.json", reg)
		}
		r = box(RunOpts{}, "push", ref)
		wantCode(t, r, 1)
		r = box(RunOpts{}, "logout", reg)
		wantCode(t, r, 0)
		wantOut(t, r, "Not logged in to "+reg)

		// --authfile and REGISTRY_AUTH_FILE name another file, for login and push alike.
		other := filepath.Join(home, "other-auth.json")
		r = box(RunOpts{Stdin: pass}, "login", "--authfile", other, "-u", user, "--password-stdin", reg)
		wantOut(t, r, "Login Succeeded")
		if _, ok := loginAuths(t, other)[reg]; !ok {
			t.Errorf("login --authfile did not write %s", other)
		}
		if _, ok := loginAuths(t, authJSON)[reg]; ok {
			t.Errorf("login --authfile wrote auth.json too")
		}
		r = box(RunOpts{Env: []string{"REGISTRY_AUTH_FILE=" + other}}, "push", ref)
		if r.Code != 0 {
			t.Errorf("push with REGISTRY_AUTH_FILE: %s", r)
		}
		r = box(RunOpts{}, "logout", "--authfile", other, "--all")
		wantOut(t, r, "Removed login credentials for all registries")
		if auths := loginAuths(t, other); len(auths) != 0 {
			t.Errorf("logout --all left %v", auths)
		}

		// Docker's config.json is read for a push, and left to Docker by logout.
		pullWriteFileFor(t, u, filepath.Join(home, ".docker", "config.json"),
			[]byte(`{"auths":{"`+reg+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte(user+":"+pass))+`"}}}`))
		if r := box(RunOpts{}, "push", ref); r.Code != 0 {
			t.Errorf("push with ~/.docker/config.json: %s", r)
		}
		r = box(RunOpts{}, "logout", reg)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "not logged in to "+reg+" with box", "docker logout")
	})
}

// TestSearch: the local registry's catalog, with --limit, --format, --filter and the table's
// columns; a registry without a catalog and one that does not answer fail in one line.
func TestSearch(t *testing.T) {
	// A registry that answers /v2/ but offers no catalog, as Docker Hub's.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v2/" {
			w.Write([]byte("{}"))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	noCatalog := l.Addr().String()

	forEachUser(t, func(t *testing.T, u *User) {
		t.Parallel()
		r := u.MustBox(t, "search", registryAddr+"/busybox")
		lines := pullLines(r.Stdout)
		if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME DESCRIPTION STARS OFFICIAL" ||
			strings.Fields(lines[1])[0] != registryAddr+"/library/busybox" {
			t.Errorf("search busybox:\n%s", r.Stdout)
		}
		r = u.MustBox(t, "search", "--format", "{{.Name}}", registryAddr+"/library/")
		names := pullLines(r.Stdout)
		for _, want := range []string{"library/alpine", "library/busybox", "library/multi"} {
			if !strings.Contains(r.Stdout, registryAddr+"/"+want+"\n") {
				t.Errorf("search library/ does not list %s: %q", want, names)
			}
		}
		r = u.MustBox(t, "search", "--limit", "1", "--format", "{{.Name}}", registryAddr+"/library/")
		if len(pullLines(r.Stdout)) != 1 {
			t.Errorf("search --limit 1 printed %q", r.Stdout)
		}
		r = u.MustBox(t, "search", "--filter", "is-official=true", "--format", "{{.Name}}", registryAddr+"/library/")
		if r.Stdout != "" {
			t.Errorf("a catalog has no official images, yet --filter is-official=true printed %q", r.Stdout)
		}
		r = u.MustBox(t, "search", "--format", "json", registryAddr+"/busybox")
		var row map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &row); err != nil || row["Name"] != registryAddr+"/library/busybox" || row["StarCount"] != float64(0) {
			t.Errorf("search --format json printed %q (%v)", r.Stdout, err)
		}

		r = u.Box(t, "search", "--tls-verify=false", noCatalog+"/anything")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "search "+noCatalog+"/anything: registry "+noCatalog+" offers no catalog", "unsupported")
		r = u.BoxWith(t, RunOpts{Env: []string{"BOX_REGISTRY_TIMEOUT=2s"}}, "search", "--tls-verify=false", pullStaller(t)+"/x")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "did not answer")
	})
}
