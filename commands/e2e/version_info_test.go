package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestVersionShapes: box --version and -v answer as docker --version does,
// and version --format reads Docker's fields.
func TestVersionShapes(t *testing.T) {
	short := regexp.MustCompile(`^box version (\S+), build (\S+)$`)
	forEachUser(t, func(t *testing.T, u *User) {
		long := u.MustBox(t, "--version")
		m := short.FindStringSubmatch(strings.TrimSpace(long.Stdout))
		if m == nil {
			t.Fatalf("box --version is not `box version X, build C`: %s", long)
		}
		if strings.Contains(m[1], "+") {
			t.Fatalf("the commit was not split out of the version: %s", long)
		}
		wantOut(t, u.MustBox(t, "-v"), strings.TrimSpace(long.Stdout))
		wantOut(t, u.MustBox(t, "version", "--format", "{{.Server.Version}}"), m[1])
		wantOut(t, u.MustBox(t, "version", "--format", "{{.Client.Version}} {{.Client.GitCommit}}"), m[1]+" "+m[2])
		wantOut(t, u.MustBox(t, "version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}"), "1.47 1.47")

		r := u.MustBox(t, "version", "--format", "{{json .}}")
		var v struct {
			Client map[string]any
			Server struct {
				Version    string
				ApiVersion string
				Components []struct {
					Name, Version string
				}
			}
		}
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
			t.Fatalf("{{json .}} is not JSON: %v\n%s", err, r)
		}
		if v.Client["Version"] != m[1] || v.Server.Version != m[1] || v.Server.ApiVersion != "1.47" {
			t.Fatalf("{{json .}} lacks Docker's fields: %s", r.Stdout)
		}
		var runc string
		for _, c := range v.Server.Components {
			if c.Name == "runc" {
				runc = c.Version
			}
		}
		if !regexp.MustCompile(`^1\.\d+\.\d+`).MatchString(runc) {
			t.Fatalf("no runc (libcontainer) version among the server's components: %s", r.Stdout)
		}

		r = u.MustBox(t, "version")
		for _, want := range []string{"Client: box\n Version:           " + m[1] + "\n", "\nServer: box\n Engine:\n", "\n runc:\n  Version:          " + runc + "\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("box version lacks %q:\n%s", want, r.Stdout)
			}
		}
	})
}

// TestInfoDockerFields: box info --format reads Docker's fields, and the
// default output has Docker's Client and Server sections.
func TestInfoDockerFields(t *testing.T) {
	cgroup := "1"
	if cgroupLayout(t) == "v2" {
		cgroup = "2"
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		version := strings.TrimSpace(u.MustBox(t, "version", "--format", "{{.Server.Version}}").Stdout)
		wantOut(t, u.MustBox(t, "info", "--format", "{{.ServerVersion}} {{.Driver}} {{.CgroupVersion}}"),
			version+" overlay "+cgroup)
		wantOut(t, u.MustBox(t, "info", "--format", "{{.NCPU}} {{.Name}} {{.OSType}} {{.DefaultRuntime}}"),
			strconv.Itoa(runtime.NumCPU())+" "+host+" linux runc")
		wantOut(t, u.MustBox(t, "info", "--format", "{{eq .DockerRootDir .GraphRoot}} {{gt .MemTotal 0}}"), "true true")

		r := u.MustBox(t, "info", "--format", "{{json .SecurityOptions}}")
		var opts []string
		if err := json.Unmarshal([]byte(r.Stdout), &opts); err != nil {
			t.Fatalf("SecurityOptions: %v\n%s", err, r)
		}
		if got, want := strings.Contains(r.Stdout, `"name=rootless"`), u != Root; got != want {
			t.Fatalf("name=rootless in SecurityOptions is %v for %s: %s", got, u.Mode, r.Stdout)
		}
		if !strings.Contains(r.Stdout, `"name=seccomp,profile=builtin"`) {
			t.Fatalf("no builtin seccomp in SecurityOptions: %s", r.Stdout)
		}

		// docker.io's mirror is the harness's registry (registries.conf).
		r = u.MustBox(t, "info", "--format", "{{json .RegistryConfig.Mirrors}} {{(index .RegistryConfig.IndexConfigs \"docker.io\").Official}}")
		if !strings.Contains(r.Stdout, registryAddr) || !strings.HasSuffix(strings.TrimSpace(r.Stdout), " true") {
			t.Fatalf("RegistryConfig does not name docker.io's mirror %s: %s", registryAddr, r.Stdout)
		}

		r = u.MustBox(t, "info")
		for _, want := range []string{"Client: box\n", "\nServer:\n Containers: ", "\n Server Version: " + version + "\n",
			"\n Storage Driver: overlay\n", "\n Cgroup Version: " + cgroup + "\n", "\n Security Options:\n  seccomp\n   Profile: builtin\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Fatalf("box info lacks %q:\n%s", want, r.Stdout)
			}
		}
	})
}

// TestSystemCheck: one line per check, ok, warning or error; the exit
// code says whether any is an error; box info warns of the same.
func TestSystemCheck(t *testing.T) {
	line := regexp.MustCompile(`^(ok|warning|error) +([^:]+): (.+)$`)
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.Box(t, "system", "check")
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 11 {
			t.Fatalf("want 11 checks, got %d: %s", len(lines), r)
		}
		status := map[string]string{}
		errs, notOK := 0, 0
		for _, l := range lines {
			m := line.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %q is not `ok|warning|error NAME: DETAIL`: %s", l, r)
			}
			status[m[2]] = m[1]
			if m[1] != "ok" {
				notOK++
				if !strings.Contains(m[3], "; fix: ") {
					t.Errorf("%q names no fix", l)
				}
			}
			if m[1] == "error" {
				errs++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[errs > 0]; r.Code != want {
			t.Fatalf("%d error lines but exit %d: %s", errs, r.Code, r)
		}
		// The harness's users: NoRange has no subordinate range, the
		// others have one or need none (root).
		if want := map[string]string{"rootless": "ok", "norange": "warning", "root": "ok"}[u.Mode]; status["subordinate ids"] != want {
			t.Fatalf("subordinate ids is %q for %s, want %q: %s", status["subordinate ids"], u.Mode, want, r.Stdout)
		}
		if u == Root && !strings.Contains(r.Stdout, "not needed: box runs as root") {
			t.Fatalf("as root, system check does not say what does not apply: %s", r.Stdout)
		}
		if u != Root && status["user namespace"] == "error" {
			t.Fatalf("box entered its namespace for the other verbs, but the check says it cannot: %s", r.Stdout)
		}
		n := u.MustBox(t, "info", "--format", "{{len .Warnings}}")
		wantOut(t, n, strconv.Itoa(notOK))
	})
}

// TestHelpGroups: box --help groups verbs under docker --help's headings.
func TestHelpGroups(t *testing.T) {
	r := Rootless.MustBox(t, "--help")
	at := -1
	for _, h := range []string{"\nCommon Commands:\n  run ", "\nManagement Commands:\n", "\n  container ", "\nCommands:\n  attach ", "\nGlobal Options:\n"} {
		i := strings.Index(r.Stdout, h)
		if i <= at {
			t.Fatalf("box --help lacks %q, or has it out of Docker's order:\n%s", h, r.Stdout)
		}
		at = i
	}
}

// TestSystemCheckNamespacesDisabled: where box cannot enter its user
// namespace, system check still runs (it is what explains why), names the
// switch and its fix, and exits 1. As TestUserNamespacesDisabled, the
// switch is turned off in a user namespace of the test's own.
func TestSystemCheckNamespacesDisabled(t *testing.T) {
	requireRoot(t)
	r := boxWithUserNamespacesOff(t, "system", "check")
	wantCode(t, r, 1)
	for _, want := range []string{
		"error    user namespace: box could not enter its user namespace",
		"error    user.max_user_namespaces: sysctl user.max_user_namespaces is 0; fix: sudo sysctl -w user.max_user_namespaces=",
		"warning  native overlay: not tried",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("system check lacks %q: %s", want, r)
		}
	}
}
