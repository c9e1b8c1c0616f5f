package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestComposeParallelStart: independent services start side by side.
// "a" waits for "b" to be healthy, and "b" is healthy only once "z",
// which depends on nothing, has written a file into their shared
// volume. Started one after another in dependency-then-name order (b,
// a, z), "a" would wait on "b" for ever and up would fail on b's
// health; started as Docker Compose's graph walk does, z runs at once
// and everything comes up.
func TestComposeParallelStart(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "par", map[string]string{"compose.yaml": `services:
  a:
    image: busybox
    command: ["sleep", "600"]
    depends_on:
      b: {condition: service_healthy}
  b:
    image: busybox
    command: ["sleep", "600"]
    volumes: ["shared:/s"]
    healthcheck:
      test: ["CMD", "test", "-e", "/s/z"]
      interval: 1s
      retries: 20
  z:
    image: busybox
    command: ["sh", "-c", "touch /s/z; exec sleep 600"]
    volumes: ["shared:/s"]
volumes:
  shared: {}
`})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-v", "-t", "0") })
		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "-d", "--wait", "--wait-timeout", "90")
		if r.Code != 0 {
			t.Fatalf("up -d --wait of services that need one another started side by side: %s", r)
		}
		got := u.MustBox(t, "compose", "-f", file, "ps", "--format", "{{.Service}} {{.State}}").Stdout
		if got != "a running\nb running\nz running\n" {
			t.Fatalf("ps after up:\n%s", got)
		}
		// The exec form stays one, as Docker Compose hands it over.
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .Config.Healthcheck.Test}}", "par-b-1"), `["CMD","test","-e","/s/z"]`)
	})
}

// TestComposeDependencyRestart: depends_on's restart: true restarts a
// kept dependent when up remakes its dependency.
func TestComposeDependencyRestart(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		body := `services:
  db:
    image: busybox
    command: ["sleep", "600"]
    environment: {REV: "${REV:-1}"}
  web:
    image: busybox
    command: ["sleep", "600"]
    depends_on:
      db: {condition: service_started, restart: true}
  other:
    image: busybox
    command: ["sleep", "600"]
    depends_on: [db]
`
		dir := composeProject(t, u, "deprestart", map[string]string{"compose.yaml": body})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d")
		started := func(name string) string {
			return u.MustBox(t, "inspect", "-f", "{{.State.StartedAt}}", name).Stdout
		}
		web, other := started("deprestart-web-1"), started("deprestart-other-1")
		r := mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute, Env: []string{"REV=2"}}, "-f", file, "up", "-d")
		if !strings.Contains(r.Stderr, "Container deprestart-db-1  Recreate") || !strings.Contains(r.Stderr, "Container deprestart-web-1  Restarting") {
			t.Fatalf("up after db changed: want db recreated and web restarted:\n%s", r.Stderr)
		}
		if started("deprestart-web-1") == web {
			t.Errorf("web (restart: true) was not restarted")
		}
		if started("deprestart-other-1") != other {
			t.Errorf("other (no restart) was restarted")
		}
	})
}

// TestComposeResourceKeys: the keys that `box run` takes as flags reach
// the container as those flags would: inspect shows them, the container
// lives under them, and as root the cgroup holds the limits. Rootless on
// cgroup v1 up goes ahead with the limits warning given once for the
// project, not once per container; a key box does not honour is named.
func TestComposeResourceKeys(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "reskeys", map[string]string{"compose.yaml": `services:
  app:
    image: busybox
    command: ["sleep", "600"]
    scale: 2
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 20
    ulimits: {nofile: {soft: 100, hard: 200}}
    shm_size: 8m
    sysctls: {net.ipv4.ip_unprivileged_port_start: "80"}
    stop_grace_period: 3s
    expose: ["8080"]
    domainname: example.org
    cpu_count: 1
`})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		r := mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d")
		if !strings.Contains(r.Stderr, `service "app": cpu_count is not supported by box`) {
			t.Errorf("up does not name the key it ignores:\n%s", r.Stderr)
		}
		limitsWarnings := strings.Count(r.Stderr, "resource limits are ignored")
		if u.Mode == "root" && limitsWarnings != 0 || u.Mode != "root" && cgroupV1() && limitsWarnings != 1 {
			t.Errorf("up as %s: %d limits warnings:\n%s", u.Mode, limitsWarnings, r.Stderr)
		}
		name := "reskeys-app-1"
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.ShmSize}} {{.HostConfig.Sysctls}} {{.HostConfig.Ulimits}}", name),
			"67108864 500000000 20 8388608 map[net.ipv4.ip_unprivileged_port_start:80] [map[Hard:200 Name:nofile Soft:100]]")
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{.Config.StopTimeout}} {{.Config.Domainname}} {{json .Config.ExposedPorts}}", name),
			`3 example.org {"8080/tcp":{}}`)
		in := u.MustBox(t, "exec", name, "sh", "-c", "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1 | awk '{print $2}'; cat /proc/sys/net/ipv4/ip_unprivileged_port_start").Stdout
		if got := strings.Fields(in); strings.Join(got, " ") != "100 200 8192 80" {
			t.Errorf("in the container: nofile, its hard limit, /dev/shm KiB, the sysctl = %q; want 100 200 8192 80", got)
		}
		if u.Mode == "root" {
			got := u.MustBox(t, "exec", name, "sh", "-c", `if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; else
			cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; fi`).Stdout
			if strings.Join(strings.Fields(got), " ") != "67108864 20" {
				t.Errorf("as root the cgroup's memory and pids limits are %q; want 67108864 20", got)
			}
		}
	})
}

// mustCompose runs box compose args with opts and fails the test unless
// it exits 0.
func mustCompose(t *testing.T, u *User, opts RunOpts, args ...string) Result {
	t.Helper()
	r := u.BoxWith(t, opts, append([]string{"compose"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("box compose %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// TestComposeRunNetworks: a one-off container joins every network of
// its service (api is reached only on back, web only on front), and,
// as in Docker Compose, answers to the service's name and aliases only
// with --use-aliases, on each of those networks.
func TestComposeRunNetworks(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "oneoff", map[string]string{"compose.yaml": `services:
  api:
    image: busybox
    command: ["sh", "-c", "echo on-back > /i; exec httpd -f -p 8080 -h /"]
    networks: [back]
  web:
    image: busybox
    command: ["sh", "-c", "echo on-front > /i; exec httpd -f -p 8080 -h /"]
    networks: [front]
  tool:
    image: busybox
    command: ["sleep", "600"]
    networks:
      back: {aliases: [tb]}
      front: {aliases: [tf]}
networks: {front: {}, back: {}}
`})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d", "api", "web")
		fetch := `for i in $(seq 50); do a=$(wget -qO- http://api:8080/i) && w=$(wget -qO- http://web:8080/i) && echo $a $w && exit 0; sleep 0.1; done; exit 1`
		if got := mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", file, "run", "--rm", "--no-deps", "tool", "sh", "-c", fetch).Stdout; got != "on-back on-front\n" {
			t.Fatalf("a one-off on both networks fetched %q", got)
		}

		mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", file, "run", "-d", "--no-deps", "--name", "plain", "tool")
		for _, in := range []string{"oneoff-api-1", "oneoff-web-1"} {
			if r := u.Box(t, "exec", in, "nslookup", "tool"); r.Code == 0 {
				t.Errorf("without --use-aliases a one-off answers to its service's name in %s: %s", in, r)
			}
		}
		mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", file, "run", "-d", "--no-deps", "--use-aliases", "--name", "aliased", "tool")
		for in, names := range map[string][]string{"oneoff-api-1": {"tool", "tb"}, "oneoff-web-1": {"tool", "tf"}} {
			for _, n := range names {
				if r := untilIn(t, u, in, resolves(n)); r.Code != 0 {
					t.Errorf("with --use-aliases %s does not resolve %s: %s", in, n, r)
				}
			}
		}
		if r := u.Box(t, "exec", "oneoff-web-1", "nslookup", "tb"); r.Code == 0 {
			t.Errorf("back's alias resolves on front: %s", r)
		}
	})
}

// TestComposeCpWait: compose cp copies into every container of a
// service and out of its first (or --index); compose wait returns when
// the service's containers stop, saying each one's code as Docker
// Compose does and exiting with it.
func TestComposeCpWait(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "cpwait", map[string]string{
			"compose.yaml": `services:
  app:
    image: busybox
    command: ["sleep", "600"]
    scale: 2
  job:
    image: busybox
    command: ["sh", "-c", "while [ ! -e /go ]; do sleep 0.1; done; exit 7"]
`,
			"note.txt": "hello from the host\n",
		})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d")

		r := mustCompose(t, u, RunOpts{}, "-f", file, "cp", filepath.Join(dir, "note.txt"), "app:/tmp/note.txt")
		if strings.Count(r.Stderr, "Copied") != 2 {
			t.Errorf("cp to a service of two containers:\n%s", r.Stderr)
		}
		for _, ctr := range []string{"cpwait-app-1", "cpwait-app-2"} {
			wantOut(t, u.MustBox(t, "exec", ctr, "cat", "/tmp/note.txt"), "hello from the host")
		}
		u.MustBox(t, "exec", "cpwait-app-2", "sh", "-c", "echo second > /tmp/which")
		out := filepath.Join(t.TempDir(), "which")
		if r := u.Box(t, "compose", "-f", file, "cp", "--index", "2", "app:/tmp/which", "-"); r.Code != 0 || !strings.Contains(r.Stdout, "second") {
			t.Errorf("cp --index 2 from the service to stdout (a tar stream): %s", r)
		}
		if r := u.Box(t, "compose", "-f", file, "cp", "app:/tmp/which", out); r.Code == 0 {
			t.Errorf("cp from the service copied app-1's missing file: %s", r)
		}
		if r := u.Box(t, "compose", "-f", file, "cp", "--index", "3", "app:/tmp/which", "-"); r.Code == 0 || !strings.Contains(r.Stderr, `service "app" is not running container #3`) {
			t.Errorf("cp --index 3: %s", r)
		}
		if r := u.Box(t, "compose", "-f", file, "cp", "app:/a", "job:/b"); r.Code == 0 || !strings.Contains(r.Stderr, "copying between services is not supported") {
			t.Errorf("cp between services: %s", r)
		}

		// wait: job exits 7 once /go exists, which the test makes once
		// wait has had two seconds to find the job running.
		waitCmd := u.BoxCmd("compose", "-f", file, "wait", "job")
		var stdout, stderr strings.Builder
		waitCmd.Stdout, waitCmd.Stderr = &stdout, &stderr
		if err := waitCmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		u.MustBox(t, "exec", "cpwait-job-1", "touch", "/go")
		err := waitCmd.Wait()
		id := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.Id}}", "cpwait-job-1").Stdout)
		if code := waitCmd.ProcessState.ExitCode(); code != 7 || stdout.String() != `container "`+id+`" exited with status code 7`+"\n" {
			t.Errorf("compose wait job: exit %d (%v), stdout %q, stderr %q (no containers: wait found the job ended, so it started more than 2 s late)", code, err, stdout.String(), stderr.String())
		}
	})
}

// TestComposeAttachAndColour: up in the foreground shows the services
// --attach names (or all less --no-attach, and less those with attach:
// false), and colours each prefix as Docker Compose does with --ansi
// always; logs --no-color and --ansi never print no escapes.
func TestComposeAttachAndColour(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "attach", map[string]string{
			"compose.yaml": `services:
  one:
    image: busybox
    command: ["echo", "from one"]
  two:
    image: busybox
    command: ["echo", "from two"]
  quiet:
    image: busybox
    command: ["echo", "from quiet"]
    attach: false
`,
		})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })

		r := mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "--ansi", "always", "up")
		if !strings.Contains(r.Stdout, "Attaching to attach-one-1, attach-two-1\n") || strings.Contains(r.Stdout, "from quiet") {
			t.Errorf("up: want one and two attached, quiet (attach: false) not:\n%s", r.Stdout)
		}
		if !strings.Contains(r.Stdout, "\x1b[36mone-1 |\x1b[0m from one\n") || !strings.Contains(r.Stdout, "\x1b[33mtwo-1 |\x1b[0m from two\n") {
			t.Errorf("up --ansi always: want cyan and yellow prefixes:\n%q", r.Stdout)
		}
		r = mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "--attach", "quiet", "--attach", "two", "--no-attach", "two")
		if !strings.Contains(r.Stdout, "Attaching to attach-quiet-1\n") || !strings.Contains(r.Stdout, "quiet-1 | from quiet\n") || strings.Contains(r.Stdout, "from one") {
			t.Errorf("up --attach quiet --attach two --no-attach two:\n%s", r.Stdout)
		}
		for _, args := range [][]string{{"logs", "--no-color"}, {"--ansi", "never", "logs"}, {"logs"}} {
			out := mustCompose(t, u, RunOpts{}, append([]string{"-f", file}, args...)...).Stdout
			if strings.Contains(out, "\x1b[") || !strings.Contains(out, "one-1   | from one\n") {
				t.Errorf("compose %q (not a terminal): %q", args, out)
			}
		}
		if r := u.Box(t, "compose", "-f", file, "--ansi", "sometimes", "logs"); r.Code != 125 {
			t.Errorf("--ansi sometimes: want 125: %s", r)
		}
		if r := u.Box(t, "compose", "-f", file, "up", "--attach", "nope"); r.Code == 0 || !strings.Contains(r.Stderr, "nope") {
			t.Errorf("up --attach of no service: %s", r)
		}
	})
}

// TestComposeKilledUpConverges: up killed (SIGKILL) half way leaves
// whatever it made; the next up converges on the file: one container
// per service, all running, none twice.
func TestComposeKilledUpConverges(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "killed", map[string]string{"compose.yaml": `services:
  first:
    image: busybox
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, start_period: 2s}
  second:
    image: busybox
    command: ["sleep", "600"]
    depends_on: {first: {condition: service_healthy}}
  third:
    image: busybox
    command: ["sleep", "600"]
    depends_on: [second]
  other:
    image: busybox
    command: ["sleep", "600"]
`})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		cmd := u.BoxCmd("compose", "-f", file, "up", "-d")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once the first container runs, while up waits for its
		// health before it makes the others.
		var seen strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "killed-first-1  Waiting") {
				break
			}
		}
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill up: %v", err)
		}
		cmd.Wait()
		if !strings.Contains(seen.String(), "Waiting") {
			t.Fatalf("up ended before it waited on first's health:\n%s", seen.String())
		}
		before := u.MustBox(t, "ps", "-a", "--filter", "label=com.docker.compose.project=killed", "--format", "{{.Names}}").Stdout
		if strings.Contains(before, "killed-second-1") {
			t.Fatalf("second was made before first was healthy:\n%s", before)
		}

		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d", "--wait")
		got := u.MustBox(t, "ps", "-a", "--filter", "label=com.docker.compose.project=killed", "--format", "{{.Names}} {{.State}}").Stdout
		lines := strings.Split(strings.TrimSpace(got), "\n")
		slices.Sort(lines)
		if want := []string{"killed-first-1 running", "killed-other-1 running", "killed-second-1 running", "killed-third-1 running"}; !slices.Equal(lines, want) {
			t.Fatalf("after up killed and run again: %q, want %q (before: %q)", lines, want, before)
		}
	})
}

// TestComposePortTakenHalfUp: a second project that publishes a host
// port the first holds fails to come up with an error naming the port;
// down of that half-up project removes all it made and leaves the
// first running.
func TestComposePortTakenHalfUp(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		app := `services:
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["` + port + `:8080"]
  side:
    image: busybox
    command: ["sleep", "600"]
`
		var files []string
		for _, name := range []string{"holder", "taker"} {
			files = append(files, filepath.Join(composeProject(t, u, name, map[string]string{"compose.yaml": app}), "compose.yaml"))
		}
		t.Cleanup(func() {
			for _, f := range files {
				u.Box(t, "compose", "-f", f, "down", "-t", "0")
			}
		})
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", files[0], "up", "-d")
		r := u.BoxWith(t, RunOpts{Timeout: 2 * time.Minute}, "compose", "-f", files[1], "up", "-d")
		last := strings.TrimSpace(r.Stderr)
		last = last[strings.LastIndex(last, "\n")+1:]
		if r.Code != 1 || !strings.Contains(last, port) || !strings.HasPrefix(last, "Error") {
			t.Fatalf("up of a project whose port another holds: want exit 1 and an error naming port %s: %s", port, r)
		}
		mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", files[1], "down", "-t", "0")
		if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=taker").Stdout; left != "" {
			t.Errorf("down of the half-up project left containers: %q", left)
		}
		if nets := u.MustBox(t, "network", "ls", "-q", "--filter", "name=taker_default").Stdout; nets != "" {
			t.Errorf("down of the half-up project left its network: %q", nets)
		}
		if got := u.MustBox(t, "compose", "-f", files[0], "ps", "--format", "{{.Name}} {{.State}}").Stdout; got != "holder-side-1 running\nholder-web-1 running\n" {
			t.Errorf("the first project after the second's failure and down: %q", got)
		}
	})
}

// TestComposeLinks: a service's links give it the linked service under
// the alias, on the project's network, and only it: another service
// does not resolve the alias.
func TestComposeLinks(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "linked", map[string]string{"compose.yaml": `services:
  api:
    image: busybox
    command: ["sh", "-c", "echo linked-api > /i; exec httpd -f -p 8080 -h /"]
  client:
    image: busybox
    command: ["sleep", "600"]
    links: ["api:backend"]
  other:
    image: busybox
    command: ["sleep", "600"]
`})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "0") })
		mustCompose(t, u, RunOpts{Timeout: 2 * time.Minute}, "-f", file, "up", "-d")
		if r := untilIn(t, u, "linked-client-1", "wget -qO- http://backend:8080/i | grep -q linked-api"); r.Code != 0 {
			t.Errorf("client does not reach api by its link alias: %s", r)
		}
		if r := u.Box(t, "exec", "linked-other-1", "nslookup", "backend"); r.Code == 0 {
			t.Errorf("the link alias resolves for a service without the link: %s", r)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", "{{json .HostConfig.Links}}", "linked-client-1"), `["/linked-api-1:/linked-client-1/backend"]`)
	})
}

// TestComposeRunFlags: compose run's -p, -v, -l and --cap-drop add to
// the service's own, as Docker Compose's do.
func TestComposeRunFlags(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		dir := composeProject(t, u, "runflags", map[string]string{"compose.yaml": `services:
  web:
    image: busybox
    command: ["sh", "-c", "echo runflags > /data/i; exec httpd -f -p 8080 -h /data"]
    labels: {kept: "yes"}
`})
		data := filepath.Join(dir, "data")
		if err := os.Mkdir(data, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(data, 0o777)
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", "rf-web")
			u.Box(t, "compose", "-f", file, "down", "-t", "0")
		})
		mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", file, "run", "-d", "--name", "rf-web", "-p", port+":8080", "-v", data+":/data", "-l", "team=blue", "--cap-drop", "NET_RAW", "web")
		if got := fetch(t, "http://127.0.0.1:"+port+"/i"); got != "runflags\n" {
			t.Errorf("the one-off's -p and -v: fetched %q", got)
		}
		wantOut(t, u.MustBox(t, "inspect", "-f", `{{index .Config.Labels "team"}} {{index .Config.Labels "kept"}} {{.HostConfig.CapDrop}}`, "rf-web"), "blue yes [CAP_NET_RAW]")
	})
}

// TestComposeNetworkKeys: a network's driver_opts reach it as network
// create's -o does, and what box's networks cannot do (IPv6, a second
// subnet) stops up before it makes anything.
func TestComposeNetworkKeys(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "netkeys", map[string]string{
			"compose.yaml": `services:
  a:
    image: busybox
    command: ["sleep", "600"]
networks:
  default:
    driver_opts: {com.docker.network.driver.mtu: "1400"}
    ipam: {config: [{subnet: 10.89.77.0/24}]}
`,
			"v6.yaml": `services:
  a:
    image: busybox
networks:
  default:
    enable_ipv6: true
`,
		})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() {
			u.Box(t, "compose", "-f", file, "down", "-t", "0")
			u.Box(t, "compose", "-f", filepath.Join(dir, "v6.yaml"), "-p", "netkeys6", "down", "-t", "0")
		})
		mustCompose(t, u, RunOpts{Timeout: time.Minute}, "-f", file, "up", "-d")
		wantOut(t, u.MustBox(t, "network", "inspect", "-f", `{{index .Options "com.docker.network.driver.mtu"}} {{(index .IPAM.Config 0).Subnet}}`, "netkeys_default"), "1400 10.89.77.0/24")
		r := u.Box(t, "compose", "-f", filepath.Join(dir, "v6.yaml"), "-p", "netkeys6", "up", "-d")
		if r.Code == 0 || !strings.Contains(strings.ToLower(r.Stderr), "ipv6") {
			t.Errorf("enable_ipv6: want a refusal naming IPv6: %s", r)
		}
		if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=netkeys6").Stdout; left != "" {
			t.Errorf("the refused up made containers: %q", left)
		}
	})
}
