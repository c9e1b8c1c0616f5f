package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// composeProject writes files into a new world-readable project
// directory called name and returns the directory.
func composeProject(t *testing.T, u *User, name string, files map[string]string) string {
	t.Helper()
	parent, err := os.MkdirTemp(tempDir, "compose-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// composeApp is a three-service app: a one-shot init job fills a named
// volume, an httpd API serves it once init completed and is healthy,
// and a client that waits for the API's health fetches from it by its
// service name. REV changes the client's environment only.
const composeApp = `services:
  init:
    image: busybox
    command: ["sh", "-c", "echo from-init > /www/index.html && echo init done"]
    volumes: ["data:/www"]
  api:
    image: busybox
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["HOSTPORT:8080"]
    volumes: ["data:/www:ro"]
    depends_on:
      init: {condition: service_completed_successfully}
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
  client:
    image: busybox
    init: true
    environment:
      REV: "${REV:-1}"
    command: ["sh", "-c", "wget -qO- http://api:8080/ > /tmp/got; echo fetched; exec sleep 600"]
    volumes_from: ["init:ro"]
    depends_on:
      api: {condition: service_healthy}
volumes:
  data: {}
`

// composeIDs is `compose ps -a` as NAME=ID lines, by name.
func composeIDs(t *testing.T, u *User, file string) map[string]string {
	t.Helper()
	out := u.MustBox(t, "compose", "-f", file, "ps", "-a", "--format", "{{.Name}}={{.ID}}").Stdout
	ids := map[string]string{}
	for _, l := range strings.Fields(out) {
		name, id, _ := strings.Cut(l, "=")
		ids[name] = id
	}
	return ids
}

// TestComposeApp brings the three-service app up, checks Docker
// Compose's names and labels, start order and conditions, name
// resolution between services, convergence (an unchanged service is
// left alone, a changed one recreated) and that down -v leaves nothing.
func TestComposeApp(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		dir := composeProject(t, u, "Shop App", map[string]string{"compose.yaml": strings.Replace(composeApp, "HOSTPORT", port, 1)})
		file := filepath.Join(dir, "compose.yaml")
		const p = "shopapp" // the directory's name, as Compose normalises it
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-v", "-t", "1") })

		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "-d")
		if r.Code != 0 {
			t.Fatalf("up -d: %s", r)
		}
		for _, want := range []string{" Network shopapp_default  Created", " Volume shopapp_data  Created", " Container shopapp-api-1  Healthy", " Container shopapp-client-1  Started"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("up's progress lacks %q:\n%s", want, r.Stderr)
			}
		}
		if strings.Index(r.Stderr, "shopapp-init-1  Exited") > strings.Index(r.Stderr, "shopapp-api-1  Starting") {
			t.Errorf("api started before init completed:\n%s", r.Stderr)
		}

		// ps: running services only; -a also the completed job.
		ps := u.MustBox(t, "compose", "-f", file, "ps", "--format", "{{.Name}} {{.Service}} {{.State}}").Stdout
		if ps != "shopapp-api-1 api running\nshopapp-client-1 client running\n" {
			t.Errorf("ps:\n%s", ps)
		}
		psa := u.MustBox(t, "compose", "-f", file, "ps", "-a", "--format", "{{.Name}} {{.State}}").Stdout
		if !strings.Contains(psa, "shopapp-init-1 exited\n") {
			t.Errorf("ps -a lacks the completed init job:\n%s", psa)
		}
		if got := u.MustBox(t, "compose", "-f", file, "ps", "--status", "exited", "--format", "{{.Name}}").Stdout; got != "shopapp-init-1\n" {
			t.Errorf("ps --status exited: %q", got)
		}
		table := u.MustBox(t, "compose", "-f", file, "ps").Stdout
		if h := strings.Fields(strings.SplitN(table, "\n", 2)[0]); strings.Join(h, " ") != "NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS" {
			t.Errorf("ps header %q", h)
		}
		if !strings.Contains(table, "(healthy)") {
			t.Errorf("ps does not show the api healthy:\n%s", table)
		}
		if got := u.MustBox(t, "compose", "-f", file, "ps", "--services").Stdout; got != "api\nclient\n" {
			t.Errorf("ps --services: %q", got)
		}

		// Docker Compose's labels.
		var labels map[string]string
		out := u.MustBox(t, "inspect", "-f", "{{json .Config.Labels}}", "shopapp-client-1").Stdout
		if err := json.Unmarshal([]byte(out), &labels); err != nil {
			t.Fatalf("labels %q: %v", out, err)
		}
		for k, v := range map[string]string{
			"com.docker.compose.project": p, "com.docker.compose.service": "client",
			"com.docker.compose.container-number": "1", "com.docker.compose.oneoff": "False",
			"com.docker.compose.project.working_dir": dir, "com.docker.compose.project.config_files": file,
			"com.docker.compose.depends_on": "api:service_healthy:false,init:service_started:false", // volumes_from implies init
		} {
			if labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, labels[k], v)
			}
		}
		if len(labels["com.docker.compose.config-hash"]) != 64 || labels["com.docker.compose.version"] == "" {
			t.Errorf("config-hash %q, version %q", labels["com.docker.compose.config-hash"], labels["com.docker.compose.version"])
		}
		if nets := u.MustBox(t, "network", "ls", "--format", "{{.Name}}", "-f", "name=shopapp").Stdout; nets != "shopapp_default\n" {
			t.Errorf("networks %q", nets)
		}
		if vols := u.MustBox(t, "volume", "ls", "-q", "-f", "label=com.docker.compose.project=shopapp").Stdout; vols != "shopapp_data\n" {
			t.Errorf("volumes %q", vols)
		}

		// The client reached the api by its service name and got what the
		// init job wrote into the volume.
		if got := u.MustBox(t, "compose", "-f", file, "exec", "-T", "client", "cat", "/tmp/got").Stdout; got != "from-init\n" {
			t.Errorf("client fetched %q from http://api:8080/", got)
		}
		if got := u.MustBox(t, "compose", "-f", file, "exec", "-T", "client", "wget", "-qO-", "http://shopapp-api-1:8080/").Stdout; got != "from-init\n" {
			t.Errorf("by container name: %q", got)
		}
		// volumes_from: the init job's volume, read-only.
		if got := u.MustBox(t, "compose", "-f", file, "exec", "-T", "client", "cat", "/www/index.html").Stdout; got != "from-init\n" {
			t.Errorf("volumes_from init: %q", got)
		}
		if r := u.Box(t, "compose", "-f", file, "exec", "-T", "client", "touch", "/www/x"); r.Code == 0 {
			t.Errorf("volumes_from init:ro is writable: %s", r)
		}
		// The host reaches the api on its published port.
		if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "from-init\n" {
			t.Errorf("published port: %q", got)
		}
		if !strings.Contains(table, "0.0.0.0:"+port+"->8080/tcp") {
			t.Errorf("ps does not show the published port:\n%s", table)
		}
		if r := u.Box(t, "compose", "-f", file, "exec", "-T", "client", "sh", "-c", "exit 3"); r.Code != 3 {
			t.Errorf("exec's exit code: %s", r)
		}
		if logs := u.MustBox(t, "compose", "-f", file, "logs", "init", "client").Stdout; !strings.Contains(logs, "init-1   | init done\n") || !strings.Contains(logs, "client-1 | fetched\n") {
			t.Errorf("logs:\n%s", logs)
		}

		// up again, unchanged: the same containers, left running.
		before := composeIDs(t, u, file)
		if len(before) != 3 {
			t.Fatalf("ps -a ids: %v", before)
		}
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "-d")
		if r.Code != 0 {
			t.Fatalf("second up: %s", r)
		}
		after := composeIDs(t, u, file)
		for _, n := range []string{"shopapp-api-1", "shopapp-client-1"} {
			if after[n] != before[n] {
				t.Errorf("unchanged %s was recreated: %s -> %s", n, before[n], after[n])
			}
		}
		if strings.Contains(r.Stderr, "Recreate") {
			t.Errorf("unchanged up recreated something:\n%s", r.Stderr)
		}

		// A changed service is recreated; the others stay.
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute, Env: []string{"REV=2"}}, "compose", "-f", file, "up", "-d")
		if r.Code != 0 {
			t.Fatalf("up with REV=2: %s", r)
		}
		changed := composeIDs(t, u, file)
		if changed["shopapp-client-1"] == after["shopapp-client-1"] || changed["shopapp-api-1"] != after["shopapp-api-1"] {
			t.Errorf("REV=2 should recreate only the client: %v -> %v", after, changed)
		}
		if got := u.MustBox(t, "compose", "-f", file, "exec", "-T", "client", "printenv", "REV").Stdout; got != "2\n" {
			t.Errorf("recreated client's REV = %q", got)
		}

		if ls := u.MustBox(t, "compose", "ls", "--format", "{{.Name}} {{.Status}}").Stdout; !strings.Contains(ls, "shopapp exited(1), running(2)\n") {
			t.Errorf("compose ls:\n%s", ls)
		}

		// run --rm: a one-off container of a service, on the project's
		// network, with the command and environment given, removed after.
		if got := u.MustBox(t, "compose", "-f", file, "run", "--rm", "client", "wget", "-qO-", "http://api:8080/").Stdout; got != "from-init\n" {
			t.Errorf("run --rm client wget: %q", got)
		}
		if r := u.Box(t, "compose", "-f", file, "run", "--rm", "--no-deps", "-e", "X=5", "client", "sh", "-c", "exit $X"); r.Code != 5 {
			t.Errorf("run's exit code: %s", r)
		}
		if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.oneoff=True").Stdout; left != "" {
			t.Errorf("run --rm left containers: %q", left)
		}

		// Without its file, the project is found by name (-p) for ps,
		// stop and down, as Docker Compose finds it by its labels.
		elsewhere := RunOpts{Timeout: 3 * time.Minute}
		if got := u.BoxWith(t, elsewhere, "compose", "-p", "shopapp", "ps", "--format", "{{.Name}}").Stdout; got != "shopapp-api-1\nshopapp-client-1\n" {
			t.Errorf("ps -p shopapp without the file: %q", got)
		}
		if r := u.BoxWith(t, elsewhere, "compose", "-p", "shopapp", "stop", "-t", "1"); r.Code != 0 {
			t.Errorf("stop -p shopapp without the file: %s", r)
		}
		if got := u.MustBox(t, "compose", "-f", file, "ps", "-q").Stdout; got != "" {
			t.Errorf("running after stop -p: %q", got)
		}

		// down -v (here by name, without the file): nothing of the
		// project is left.
		u.MustBox(t, "compose", "-p", "shopapp", "down", "-v", "-t", "1")
		if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=shopapp").Stdout; left != "" {
			t.Errorf("containers left after down -v: %q", left)
		}
		if nets := u.MustBox(t, "network", "ls", "-q", "-f", "name=shopapp").Stdout; nets != "" {
			t.Errorf("networks left after down -v: %q", nets)
		}
		if vols := u.MustBox(t, "volume", "ls", "-q").Stdout; strings.Contains(vols, "shopapp") {
			t.Errorf("volumes left after down -v: %q", vols)
		}
	})
}

// TestComposeBadInput: a compose file that does not load is one line
// and Docker Compose's exit code, and nothing is started.
func TestComposeBadInput(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "bad", map[string]string{
			"yaml.yaml":     "services:\n  a:\n    image: busybox\n   command: x\n",
			"required.yaml": "services:\n  a:\n    image: ${IMG:?IMG must name the image}\n",
			"cycle.yaml":    "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n",
			"unknown.yaml":  "services:\n  a:\n    image: busybox\n    colour: red\n",
		})
		for file, want := range map[string]string{
			"yaml.yaml":     filepath.Join(dir, "yaml.yaml") + ": yaml: ",
			"required.yaml": "required variable IMG is missing a value: IMG must name the image",
			"cycle.yaml":    "dependency cycle detected: a -> b -> a",
			"unknown.yaml":  "colour",
		} {
			r := u.Box(t, "compose", "-f", filepath.Join(dir, file), "up", "-d")
			if r.Code != 15 || !strings.Contains(r.Stderr, want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("%s: want exit 15 and one line with %q: %s", file, want, r)
			}
		}
		if r := u.Box(t, "compose", "-f", filepath.Join(dir, "missing.yaml"), "config"); r.Code != 14 {
			t.Errorf("missing file: want exit 14: %s", r)
		}
		if r := u.Box(t, "compose", "-f", filepath.Join(dir, "cycle.yaml"), "ps", "--bogus"); r.Code != 125 {
			t.Errorf("bad flag: want box's usage exit 125: %s", r)
		}
		// A one-letter volume name reads as a Windows drive, so the
		// target is not absolute: refused before anything is made.
		drive := filepath.Join(dir, "drive.yaml")
		if err := os.WriteFile(drive, []byte("services:\n  a:\n    image: busybox\n    volumes: [\"s:/s\"]\nvolumes: {s: {}}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := u.Box(t, "compose", "-f", drive, "up", "-d")
		if r.Code != 1 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 || !strings.Contains(r.Stderr, "'s:/s' mount path must be absolute") {
			t.Errorf("a relative mount target: want exit 1 and one line: %s", r)
		}
		if nets := u.MustBox(t, "network", "ls", "-q", "--filter", "name=bad_default").Stdout; nets != "" {
			t.Errorf("a refused up made its network %q", nets)
		}
		if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=bad").Stdout; left != "" {
			t.Errorf("bad input left containers: %q", left)
		}
	})
}

// TestComposeLifecycle drives up --wait, a scaled service, exec
// --index, stop, start, restart, logs -f of a job that ends, orphans,
// rm, and up's errors for a dependency that fails.
func TestComposeLifecycle(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "life", map[string]string{
			"compose.yaml": `services:
  api:
    image: busybox
    init: true
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 600"]
    healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1s, retries: 30}
  worker:
    image: busybox
    init: true
    scale: 2
    command: ["sleep", "600"]
  job:
    image: busybox
    command: ["sh", "-c", "echo one; sleep 1; echo two"]
`,
			"fewer.yaml": `services:
  api:
    image: busybox
    init: true
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 600"]
    healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1s, retries: 30}
`,
			"failing.yaml": `services:
  sick:
    image: busybox
    init: true
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
  needs-sick:
    image: busybox
    command: ["true"]
    depends_on: {sick: {condition: service_healthy}}
  broken-job:
    image: busybox
    command: ["sh", "-c", "exit 4"]
  after-job:
    image: busybox
    command: ["true"]
    depends_on: {broken-job: {condition: service_completed_successfully}}
`,
		})
		file := filepath.Join(dir, "compose.yaml")
		fewer := filepath.Join(dir, "fewer.yaml")
		failing := filepath.Join(dir, "failing.yaml")
		t.Cleanup(func() {
			u.Box(t, "compose", "-f", file, "-p", "life", "down", "-v", "-t", "1", "--remove-orphans")
			u.Box(t, "compose", "-f", failing, "-p", "life2", "down", "-t", "1")
		})
		compose := func(args ...string) Result {
			t.Helper()
			r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, append([]string{"compose", "-f", file}, args...)...)
			if r.Code != 0 {
				t.Fatalf("compose %s: %s", strings.Join(args, " "), r)
			}
			return r
		}
		state := func() string {
			t.Helper()
			return compose("ps", "-a", "--format", "{{.Name}} {{.State}} {{.Health}}").Stdout
		}

		// --wait returns once the api is healthy (its check passes after
		// a second), not just started.
		compose("up", "--wait")
		if got := state(); !strings.Contains(got, "life-api-1 running healthy\n") ||
			!strings.Contains(got, "life-worker-1 running \n") || !strings.Contains(got, "life-worker-2 running \n") {
			t.Errorf("after up --wait:\n%s", got)
		}
		if got := compose("exec", "-T", "--index", "2", "worker", "hostname").Stdout; got == "" {
			t.Error("exec --index 2 printed nothing")
		}
		if r := u.Box(t, "compose", "-f", file, "exec", "-T", "--index", "3", "worker", "true"); r.Code == 0 {
			t.Errorf("exec --index 3 of two: %s", r)
		}
		uid := "123"
		if u.Mode == "norange" {
			uid = "0" // only the user's own id is mapped
		}
		if got := compose("exec", "-T", "-u", uid, "-w", "/tmp", "-e", "X=y", "api", "sh", "-c", "id -u; pwd; echo $X").Stdout; got != uid+"\n/tmp\ny\n" {
			t.Errorf("exec -u -w -e: %q", got)
		}
		// --scale overrides the file; --force-recreate makes a service
		// again although it did not change.
		ids := composeIDs(t, u, file)
		compose("up", "-d", "--scale", "worker=1", "--force-recreate", "--no-deps", "api", "worker")
		now := composeIDs(t, u, file)
		if _, ok := now["life-worker-2"]; ok || now["life-worker-1"] == ids["life-worker-1"] || now["life-api-1"] == ids["life-api-1"] {
			t.Errorf("up --scale worker=1 --force-recreate: %v -> %v", ids, now)
		}
		compose("up", "-d", "--scale", "worker=2", "--no-recreate", "worker")
		if again := composeIDs(t, u, file); again["life-worker-1"] != now["life-worker-1"] || again["life-worker-2"] == "" {
			t.Errorf("up --scale worker=2 --no-recreate: %v -> %v", now, again)
		}
		// logs -f of a job follows it until it ends.
		if got := compose("logs", "-f", "--no-log-prefix", "job").Stdout; got != "one\ntwo\n" {
			t.Errorf("logs -f job: %q", got)
		}
		if got := compose("logs", "--no-log-prefix", "-n", "1", "job").Stdout; got != "two\n" {
			t.Errorf("logs -n 1 job: %q", got)
		}
		if got := compose("logs", "--since", "1h", "--until", "1h", "job").Stdout; got != "" {
			t.Errorf("logs --until 1h (ago) job: %q", got)
		}

		compose("stop", "-t", "1", "worker")
		if got := state(); !strings.Contains(got, "life-worker-1 exited") || !strings.Contains(got, "life-api-1 running") {
			t.Errorf("after stop worker:\n%s", got)
		}
		compose("start", "worker")
		if got := state(); !strings.Contains(got, "life-worker-1 running") || !strings.Contains(got, "life-worker-2 running") {
			t.Errorf("after start worker:\n%s", got)
		}
		before := composeIDs(t, u, file)
		compose("restart", "-t", "1", "api")
		if got := compose("ps", "--format", "{{.Name}} {{.Status}}", "api").Stdout; !strings.HasPrefix(got, "life-api-1 Up ") {
			t.Errorf("after restart: %q", got)
		}
		if after := composeIDs(t, u, file); after["life-api-1"] != before["life-api-1"] {
			t.Error("restart recreated the api")
		}

		// A service gone from the file is an orphan: named, then removed
		// with --remove-orphans.
		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", fewer, "-p", "life", "up", "-d")
		if r.Code != 0 || !strings.Contains(r.Stderr, "Found orphan containers") || !strings.Contains(r.Stderr, "life-worker-1") {
			t.Errorf("up without worker should warn of orphans: %s", r)
		}
		u.MustBox(t, "compose", "-f", fewer, "-p", "life", "up", "-d", "--remove-orphans")
		if got := u.MustBox(t, "ps", "-a", "--format", "{{.Names}}", "--filter", "label=com.docker.compose.project=life").Stdout; got != "life-api-1\n" {
			t.Errorf("after --remove-orphans: %q", got)
		}
		compose("stop", "-t", "1")
		compose("rm", "-f")
		if got := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=life").Stdout; got != "" {
			t.Errorf("after rm -f: %q", got)
		}

		// A dependency that fails stops up with the service named.
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", failing, "-p", "life2", "up", "-d", "needs-sick")
		if r.Code != 1 || !strings.Contains(r.Stderr, "dependency failed to start: container life2-sick-1 is unhealthy") {
			t.Errorf("unhealthy dependency: %s", r)
		}
		if got := u.MustBox(t, "ps", "-a", "-q", "--filter", "name=life2-needs-sick-1").Stdout; got != "" {
			t.Errorf("the dependent of an unhealthy service was created: %q", got)
		}
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", failing, "-p", "life2", "up", "-d", "after-job")
		if r.Code != 1 || !strings.Contains(r.Stderr, `service "broken-job" didn't complete successfully: exit 4`) {
			t.Errorf("failed job: %s", r)
		}
	})
}

// TestComposeUpAttached: up in the foreground shows every container's
// output behind its prefix; Ctrl-C stops the project and exits 130;
// --abort-on-container-exit and --exit-code-from end it with a code.
func TestComposeUpAttached(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "fg", map[string]string{
			"compose.yaml": `services:
  short:
    image: busybox
    command: ["sh", "-c", "echo hello short; sleep 1; echo bye short; exit 3"]
  long:
    image: busybox
    command: ["sh", "-c", "echo hello long; trap 'exit 7' TERM; while :; do sleep 0.2; done"]
`,
		})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "1") })

		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "--abort-on-container-exit", "-t", "2")
		if r.Code != 3 || !strings.Contains(r.Stdout, "Attaching to fg-long-1, fg-short-1\n") ||
			!strings.Contains(r.Stdout, "short-1 | hello short\n") || !strings.Contains(r.Stdout, "long-1  | hello long\n") ||
			!strings.Contains(r.Stdout, "short-1 exited with code 3\n") || !strings.Contains(r.Stderr, "Gracefully stopping...") {
			t.Errorf("up --abort-on-container-exit: want exit 3 and both outputs: %s", r)
		}
		if got := u.MustBox(t, "compose", "-f", file, "ps", "-a", "--format", "{{.Service}} {{.State}} {{.ExitCode}}").Stdout; got != "long exited 7\nshort exited 3\n" {
			t.Errorf("after the abort: %q", got)
		}
		if r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "--exit-code-from", "long", "-t", "2"); r.Code != 7 {
			t.Errorf("up --exit-code-from long: %s", r)
		}

		// Ctrl-C stops the project and exits 130.
		cmd := u.BoxCmd("compose", "-f", file, "up", "long")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		seen := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			once := false
			for sc.Scan() {
				if strings.HasSuffix(sc.Text(), "| hello long") && !once {
					once = true
					close(seen)
				}
			}
		}()
		select {
		case <-seen:
		case <-time.After(60 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatal("up never showed the service's output")
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := pullExitCode(t, cmd, 60*time.Second); code != 130 {
			t.Errorf("up interrupted by SIGINT exited %d, want 130", code)
		}
		if got := u.MustBox(t, "compose", "-f", file, "ps", "-a", "--format", "{{.Service}} {{.State}}", "long").Stdout; got != "long exited\n" {
			t.Errorf("after Ctrl-C: %q", got)
		}
	})
}

// TestComposeCreateKillPortPause: create makes the containers and starts
// none; port prints a published port; kill signals; pause and unpause
// (rootful: rootless containers have no cgroup v1 freezer here).
func TestComposeCreateKillPortPause(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		dir := composeProject(t, u, "verbs", map[string]string{
			"compose.yaml": `services:
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80", "-h", "/etc"]
    ports: ["` + port + `:80"]
  side:
    image: busybox
    command: ["sleep", "600"]
    depends_on: {web: {condition: service_healthy}}
    healthcheck: {test: ["CMD", "true"], interval: 1s}
`,
		})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "1") })
		compose := func(args ...string) Result {
			t.Helper()
			return u.MustBox(t, append([]string{"compose", "-f", file}, args...)...)
		}
		compose("create")
		if got := compose("ps", "-a", "--format", "{{.Service}} {{.State}}").Stdout; got != "side created\nweb created\n" {
			t.Errorf("after create: %q", got)
		}
		compose("start", "web")
		if got := compose("port", "web", "80").Stdout; got != "0.0.0.0:"+port+"\n" {
			t.Errorf("port web 80: %q", got)
		}
		if r := u.Box(t, "compose", "-f", file, "port", "web", "81"); r.Code != 1 || !strings.Contains(r.Stderr, "no port 81/tcp for container verbs-web-1") {
			t.Errorf("port web 81: %s", r)
		}
		if u.Mode == "root" {
			compose("pause", "web")
			if got := compose("ps", "--format", "{{.State}}", "web").Stdout; got != "paused\n" {
				t.Errorf("after pause: %q", got)
			}
			compose("unpause", "web")
		}
		if got := fetch(t, "http://127.0.0.1:"+port+"/hostname"); got == "" {
			t.Error("web did not answer")
		}
		if got := compose("top", "web").Stdout; !strings.HasPrefix(got, "verbs-web-1\nUID ") || !strings.Contains(got, "httpd -f -p 80") {
			t.Errorf("top web:\n%s", got)
		}
		if got := compose("images", "web").Stdout; !strings.HasPrefix(got, "CONTAINER ") || !strings.Contains(got, "verbs-web-1   busybox      latest ") {
			t.Errorf("images web:\n%s", got)
		}
		compose("kill", "web")
		if got := compose("ps", "-a", "--format", "{{.Status}}", "web").Stdout; !strings.HasPrefix(got, "Exited (137)") {
			t.Errorf("after kill: %q", got)
		}
	})
}

// TestComposeAsDockerCompose: box run under the name docker-compose
// (a link) is `box compose`, in and out of the user namespace.
func TestComposeAsDockerCompose(t *testing.T) {
	linkDir, err := os.MkdirTemp(tempDir, "docker-compose-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(linkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(linkDir, "docker-compose")
	if err := os.Symlink(boxBin, link); err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "alias", map[string]string{
			"compose.yaml": "services:\n  one:\n    image: busybox\n  two:\n    image: busybox\n",
		})
		file := filepath.Join(dir, "compose.yaml")
		var global []string
		if u.StoreRoot != "" {
			global = []string{"--root", u.StoreRoot, "--runroot", u.StoreRunRoot}
		}
		run := func(args ...string) (string, string, error) {
			cmd := u.Cmd(link, append(slices.Clone(global), args...)...)
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			return out.String(), errb.String(), err
		}
		if out, errOut, err := run("-f", file, "config", "--services"); err != nil || out != "one\ntwo\n" {
			t.Errorf("docker-compose config --services: %q %q %v", out, errOut, err)
		}
		if out, errOut, err := run("-f", file, "ps", "-a", "--format", "{{.Name}}"); err != nil || out != "" {
			t.Errorf("docker-compose ps -a: %q %q %v", out, errOut, err)
		}
		// version answers outside the user namespace, as box version does.
		if out, errOut, err := run("version"); err != nil || !strings.HasPrefix(out, "box compose version ") {
			t.Errorf("docker-compose version: %q %q %v", out, errOut, err)
		}
	})
}

// TestComposeSideBySide: two projects with the same service names run at
// once; each service name resolves on its own project's network, and
// down of one leaves the other.
func TestComposeSideBySide(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		const app = `services:
  api:
    image: busybox
    init: true
    command: ["sh", "-c", "mkdir /www && echo $$COMPOSE_NAME > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment: {COMPOSE_NAME: "${NAME}"}
  client:
    image: busybox
    init: true
    command: ["sleep", "600"]
`
		var files []string
		for _, name := range []string{"left", "right"} {
			dir := composeProject(t, u, name, map[string]string{"compose.yaml": app, ".env": "NAME=" + name + "\n"})
			files = append(files, filepath.Join(dir, "compose.yaml"))
		}
		t.Cleanup(func() {
			for _, f := range files {
				u.Box(t, "compose", "-f", f, "down", "-t", "1")
			}
		})
		for _, f := range files {
			if r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", f, "up", "-d"); r.Code != 0 {
				t.Fatalf("up: %s", r)
			}
		}
		for i, want := range []string{"left\n", "right\n"} {
			var got string
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				if got = u.Box(t, "compose", "-f", files[i], "exec", "-T", "client", "wget", "-qO-", "http://api/").Stdout; got == want {
					break
				}
			}
			if got != want {
				t.Errorf("%s's client got %q from http://api/", strings.TrimSuffix(want, "\n"), got)
			}
		}
		u.MustBox(t, "compose", "-f", files[0], "down", "-t", "1")
		if got := u.MustBox(t, "compose", "-f", files[1], "ps", "--format", "{{.Name}}").Stdout; got != "right-api-1\nright-client-1\n" {
			t.Errorf("after down of left, right has %q", got)
		}
	})
}
