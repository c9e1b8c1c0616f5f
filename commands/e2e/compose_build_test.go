package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// composeBuilt is a project with two built services: web from a
// Dockerfile of another name in a sub-directory (a relative context),
// with a build argument, a target stage that is not the last and
// labels; inline from a dockerfile_inline. Neither names an image, so
// they run builtapp-web and builtapp-inline.
const composeBuilt = `services:
  web:
    build:
      context: ./app
      dockerfile: Dockerfile.web
      args:
        GREETING: hello
      target: final
      labels:
        org.example.team: box
    init: true
    command: ["sleep", "600"]
  inline:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo inline > /inline
    init: true
    command: ["sleep", "600"]
`

const composeBuiltDockerfile = `FROM busybox AS base
ARG GREETING=none
RUN echo "$GREETING" > /greeting
FROM base AS final
RUN echo STAGE > /stage
FROM base AS other
RUN echo other > /stage
`

// composeImageLabels are an image's labels.
func composeImageLabels(t *testing.T, u *User, image string) map[string]string {
	t.Helper()
	var labels map[string]string
	out := u.MustBox(t, "image", "inspect", "-f", "{{json .Config.Labels}}", image).Stdout
	if err := json.Unmarshal([]byte(out), &labels); err != nil {
		t.Fatalf("labels of %s %q: %v", image, out, err)
	}
	return labels
}

// TestComposeBuild: up builds the images of services with build:,
// named PROJECT-SERVICE and labelled as Docker Compose labels them, and
// runs them; an unchanged up neither builds nor recreates; a changed
// Dockerfile is rebuilt only with --build, and then only the service
// whose image changed is recreated; compose build takes --build-arg and
// -q; down --rmi local removes the built images and keeps busybox.
func TestComposeBuild(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "Built App", map[string]string{"compose.yaml": composeBuilt})
		app := filepath.Join(dir, "app")
		if err := os.Mkdir(app, 0o755); err != nil {
			t.Fatal(err)
		}
		dockerfile := filepath.Join(app, "Dockerfile.web")
		writeDockerfile := func(stage string) {
			if err := os.WriteFile(dockerfile, []byte(strings.Replace(composeBuiltDockerfile, "STAGE", stage, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writeDockerfile("final")
		file := filepath.Join(dir, "compose.yaml")
		long := RunOpts{Timeout: 4 * time.Minute}
		// A run killed before its down leaves the images: start clean.
		u.Box(t, "rmi", "-f", "builtapp-web", "builtapp-inline")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "1", "--rmi", "local") })

		r := u.BoxWith(t, long, "compose", "-f", file, "up", "-d")
		if r.Code != 0 {
			t.Fatalf("up -d: %s", r)
		}
		for _, want := range []string{" Image builtapp-web  Built", " Image builtapp-inline  Built", " Container builtapp-web-1  Started"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("up's progress lacks %q:\n%s", want, r.Stderr)
			}
		}
		if strings.Index(r.Stderr, "Image builtapp-web  Built") > strings.Index(r.Stderr, "Network builtapp_default  Creat") {
			t.Errorf("up made the network before building:\n%s", r.Stderr)
		}
		exec := func(service string, cmd ...string) string {
			return u.MustBox(t, append([]string{"compose", "-f", file, "exec", "-T", service}, cmd...)...).Stdout
		}
		if got := exec("web", "cat", "/greeting", "/stage"); got != "hello\nfinal\n" {
			t.Errorf("web's build arg and target stage: %q", got)
		}
		if got := exec("inline", "cat", "/inline"); got != "inline\n" {
			t.Errorf("inline's Dockerfile: %q", got)
		}
		if got := u.MustBox(t, "compose", "-f", file, "run", "--rm", "--no-deps", "inline", "cat", "/inline").Stdout; got != "inline\n" {
			t.Errorf("run --rm inline: %q", got)
		}
		labels := composeImageLabels(t, u, "builtapp-web")
		for k, v := range map[string]string{"com.docker.compose.project": "builtapp", "com.docker.compose.service": "web", "org.example.team": "box"} {
			if labels[k] != v {
				t.Errorf("image label %s = %q, want %q (all: %v)", k, labels[k], v, labels)
			}
		}
		if labels["com.docker.compose.version"] == "" {
			t.Errorf("image has no com.docker.compose.version label: %v", labels)
		}
		if got := u.MustBox(t, "inspect", "-f", "{{.Config.Image}}", "builtapp-web-1").Stdout; got != "builtapp-web\n" {
			t.Errorf("web runs image %q", got)
		}
		imageID := strings.TrimSpace(u.MustBox(t, "image", "inspect", "-f", "{{.Id}}", "builtapp-web").Stdout)
		if got := u.MustBox(t, "inspect", "-f", `{{index .Config.Labels "com.docker.compose.image"}}`, "builtapp-web-1").Stdout; got != imageID+"\n" {
			t.Errorf("container's com.docker.compose.image %q, image id %q", got, imageID)
		}

		// Unchanged: nothing built, nothing recreated.
		before := composeIDs(t, u, file)
		r = u.BoxWith(t, long, "compose", "-f", file, "up", "-d")
		if r.Code != 0 {
			t.Fatalf("second up: %s", r)
		}
		if strings.Contains(r.Stderr, "Building") || strings.Contains(r.Stderr, "Recreate") {
			t.Errorf("unchanged up built or recreated:\n%s", r.Stderr)
		}
		// A changed Dockerfile: up uses the image it has; up --build
		// rebuilds, and recreates web only (inline's image is the same).
		writeDockerfile("final2")
		r = u.BoxWith(t, long, "compose", "-f", file, "up", "-d")
		if r.Code != 0 || strings.Contains(r.Stderr, "Building") {
			t.Errorf("up without --build after a change built: %s", r)
		}
		r = u.BoxWith(t, long, "compose", "-f", file, "up", "-d", "--build")
		if r.Code != 0 {
			t.Fatalf("up --build: %s", r)
		}
		after := composeIDs(t, u, file)
		if after["builtapp-web-1"] == before["builtapp-web-1"] || after["builtapp-inline-1"] != before["builtapp-inline-1"] {
			t.Errorf("up --build should recreate web only: %v -> %v\n%s", before, after, r.Stderr)
		}
		if got := exec("web", "cat", "/stage"); got != "final2\n" {
			t.Errorf("rebuilt web's stage: %q", got)
		}

		// compose build: one service, --build-arg over the file's, -q.
		r = u.BoxWith(t, long, "compose", "-f", file, "build", "-q", "--build-arg", "GREETING=bye", "web")
		if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("build -q web: %s", r)
		}
		if got := u.MustBox(t, "run", "--rm", "builtapp-web", "cat", "/greeting").Stdout; got != "bye\n" {
			t.Errorf("compose build --build-arg: /greeting %q", got)
		}
		r = u.BoxWith(t, long, "compose", "-f", file, "build", "inline")
		if r.Code != 0 || !strings.Contains(r.Stderr, " Image builtapp-inline  Built") || !strings.Contains(r.Stderr, "Step 1/2 : FROM busybox") {
			t.Errorf("build inline: %s", r)
		}
		if r := u.Box(t, "compose", "-f", file, "build", "nosuch"); r.Code == 0 || !strings.Contains(r.Stderr, "no such service: nosuch") {
			t.Errorf("build nosuch: %s", r)
		}

		// down --rmi local: the built images go, busybox stays.
		r = u.BoxWith(t, long, "compose", "-f", file, "down", "-t", "1", "--rmi", "local")
		if r.Code != 0 || !strings.Contains(r.Stderr, " Image builtapp-web:latest  Removed") {
			t.Errorf("down --rmi local: %s", r)
		}
		for _, img := range []string{"builtapp-web", "builtapp-inline"} {
			if r := u.Box(t, "image", "inspect", img); r.Code == 0 {
				t.Errorf("%s left after down --rmi local", img)
			}
		}
		if r := u.Box(t, "image", "inspect", "busybox"); r.Code != 0 {
			t.Errorf("down --rmi local removed the pulled busybox: %s", r)
		}
	})
}

// TestComposeBuildFails: a service whose build fails stops up before
// anything of the project is made, with one error naming the service
// and Docker Compose's exit code 1; --no-build with a missing image
// fails the same way, naming service and image.
func TestComposeBuildFails(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "brokenapp", map[string]string{"compose.yaml": `services:
  db:
    image: busybox
    command: ["sleep", "600"]
  app:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo building; exit 3
    depends_on: [db]
`})
		file := filepath.Join(dir, "compose.yaml")
		long := RunOpts{Timeout: 4 * time.Minute}
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "1", "--rmi", "local") })
		nothing := func(what string) {
			t.Helper()
			if left := u.MustBox(t, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=brokenapp").Stdout; left != "" {
				t.Errorf("%s left containers: %q", what, left)
			}
			if nets := u.MustBox(t, "network", "ls", "-q", "-f", "name=brokenapp").Stdout; nets != "" {
				t.Errorf("%s left networks: %q", what, nets)
			}
		}

		r := u.BoxWith(t, long, "compose", "-f", file, "up", "-d")
		if r.Code != 1 {
			t.Errorf("up with a failing build: want exit 1, got %s", r)
		}
		if !strings.Contains(r.Stderr, `service "app" failed to build: The command '/bin/sh -c echo building; exit 3' returned a non-zero code: 3`) {
			t.Errorf("up's error does not name the service and the failure:\n%s", r.Stderr)
		}
		nothing("a failed build")

		r = u.BoxWith(t, long, "compose", "-f", file, "up", "-d", "--no-build")
		if r.Code != 1 || !strings.Contains(r.Stderr, `service "app": image brokenapp-app not found`) {
			t.Errorf("up --no-build without the image: %s", r)
		}
		nothing("up --no-build")
		if r := u.Box(t, "compose", "-f", file, "up", "-d", "--build", "--no-build"); r.Code != 125 {
			t.Errorf("--build with --no-build: %s", r)
		}
	})
}

// TestComposePushPull: compose push sends the image of a service that
// builds one under its image: name to the registry, compose pull gets
// it back and pulls busybox, and skips the service with only build:.
func TestComposePushPull(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		image := regRef("composepush/" + u.Mode + "-" + pullUnique(t) + ":v1")
		dir := composeProject(t, u, "pushapp", map[string]string{"compose.yaml": `services:
  app:
    image: ` + image + `
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo pushed > /pushed
  local:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo local > /local
  db:
    image: busybox
`})
		file := filepath.Join(dir, "compose.yaml")
		long := RunOpts{Timeout: 4 * time.Minute}
		t.Cleanup(func() {
			u.Box(t, "compose", "-f", file, "down", "--rmi", "local")
			u.Box(t, "rmi", image)
		})

		if r := u.BoxWith(t, long, "compose", "-f", file, "build"); r.Code != 0 {
			t.Fatalf("build: %s", r)
		}
		r := u.BoxWith(t, long, "compose", "-f", file, "push")
		if r.Code != 0 || !strings.Contains(r.Stderr, " Image "+image+"  Pushed") || !strings.Contains(r.Stderr, " Service db  Skipped") || strings.Contains(r.Stderr, "pushapp-local") {
			t.Fatalf("push: %s", r)
		}
		u.MustBox(t, "rmi", image)
		r = u.BoxWith(t, long, "compose", "-f", file, "pull")
		if r.Code != 0 || !strings.Contains(r.Stderr, " Image "+image+"  Pulled") || !strings.Contains(r.Stderr, " Image busybox  Pulled") || !strings.Contains(r.Stderr, " Service local  Skipped") {
			t.Fatalf("pull: %s", r)
		}
		if got := u.MustBox(t, "run", "--rm", image, "cat", "/pushed").Stdout; got != "pushed\n" {
			t.Errorf("pulled image's file: %q", got)
		}
		if r := u.BoxWith(t, long, "compose", "-f", file, "pull", "-q", "db"); r.Code != 0 || r.Stderr != "" {
			t.Errorf("pull -q db: %s", r)
		}

		// A service whose image is nowhere: pull fails, naming it, unless
		// --ignore-pull-failures.
		missing := regRef("composepush/missing-" + pullUnique(t) + ":v1")
		bad := composeProject(t, u, "pullfail", map[string]string{"compose.yaml": "services:\n  gone:\n    image: " + missing + "\n"})
		badFile := filepath.Join(bad, "compose.yaml")
		if r := u.BoxWith(t, long, "compose", "-f", badFile, "pull"); r.Code == 0 || !strings.Contains(r.Stderr, `service "gone"`) {
			t.Errorf("pull of a missing image: %s", r)
		}
		if r := u.BoxWith(t, long, "compose", "-f", badFile, "pull", "--ignore-pull-failures"); r.Code != 0 {
			t.Errorf("pull --ignore-pull-failures: %s", r)
		}

		// up of a service whose image: is nowhere but that has build:
		// tries the pull, then builds it under that name, as Docker
		// Compose does.
		fallback := composeProject(t, u, "fallback", map[string]string{"compose.yaml": `services:
  app:
    image: ` + missing + `
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo fallback > /fallback
    command: ["cat", "/fallback"]
`})
		fbFile := filepath.Join(fallback, "compose.yaml")
		t.Cleanup(func() {
			u.Box(t, "compose", "-f", fbFile, "down", "--rmi", "all")
		})
		r = u.BoxWith(t, long, "compose", "-f", fbFile, "up", "-d")
		if r.Code != 0 || !strings.Contains(r.Stderr, " Image "+missing+"  Warning") || !strings.Contains(r.Stderr, " Image "+missing+"  Built") {
			t.Fatalf("up of a buildable service whose pull fails: %s", r)
		}
		u.MustBox(t, "wait", "fallback-app-1")
		if got := u.MustBox(t, "compose", "-f", fbFile, "logs", "--no-log-prefix", "app").Stdout; got != "fallback\n" {
			t.Errorf("fallback's output: %q", got)
		}
		// down --rmi all: the service's named image goes too.
		u.MustBox(t, "compose", "-f", fbFile, "down", "--rmi", "all")
		if r := u.Box(t, "image", "inspect", missing); r.Code == 0 {
			t.Errorf("%s left after down --rmi all", missing)
		}
	})
}

// TestComposeBuildGitContext: a service's build context may be a Git
// repository URL with a ref and a sub-directory, as box build takes it.
func TestComposeBuildGitContext(t *testing.T) {
	srv := newContextServer(t)
	srv.gitRepos(t)
	forEachUser(t, func(t *testing.T, u *User) {
		dir := composeProject(t, u, "gitapp", map[string]string{"compose.yaml": `services:
  sub:
    build: ` + srv.url + `/git/repo.git#v1:sub
  head:
    build:
      context: ` + srv.url + `/git/repo.git
      dockerfile: sub/Dockerfile
`})
		file := filepath.Join(dir, "compose.yaml")
		long := RunOpts{Timeout: 4 * time.Minute}
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "--rmi", "local") })
		if r := u.BoxWith(t, long, "compose", "-f", file, "build"); r.Code != 0 {
			t.Fatalf("build: %s", r)
		}
		if got := u.MustBox(t, "run", "--rm", "gitapp-sub").Stdout; got != "sub at v1\n" {
			t.Errorf("gitapp-sub from #v1:sub: %q", got)
		}
		// The dockerfile is a path in the repository; the context is its root.
		if got := u.MustBox(t, "run", "--rm", "gitapp-head", "cat", "/sub/hello").Stdout; got != "second\n" {
			t.Errorf("gitapp-head with dockerfile sub/Dockerfile: %q", got)
		}
	})
}
