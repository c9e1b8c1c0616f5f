package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine/flags"
)

// project writes files into a new directory (named dir) and returns it.
func project(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), dir)
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func load(t *testing.T, opts LoadOptions) (*types.Project, error) {
	t.Helper()
	return Load(context.Background(), opts)
}

func TestLoadLooksUpwardsAndNamesAfterDirectory(t *testing.T) {
	root := project(t, "My App.v2", map[string]string{
		"docker-compose.yml": "services:\n  api:\n    image: busybox\n",
		"sub/deeper/.keep":   "",
	})
	t.Chdir(filepath.Join(root, "sub", "deeper"))
	p, err := load(t, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Compose's normalisation: lower case, only [a-z0-9_-].
	if p.Name != "myappv2" {
		t.Errorf("name %q, want myappv2", p.Name)
	}
	if p.WorkingDir != root {
		t.Errorf("working dir %q, want the file's directory %q", p.WorkingDir, root)
	}
	if want := filepath.Join(root, "docker-compose.yml"); !slices.Equal(p.ComposeFiles, []string{want}) {
		t.Errorf("files %q, want %q", p.ComposeFiles, want)
	}
}

func TestLoadPrefersComposeYaml(t *testing.T) {
	root := project(t, "pref", map[string]string{
		"compose.yaml":       "services:\n  a:\n    image: one\n",
		"docker-compose.yml": "services:\n  a:\n    image: two\n",
	})
	t.Chdir(root)
	p, err := load(t, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Services["a"].Image != "one" {
		t.Errorf("image %q: compose.yaml should win", p.Services["a"].Image)
	}
}

func TestLoadNamePrecedence(t *testing.T) {
	root := project(t, "dir", map[string]string{
		"compose.yaml": "name: fromfile\nservices:\n  a:\n    image: busybox\n",
	})
	f := filepath.Join(root, "compose.yaml")
	for _, tc := range []struct {
		flag string
		env  []string
		want string
	}{
		{"", nil, "fromfile"},
		{"", []string{"COMPOSE_PROJECT_NAME=fromenv"}, "fromenv"},
		{"fromflag", []string{"COMPOSE_PROJECT_NAME=fromenv"}, "fromflag"},
	} {
		p, err := load(t, LoadOptions{Files: []string{f}, Name: tc.flag, Env: tc.env})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != tc.want {
			t.Errorf("-p %q env %q: name %q, want %q", tc.flag, tc.env, p.Name, tc.want)
		}
	}
	if _, err := load(t, LoadOptions{Files: []string{f}, Name: "Bad Name"}); err == nil {
		t.Error("-p 'Bad Name' was accepted")
	}
}

func TestLoadMergesFilesInOrderAndInterpolates(t *testing.T) {
	root := project(t, "merge", map[string]string{
		"a.yaml":      "services:\n  web:\n    image: ${IMG:-busybox}\n    environment:\n      A: \"1\"\n      FROM_ENV_FILE: ${TAG}\n",
		"b.yaml":      "services:\n  web:\n    environment:\n      A: \"2\"\n",
		".env":        "TAG=dotenv\n",
		"other.env":   "TAG=other\n",
		"data/.keep":  "",
		"c.yaml":      "services:\n  web:\n    image: busybox\n    volumes:\n      - ./data:/data\n",
		"prof.yaml":   "services:\n  web:\n    image: busybox\n  debug:\n    image: busybox\n    profiles: [dbg]\n",
		"needs.yaml":  "services:\n  web:\n    image: ${NEEDED:?NEEDED must be set}\n",
		"broken.yaml": "services:\n  web:\n    image: busybox\n   command: x\n",
		"cycle.yaml":  "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n",
	})
	at := func(n string) string { return filepath.Join(root, n) }
	p, err := load(t, LoadOptions{Files: []string{at("a.yaml"), at("b.yaml")}, Env: []string{"IMG=alpine"}})
	if err != nil {
		t.Fatal(err)
	}
	web := p.Services["web"]
	if web.Image != "alpine" || *web.Environment["A"] != "2" || *web.Environment["FROM_ENV_FILE"] != "dotenv" {
		t.Errorf("merge/interpolation: image %q, A=%q, FROM_ENV_FILE=%q", web.Image, *web.Environment["A"], *web.Environment["FROM_ENV_FILE"])
	}
	p, err = load(t, LoadOptions{Files: []string{at("a.yaml")}, EnvFiles: []string{at("other.env")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *p.Services["web"].Environment["FROM_ENV_FILE"]; got != "other" {
		t.Errorf("--env-file: TAG=%q, want other", got)
	}
	// A relative bind is resolved against the project directory.
	p, err = load(t, LoadOptions{Files: []string{at("c.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Services["web"].Volumes[0].Source; got != at("data") {
		t.Errorf("bind source %q, want %q", got, at("data"))
	}
	// Profiles: off by default, on by flag or COMPOSE_PROFILES.
	for _, tc := range []struct {
		profiles, env []string
		want          []string
	}{
		{nil, nil, []string{"web"}},
		{[]string{"dbg"}, nil, []string{"debug", "web"}},
		{nil, []string{"COMPOSE_PROFILES=dbg"}, []string{"debug", "web"}},
	} {
		p, err := load(t, LoadOptions{Files: []string{at("prof.yaml")}, Profiles: tc.profiles, Env: tc.env})
		if err != nil {
			t.Fatal(err)
		}
		names := p.ServiceNames()
		slices.Sort(names)
		if !slices.Equal(names, tc.want) {
			t.Errorf("profiles %q env %q: services %q, want %q", tc.profiles, tc.env, names, tc.want)
		}
	}
	// Bad input: one line each, typed as a parse failure.
	for file, want := range map[string]string{
		"needs.yaml":  "required variable NEEDED is missing a value: NEEDED must be set",
		"broken.yaml": at("broken.yaml") + ": yaml: ",
		"cycle.yaml":  "dependency cycle detected",
	} {
		_, err := load(t, LoadOptions{Files: []string{at(file)}})
		var le *LoadError
		if !errors.As(err, &le) || le.NotFound || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want a one-line parse LoadError with %q", file, err, want)
		}
	}
	_, err = load(t, LoadOptions{Files: []string{at("missing.yaml")}})
	var le *LoadError
	if !errors.As(err, &le) || !le.NotFound {
		t.Errorf("missing file: %v, want a not-found LoadError", err)
	}
}

func TestLoadFromStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	go func() {
		w.WriteString("services:\n  s:\n    image: busybox\n")
		w.Close()
	}()
	t.Chdir(project(t, "stdinproj", map[string]string{".keep": ""}))
	p, err := load(t, LoadOptions{Files: []string{"-"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "stdinproj" || p.Services["s"].Image != "busybox" {
		t.Errorf("-f -: name %q, services %v", p.Name, p.ServiceNames())
	}
}

func TestNames(t *testing.T) {
	if got := ContainerName("proj", "api", 2); got != "proj-api-2" {
		t.Errorf("container name %q", got)
	}
	if got := DefaultNetworkName("proj"); got != "proj_default" {
		t.Errorf("network name %q", got)
	}
}

func TestStartOrder(t *testing.T) {
	svc := func(deps ...string) types.ServiceConfig {
		s := types.ServiceConfig{}
		s.DependsOn = types.DependsOnConfig{}
		for _, d := range deps {
			s.DependsOn[d] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		}
		return s
	}
	order, err := StartOrder(types.Services{"web": svc("api", "db"), "api": svc("db"), "db": svc(), "cron": svc("missing")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"api", "db", "cron", "web"}; slices.Index(order, "db") > slices.Index(order, "api") || slices.Index(order, "api") > slices.Index(order, "web") || len(order) != 4 {
		t.Errorf("order %q: want dependencies first (for example %q)", order, want)
	}
	again, _ := StartOrder(types.Services{"web": svc("api", "db"), "api": svc("db"), "db": svc(), "cron": svc("missing")})
	if !slices.Equal(order, again) {
		t.Errorf("order not stable: %q then %q", order, again)
	}
	_, err = StartOrder(types.Services{"a": svc("b"), "b": svc("c"), "c": svc("a")})
	var ce *CycleError
	if !errors.As(err, &ce) || err.Error() != "dependency cycle detected: a -> b -> c -> a" {
		t.Errorf("cycle: %v", err)
	}
}

func TestConfigHash(t *testing.T) {
	base := types.ServiceConfig{Name: "api"}
	base.Image = "busybox"
	base.Command = types.ShellCommand{"sleep", "1"}
	h1, _ := ConfigHash(base)
	// What does not change the container does not change the hash.
	same := base
	two := 2
	same.Scale = &two
	same.DependsOn = types.DependsOnConfig{"db": {Condition: "service_started"}}
	same.Profiles = []string{"x"}
	if h2, _ := ConfigHash(same); h2 != h1 {
		t.Error("scale, depends_on or profiles changed the hash")
	}
	changed := base
	changed.Command = types.ShellCommand{"sleep", "2"}
	if h3, _ := ConfigHash(changed); h3 == h1 {
		t.Error("a changed command kept the hash")
	}
}

func TestRunOptions(t *testing.T) {
	root := project(t, "conv", map[string]string{
		"compose.yaml": `services:
  api:
    image: busybox
    entrypoint: ["/bin/sh", "-c"]
    command: ["echo hi"]
    environment: {B: "2", A: "1"}
    ports: ["127.0.0.1:8080:80", "9090/udp"]
    volumes: ["data:/data", "./src:/src:ro", "/anon", {type: tmpfs, target: /t, tmpfs: {size: 1000}}]
    networks:
      back: {aliases: [db], ipv4_address: 10.9.9.9}
      default: {}
    healthcheck: {test: ["CMD", "wget", "-q", "http://x/a b"], interval: 2s, retries: 3}
    restart: on-failure:2
    init: true
    read_only: true
    cap_drop: [ALL]
    extra_hosts: ["h:1.2.3.4"]
    mem_limit: 10m
    cpu_count: 2
    volumes_from: ["db:ro", "container:other"]
  db:
    image: busybox
volumes: {data: {}}
networks: {back: {}, default: {}}
`,
	})
	p, err := load(t, LoadOptions{Files: []string{filepath.Join(root, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Services["api"]
	o, err := runOptions(p, s, 1, "h", "v")
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "conv-api-1" || *o.Entrypoint != "/bin/sh" || !slices.Equal(o.Cmd, []string{"-c", "echo hi"}) {
		t.Errorf("name %q entrypoint %q cmd %q", o.Name, *o.Entrypoint, o.Cmd)
	}
	if !slices.Equal(o.Env, []string{"A=1", "B=2"}) {
		t.Errorf("env %q", o.Env)
	}
	if len(o.Publish) != 2 || o.Publish[0].HostIP != "127.0.0.1" || o.Publish[0].HostPort != 8080 || o.Publish[0].ContainerPort != 80 || o.Publish[1].Proto != "udp" || o.Publish[1].HostPort != 0 {
		t.Errorf("ports %+v", o.Publish)
	}
	want := []flags.Mount{
		{Type: flags.Volume, Source: "conv_data", Destination: "/data"},
		{Type: flags.Bind, Source: filepath.Join(root, "src"), Destination: "/src", ReadOnly: true, MakeSource: true},
		{Type: flags.Volume, Destination: "/anon"},
		{Type: flags.Tmpfs, Destination: "/t", Options: []string{"size=1000"}},
	}
	if len(o.Mounts) != len(want) {
		t.Fatalf("mounts %+v", o.Mounts)
	}
	for i := range want {
		g, w := o.Mounts[i], want[i]
		if g.Type != w.Type || g.Source != w.Source || g.Destination != w.Destination || g.ReadOnly != w.ReadOnly || !slices.Equal(g.Options, w.Options) {
			t.Errorf("mount %d: %+v, want %+v", i, g, w)
		}
	}
	// back sorts before default: the first network, with the service's
	// name and its aliases; default is joined after.
	if o.Network.Name != "conv_back" || !slices.Equal(o.NetworkAliases, []string{"api", "db"}) || o.IP != "10.9.9.9" {
		t.Errorf("network %+v aliases %q ip %q", o.Network, o.NetworkAliases, o.IP)
	}
	if extra := extraNetworks(p, s, "id"); len(extra) != 1 || extra[0].Network != "conv_default" || !slices.Equal(extra[0].Aliases, []string{"api"}) {
		t.Errorf("extra networks %+v", extra)
	}
	if !slices.Equal(o.Health.Exec, []string{"wget", "-q", "http://x/a b"}) || o.Health.Retries != 3 || o.Health.Interval.String() != "2s" {
		t.Errorf("health %+v", o.Health)
	}
	if o.Restart.Name != "on-failure" || o.Restart.MaximumRetryCount != 2 || !o.Init || !o.ReadOnly || !slices.Equal(o.CapDrop, []string{"ALL"}) {
		t.Errorf("restart %+v init %v read-only %v cap-drop %q", o.Restart, o.Init, o.ReadOnly, o.CapDrop)
	}
	if len(o.Names.Hosts) != 1 || o.Names.Hosts[0].Name != "h" || o.Names.Hosts[0].IP != "1.2.3.4" {
		t.Errorf("extra hosts %+v", o.Names.Hosts)
	}
	l := o.Labels
	if l[LabelProject] != "conv" || l[LabelService] != "api" || l[LabelNumber] != "1" || l[LabelOneoff] != "False" ||
		l[LabelConfigHash] != "h" || l[LabelWorkingDir] != root || l[LabelConfigFiles] != filepath.Join(root, "compose.yaml") {
		t.Errorf("labels %v", l)
	}
	if len(o.VolumesFrom) != 2 || o.VolumesFrom[0] != (flags.VolumesFrom{Container: "conv-db-1", Mode: "ro"}) || o.VolumesFrom[1] != (flags.VolumesFrom{Container: "other"}) {
		t.Errorf("volumes_from %+v", o.VolumesFrom)
	}
	if o.Settings.Resources.Memory != 10<<20 {
		t.Errorf("mem_limit: memory %d", o.Settings.Resources.Memory)
	}
	if got := unsupportedKeys(s); !slices.Equal(got, []string{"cpu_count"}) {
		t.Errorf("unsupported keys %q, want [cpu_count]", got)
	}
}

// TestSettings: the keys run's settings flags stand for reach the
// engine through the flags' own parsers, deploy's limits beside the
// service's own (the loader refuses the two when they differ), and a
// bad value names its key.
func TestSettings(t *testing.T) {
	root := project(t, "set", map[string]string{
		"compose.yaml": `services:
  app:
    image: busybox
    memswap_limit: -1
    deploy:
      resources:
        limits: {cpus: "1.5", memory: 32m, pids: 50}
        reservations: {memory: 16m}
      restart_policy: {condition: on-failure, max_attempts: 3}
    ulimits: {nofile: {soft: 100, hard: 200}, nproc: 64}
    shm_size: 1m
    sysctls: {net.ipv4.ip_forward: "1"}
    pid: service:db
    ipc: host
    stop_grace_period: 3s
    expose: ["8080", "53/udp"]
    group_add: [audio]
    domainname: example.org
    oom_score_adj: 100
    annotations: {a.b: c}
    links: ["db", "db:database"]
    external_links: ["other:ext"]
  db:
    image: busybox
`,
	})
	p, err := load(t, LoadOptions{Files: []string{filepath.Join(root, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Services["app"]
	o, err := runOptions(p, s, 1, "h", "v")
	if err != nil {
		t.Fatal(err)
	}
	st := o.Settings
	r := st.Resources
	if r.Memory != 32<<20 || r.MemorySwap != -1 || r.MemoryReservation != 16<<20 || r.NanoCPUs != 1.5e9 || r.PidsLimit == nil || *r.PidsLimit != 50 {
		t.Errorf("resources %+v", r)
	}
	if o.Restart.Name != "on-failure" || o.Restart.MaximumRetryCount != 3 {
		t.Errorf("deploy.restart_policy: %+v", o.Restart)
	}
	if len(st.Ulimits) != 2 || st.Ulimits[0] != (flags.Ulimit{Name: "nofile", Soft: 100, Hard: 200}) || st.Ulimits[1] != (flags.Ulimit{Name: "nproc", Soft: 64, Hard: 64}) {
		t.Errorf("ulimits %+v", st.Ulimits)
	}
	if st.ShmSize != 1<<20 || st.Sysctls["net.ipv4.ip_forward"] != "1" || st.PID.String() != "container:set-db-1" || st.IPC.Mode != "host" {
		t.Errorf("shm %d sysctls %v pid %v ipc %v", st.ShmSize, st.Sysctls, st.PID, st.IPC)
	}
	if st.StopTimeout == nil || *st.StopTimeout != 3 || !slices.Equal(st.Expose, []string{"8080/tcp", "53/udp"}) || !slices.Equal(st.GroupAdd, []string{"audio"}) {
		t.Errorf("stop timeout %v expose %q group_add %q", st.StopTimeout, st.Expose, st.GroupAdd)
	}
	if st.Domainname != "example.org" || st.OOMScoreAdj == nil || *st.OOMScoreAdj != 100 || st.Annotations["a.b"] != "c" {
		t.Errorf("domainname %q oom_score_adj %v annotations %v", st.Domainname, st.OOMScoreAdj, st.Annotations)
	}
	if want := []flags.Link{{Name: "set-db-1", Alias: "db"}, {Name: "set-db-1", Alias: "database"}, {Name: "other", Alias: "ext"}}; !slices.Equal(st.Links, want) {
		t.Errorf("links %+v, want %+v", st.Links, want)
	}
	if got := unsupportedKeys(s); len(got) != 0 {
		t.Errorf("unsupported keys %q", got)
	}

	for key, bad := range map[string]string{
		"resources": "mem_limit: 1k",
		"ulimits":   "ulimits: {bogus: 1}",
		"sysctls":   "sysctls: {vm.swappiness: 1}",
		"pid":       "pid: sideways",
	} {
		root := project(t, "bad", map[string]string{"compose.yaml": "services:\n  app:\n    image: busybox\n    " + bad + "\n"})
		p, err := load(t, LoadOptions{Files: []string{filepath.Join(root, "compose.yaml")}})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		_, err = runOptions(p, p.Services["app"], 1, "h", "v")
		if err == nil || !strings.Contains(err.Error(), `service "app": `+key+": ") {
			t.Errorf("%s: error %v, want one naming the key", bad, err)
		}
	}
}

func TestLoadExtendsAndInclude(t *testing.T) {
	root := project(t, "shapes", map[string]string{
		"compose.yaml": `include:
  - db/compose.yaml
services:
  base:
    image: busybox
    environment: {LEVEL: base}
  debug:
    image: busybox
    profiles: [never]
  web:
    extends: {service: base}
    environment: {LEVEL: web}
    depends_on: [db]
x-anchors: &x {a: 1}
`,
		"db/compose.yaml": "services:\n  db:\n    image: busybox\n    volumes: ['./data:/data']\n",
	})
	p, err := load(t, LoadOptions{Files: []string{filepath.Join(root, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	if !slices.Equal(names, []string{"base", "db", "web"}) {
		t.Fatalf("services %q", names)
	}
	if web := p.Services["web"]; web.Image != "busybox" || *web.Environment["LEVEL"] != "web" {
		t.Errorf("extends: image %q LEVEL %q", web.Image, *web.Environment["LEVEL"])
	}
	// An included file's relative paths are its own directory's.
	if got := p.Services["db"].Volumes[0].Source; got != filepath.Join(root, "db", "data") {
		t.Errorf("included bind %q", got)
	}
	order, err := StartOrder(p.Services)
	if err != nil || !slices.Equal(order, []string{"base", "db", "web"}) {
		t.Errorf("order %q, %v", order, err)
	}
}
