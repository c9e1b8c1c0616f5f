package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kubeApp is two Pods on play's network: web serves a ConfigMap's
// page with busybox httpd (an exec liveness probe, a published port)
// and has a sidecar that reads it over the Pod's localhost; client
// fetches it by the Pod's name.
const kubeApp = `apiVersion: v1
kind: ConfigMap
metadata:
  name: site
data:
  index.html: hello-kube
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports:
    - containerPort: 8080
      hostPort: HOSTPORT
    volumeMounts:
    - {name: site, mountPath: /www}
    livenessProbe:
      exec:
        command: ["wget", "-qO-", "http://127.0.0.1:8080/"]
      periodSeconds: 1
      failureThreshold: 30
  - name: sidecar
    image: busybox
    command: ["sh", "-c", "until wget -qO /tmp/got http://localhost:8080/; do sleep 0.2; done; exec sleep 600"]
  volumes:
  - name: site
    configMap: {name: site}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: fetch
    image: busybox
    command: ["sh", "-c", "until wget -qO /tmp/got http://web:8080/; do sleep 0.2; done; exec sleep 600"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 8080}]
`

// kubeFile writes body as NAME in a new world-readable directory.
func kubeFile(t *testing.T, u *User, name, body string) string {
	t.Helper()
	return filepath.Join(composeProject(t, u, "kube", map[string]string{name: body}), name)
}

// waitFile waits until `cat FILE` in container prints want.
func waitFile(t *testing.T, u *User, ctr, file, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := u.Box(t, "exec", ctr, "cat", file)
		if r.Code == 0 && r.Stdout == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's %s never said %q: %s", ctr, file, want, r)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// kubeLeftovers are the containers, volumes and networks play's labels
// or names still mark.
func kubeLeftovers(t *testing.T, u *User) string {
	t.Helper()
	var out []string
	if s := strings.TrimSpace(u.MustBox(t, "ps", "-a", "--filter", "label=io.box.kube.play", "--format", "{{.Names}}").Stdout); s != "" {
		out = append(out, "containers: "+s)
	}
	if s := strings.TrimSpace(u.MustBox(t, "volume", "ls", "-q", "--filter", "label=io.box.kube.pod").Stdout); s != "" {
		out = append(out, "volumes: "+s)
	}
	if s := strings.TrimSpace(u.MustBox(t, "network", "ls", "--format", "{{.Name}}", "--filter", "name=kube").Stdout); s != "" {
		out = append(out, "networks: "+s)
	}
	return strings.Join(out, "; ")
}

// kubeDownLeavesNothing runs kube down of file and reports what it
// left; false when something was.
func kubeDownLeavesNothing(t *testing.T, u *User, file string) bool {
	t.Helper()
	u.MustBox(t, "kube", "down", file)
	if left := kubeLeftovers(t, u); left != "" {
		t.Errorf("down of %s left %s", filepath.Base(file), left)
		return false
	}
	return true
}

// TestKubePlayApp plays the two-Pod app: the page is served on the
// published port, the sidecar reaches it over the Pod's localhost, the
// client by the Pod's name, the probe makes the container healthy, the
// Service is skipped with a warning; a second play is refused, down
// leaves nothing and a replayed app serves again.
func TestKubePlayApp(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		file := kubeFile(t, u, "app.yaml", strings.Replace(kubeApp, "HOSTPORT", port, 1))
		t.Cleanup(func() { u.Box(t, "kube", "down", file) })

		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", file)
		if r.Code != 0 {
			t.Fatalf("kube play: %s", r)
		}
		if !strings.Contains(r.Stdout, "Pod:\nweb\nContainers:\nweb-httpd\nweb-sidecar\n") {
			t.Errorf("play's report:\n%s", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "Service web: box does not run this kind; skipped") {
			t.Errorf("no warning for the Service:\n%s", r.Stderr)
		}
		waitFile(t, u, "web-sidecar", "/tmp/got", "hello-kube")
		waitFile(t, u, "client-fetch", "/tmp/got", "hello-kube")
		if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "hello-kube" {
			t.Errorf("published port served %q", got)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			h := strings.TrimSpace(u.MustBox(t, "inspect", "--format", "{{.State.Health.Status}}", "web-httpd").Stdout)
			if h == "healthy" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("web-httpd's probe never made it healthy: %q", h)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if got := u.MustBox(t, "inspect", "--format", `{{index .Config.Labels "io.box.kube.pod"}} {{index .Config.Labels "app"}}`, "web-httpd").Stdout; got != "web web\n" {
			t.Errorf("labels: %q", got)
		}

		again := u.Box(t, "kube", "play", file)
		if again.Code != 125 || !strings.Contains(again.Stderr, `pod "web" already exists`) {
			t.Errorf("second play: %s", again)
		}

		kubeDownLeavesNothing(t, u, file)

		// play --replace on a fresh play, and play --down, as Podman spells them.
		u.MustBox(t, "play", "kube", file)
		u.MustBox(t, "kube", "play", "--replace", file)
		waitFile(t, u, "client-fetch", "/tmp/got", "hello-kube")
		u.MustBox(t, "kube", "play", "--down", file)
		if left := kubeLeftovers(t, u); left != "" {
			t.Errorf("play --down left %s", left)
		}
	})
}

// TestKubePlayRefuses: malformed and hostile manifests fail with one
// line naming the problem and exit 125, making nothing.
func TestKubePlayRefuses(t *testing.T) {
	pod := func(spec string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n" + spec
	}
	base := map[string]struct{ yaml, want string }{
		"unknown field": {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + pod("  containers:\n  - name: a\n    image: busybox\n    imagee: x\n"), `document 2 (Pod bad): json: unknown field "imagee"`},
		"bad yaml":      {"kind: Pod\nmetadata: [\n", "document 1: "},
		"hostPath /":    {pod("  containers:\n  - name: a\n    image: busybox\n  volumes:\n  - name: root\n    hostPath: {path: /}\n"), `volume "root": hostPath / would hand the container the whole host`},
		"replicas":      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: many}\nspec:\n  replicas: 100000\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: a, image: busybox}]\n", "replicas 100000: box runs from 0 to 100 replicas on one machine"},
	}
	forEachUser(t, func(t *testing.T, u *User) {
		cases := maps.Clone(base)
		if u.Mode != "root" {
			cases["privileged"] = struct{ yaml, want string }{pod("  containers:\n  - name: a\n    image: busybox\n    securityContext: {privileged: true}\n"), "securityContext.privileged: a rootless box cannot grant"}
		}
		for name, c := range cases {
			file := kubeFile(t, u, "bad.yaml", c.yaml)
			r := u.Box(t, "kube", "play", file)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code != 125 || len(lines) != 1 || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("%s: want exit 125 and one line with %q: %s", name, c.want, r)
			}
		}
		if left := kubeLeftovers(t, u); left != "" {
			t.Errorf("refused plays left %s", left)
		}
	})
}

// kubeRoundTrip is a Pod whose page comes from its own command, and a
// client that fetches it by the Pod's name.
const kubeRoundTrip = `apiVersion: v1
kind: Pod
metadata:
  name: rt-web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: ["sh", "-c", "[ -f /www/index.html ] || echo round-trip > /www/index.html; exec httpd -f -p 8080 -h /www"]
    ports:
    - {containerPort: 8080, hostPort: HOSTPORT}
    resources:
      limits: {memory: 64Mi}
    livenessProbe:
      exec: {command: ["wget", "-qO-", "http://127.0.0.1:8080/"]}
      periodSeconds: 1
    volumeMounts: [{name: site, mountPath: /www}]
  volumes:
  - {name: site, persistentVolumeClaim: {claimName: rtsite}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: rtsite}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Mi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: rt-client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: fetch
    image: busybox
    command: ["sh", "-c", "until wget -qO /tmp/got http://rt-web:8080/; do sleep 0.2; done; exec sleep 600"]
`

// TestKubeGenerateRoundTrip plays an app, generates each Pod back (YAML
// that decodes strictly into the Kubernetes types and keeps image,
// command, port, limit, probe and the PersistentVolumeClaim), tears it
// down, plays the generated YAML and finds it serving the same, from
// the same volume.
func TestKubeGenerateRoundTrip(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		port := strconv.Itoa(hostPort(t))
		file := kubeFile(t, u, "rt.yaml", strings.Replace(kubeRoundTrip, "HOSTPORT", port, 1))
		t.Cleanup(func() {
			u.Box(t, "kube", "down", file)
			u.Box(t, "volume", "rm", "rtsite")
		})
		u.MustBox(t, "kube", "play", file)
		waitFile(t, u, "rt-client-fetch", "/tmp/got", "round-trip\n")
		// What the claim's volume holds comes back with the generated YAML.
		u.MustBox(t, "exec", "rt-web-httpd", "sh", "-c", "echo kept > /www/index.html")

		web := u.MustBox(t, "kube", "generate", "--service", "rt-web-httpd")
		if web.Stderr != "WARNING: volume rtsite is a PersistentVolumeClaim of 1Gi (ReadWriteOnce): box volumes have no size, so set the one the app needs\n" {
			t.Errorf("generate's warnings: want only the claim's size:\n%s", web.Stderr)
		}
		// The client as a Deployment: played back as the Pod rt-client-pod.
		client := u.MustBox(t, "kube", "generate", "--type", "deployment", "rt-client-fetch").Stdout
		docs := strings.SplitN(web.Stdout, "\n---\n", 3)
		if len(docs) != 3 {
			t.Fatalf("generate --service gave no claim or no Service:\n%s", web.Stdout)
		}
		var claim corev1.PersistentVolumeClaim
		if err := yaml.UnmarshalStrict([]byte(docs[0]), &claim); err != nil || claim.Name != "rtsite" {
			t.Fatalf("generated claim: %v\n%s", err, docs[0])
		}
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict([]byte(docs[1]), &pod); err != nil {
			t.Fatalf("generated Pod does not decode strictly: %v\n%s", err, docs[1])
		}
		var svc corev1.Service
		if err := yaml.UnmarshalStrict([]byte(docs[2]), &svc); err != nil {
			t.Fatalf("generated Service does not decode strictly: %v\n%s", err, docs[2])
		}
		c := pod.Spec.Containers
		if pod.Name != "rt-web" || len(c) != 1 || c[0].Name != "httpd" || !strings.Contains(c[0].Image, "busybox") ||
			len(c[0].Ports) != 1 || strconv.Itoa(int(c[0].Ports[0].HostPort)) != port || c[0].Ports[0].ContainerPort != 8080 ||
			c[0].LivenessProbe == nil || c[0].LivenessProbe.Exec == nil || c[0].Resources.Limits.Memory().String() != "64Mi" ||
			len(c[0].Command) == 0 || !strings.Contains(strings.Join(append(c[0].Command, c[0].Args...), " "), "httpd -f -p 8080") {
			t.Errorf("generated Pod differs from the played one:\n%s", docs[1])
		}
		if v := pod.Spec.Volumes; len(v) != 1 || v[0].PersistentVolumeClaim == nil || v[0].PersistentVolumeClaim.ClaimName != "rtsite" {
			t.Errorf("generated Pod's volumes: %+v", v)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8080 || svc.Spec.Selector["app"] != "rt-web" {
			t.Errorf("generated Service:\n%s", docs[2])
		}

		if !kubeDownLeavesNothing(t, u, file) {
			t.FailNow()
		}
		gen := kubeFile(t, u, "gen.yaml", web.Stdout+"---\n"+client)
		t.Cleanup(func() { u.Box(t, "kube", "down", gen) })
		// --publish moves the generated hostPort elsewhere.
		port2 := strconv.Itoa(hostPort(t))
		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", "--publish", port2+":8080", gen)
		if r.Code != 0 {
			t.Fatalf("play of the generated YAML: %s", r)
		}
		waitFile(t, u, "rt-client-pod-fetch", "/tmp/got", "kept\n")
		if got := fetch(t, "http://127.0.0.1:"+port2+"/"); got != "kept\n" {
			t.Errorf("replayed app served %q on --publish's port", got)
		}
		kubeDownLeavesNothing(t, u, gen)
	})
}

// kubeJob is a multi-document manifest: a ConfigMap and a Secret given
// as env and as files, an init container filling a PVC, and a Job that
// reads all of it once.
const kubeJob = `apiVersion: v1
kind: ConfigMap
metadata: {name: jobcfg}
data: {GREETING: hello, conf.txt: from-configmap}
---
apiVersion: v1
kind: Secret
metadata: {name: jobsec}
data: {TOKEN: czNjcmV0}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kubejobdata}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - name: fill
        image: busybox
        command: ["sh", "-c", "echo from-init > /data/init.txt"]
        volumeMounts: [{name: data, mountPath: /data}]
      containers:
      - name: run
        image: busybox
        command: ["sh", "-c", "echo $GREETING $TOKEN; cat /data/init.txt /cfg/conf.txt /sec/TOKEN; echo; id -u"]
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: jobcfg, key: GREETING}}
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: jobsec, key: TOKEN}}
        securityContext: {runAsUser: UID}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cfg, mountPath: /cfg}
        - {name: sec, mountPath: /sec}
      volumes:
      - {name: data, persistentVolumeClaim: {claimName: kubejobdata}}
      - {name: cfg, configMap: {name: jobcfg}}
      - {name: sec, secret: {secretName: jobsec}}
`

// TestKubePlayJob plays the Job: the init container runs first, the Job
// once, with env and files from the ConfigMap and Secret and the PVC's
// volume; down removes all but the PVC's volume, which keeps the
// user's data as Podman keeps it.
func TestKubePlayJob(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		// Without a subordinate range only root (the user) is mapped.
		uid := "1234"
		if u.Mode == "norange" {
			uid = "0"
		}
		job := strings.Replace(kubeJob, "UID", uid, 1)
		file := kubeFile(t, u, "job.yaml", job)
		t.Cleanup(func() {
			u.Box(t, "kube", "down", file)
			u.Box(t, "volume", "rm", "kubejobdata")
		})
		// Standard input, as "-".
		r := u.BoxWith(t, RunOpts{Stdin: job, Timeout: 3 * time.Minute}, "kube", "play", "-")
		if r.Code != 0 {
			t.Fatalf("kube play -: %s", r)
		}
		if code := strings.TrimSpace(u.MustBox(t, "wait", "report-pod-run").Stdout); code != "0" {
			t.Errorf("the Job exited %s: %s", code, u.Box(t, "logs", "report-pod-run"))
		}
		if got := u.MustBox(t, "logs", "report-pod-run").Stdout; got != "hello s3cret\nfrom-init\nfrom-configmaps3cret\n"+uid+"\n" {
			t.Errorf("the Job saw:\n%s", got)
		}
		if s := u.MustBox(t, "ps", "-a", "--filter", "label=io.box.kube.init", "--format", "{{.Names}}").Stdout; s != "" {
			t.Errorf("the init container was left: %s", s)
		}
		kubeDownLeavesNothing(t, u, file)
		if vols := u.MustBox(t, "volume", "ls", "-q").Stdout; !strings.Contains(vols, "kubejobdata\n") {
			t.Errorf("down removed the PVC's volume: %q", vols)
		}
	})
}

// TestKubePlayNoStart: --start=false creates a Deployment's replicas'
// containers without starting them (init containers do not run), each
// replica a Pod of its own; down removes them.
func TestKubePlayNoStart(t *testing.T) {
	const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: idle}
spec:
  replicas: 2
  selector: {matchLabels: {app: idle}}
  template:
    metadata: {labels: {app: idle}}
    spec:
      containers:
      - {name: a, image: busybox, command: [sleep, "600"]}
      - {name: b, image: busybox, command: [sleep, "600"]}
`
	forEachUser(t, func(t *testing.T, u *User) {
		file := kubeFile(t, u, "idle.yaml", deploy)
		t.Cleanup(func() { u.Box(t, "kube", "down", file) })
		u.MustBox(t, "kube", "play", "--start=false", file)
		got := u.MustBox(t, "ps", "-a", "--filter", "label=io.box.kube.play", "--format", "{{.Names}} {{.State}}").Stdout
		for _, want := range []string{"idle-pod-a created", "idle-pod-b created", "idle-pod-1-a created", "idle-pod-1-b created"} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("ps lacks %q:\n%s", want, got)
			}
		}
		kubeDownLeavesNothing(t, u, file)
	})
}

// kubeCompose is a compose project whose client reaches its api by the
// service's name.
const kubeCompose = `services:
  api:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo from-compose > /www/index.html && exec httpd -f -p 8080 -h /www"]
    expose: ["8080"]
  client:
    image: busybox
    command: ["sh", "-c", "until wget -qO /tmp/got http://api:8080/; do sleep 0.2; done; exec sleep 600"]
`

// TestKubeGenerateCompose generates a running compose project as a
// Deployment and a Service per service (strictly decoded), and plays
// it back after compose down: the client reaches the api by the same
// name.
func TestKubeGenerateCompose(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		requirePasta(t)
		dir := composeProject(t, u, "kubeproj", map[string]string{"compose.yaml": kubeCompose})
		file := filepath.Join(dir, "compose.yaml")
		t.Cleanup(func() { u.Box(t, "compose", "-f", file, "down", "-t", "1") })
		if r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "compose", "-f", file, "up", "-d"); r.Code != 0 {
			t.Fatalf("compose up: %s", r)
		}
		waitFile(t, u, "kubeproj-client-1", "/tmp/got", "from-compose\n")
		gen := u.MustBox(t, "kube", "generate", "--service", "-p", "kubeproj").Stdout
		kinds := map[string]int{}
		for _, doc := range strings.Split(gen, "\n---\n") {
			var h struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
				t.Fatal(err)
			}
			kinds[h.Kind]++
			var err error
			switch h.Kind {
			case "Deployment":
				err = yaml.UnmarshalStrict([]byte(doc), &appsv1.Deployment{})
			case "Service":
				err = yaml.UnmarshalStrict([]byte(doc), &corev1.Service{})
			}
			if err != nil {
				t.Errorf("%s does not decode strictly: %v\n%s", h.Kind, err, doc)
			}
		}
		if kinds["Deployment"] != 2 || kinds["Service"] != 2 {
			t.Fatalf("generate -p: %v\n%s", kinds, gen)
		}
		u.MustBox(t, "compose", "-f", file, "down", "-t", "1")

		kf := kubeFile(t, u, "proj.yaml", gen)
		t.Cleanup(func() { u.Box(t, "kube", "down", kf) })
		if r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", kf); r.Code != 0 {
			t.Fatalf("play of the generated project: %s", r)
		}
		waitFile(t, u, "client-pod-client", "/tmp/got", "from-compose\n")
		kubeDownLeavesNothing(t, u, kf)
	})
}

// kubeBuilt is a Pod whose image play builds from the directory named
// after it, as Podman's kube play --build.
const kubeBuilt = `apiVersion: v1
kind: Pod
metadata: {name: built}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/kubebuilt:test
    command: ["sh", "-c", "cat /built; exec sleep 600"]
`

// TestKubePlayBuild: play builds a missing image from DIR/NAME's
// Containerfile and runs it without pulling, builds it again only with
// --build, refuses --context-dir with --build=false,
// and a build that fails makes nothing and tags nothing.
func TestKubePlayBuild(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		file := kubeFile(t, u, "built.yaml", kubeBuilt)
		dir := filepath.Dir(file)
		containerfile := func(body string) {
			t.Helper()
			sub := filepath.Join(dir, "kubebuilt")
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "Containerfile"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			u.Box(t, "kube", "down", file)
			u.Box(t, "rmi", "-f", "localhost/kubebuilt:test")
		})

		// A failing build: play says which image, makes nothing.
		containerfile("FROM busybox\nRUN echo nope && false\n")
		r := u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", "--context-dir", dir, file)
		if r.Code != 125 || !strings.Contains(r.Stderr, "build localhost/kubebuilt:test") {
			t.Errorf("a failing build: want exit 125 naming the image, got %s", r)
		}
		if left := kubeLeftovers(t, u); left != "" {
			t.Errorf("a failed build left %s", left)
		}
		if r := u.Box(t, "image", "inspect", "localhost/kubebuilt:test"); r.Code == 0 {
			t.Errorf("a failed build tagged the image")
		}

		containerfile("FROM busybox\nRUN echo built-one > /built\n")
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", "--context-dir", dir, file)
		if r.Code != 0 || !strings.Contains(r.Stderr, "Step 2/2 : RUN echo built-one") {
			t.Fatalf("kube play of a missing image: want its build's steps, got %s", r)
		}
		waitLogs(t, u, "built-main", "built-one\n")

		// The image is there now: without --build it is used as it is.
		containerfile("FROM busybox\nRUN echo built-two > /built\n")
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", "--replace", "--context-dir", dir, file)
		if r.Code != 0 || strings.Contains(r.Stderr, "Step ") {
			t.Fatalf("kube play of a present image built it again: %s", r)
		}
		waitLogs(t, u, "built-main", "built-one\n")
		r = u.BoxWith(t, RunOpts{Timeout: 3 * time.Minute}, "kube", "play", "--replace", "--build", "--context-dir", dir, file)
		if r.Code != 0 || !strings.Contains(r.Stderr, "RUN echo built-two") {
			t.Fatalf("kube play --build: want a rebuild, got %s", r)
		}
		waitLogs(t, u, "built-main", "built-two\n")

		if r := u.Box(t, "kube", "play", "--build=false", "--context-dir", dir, file); r.Code != 125 || !strings.Contains(r.Stderr, "--context-dir") {
			t.Errorf("--build=false with --context-dir: want a usage error, got %s", r)
		}
	})
}

// kubeProbes is a Pod whose probes are of the kinds the kubelet makes
// from outside: an httpGet by a port's name, a tcpSocket, and an httpGet
// of a page that is not there.
const kubeProbes = `apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    livenessProbe:
      httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-Probe, value: box}]}
      periodSeconds: 1
  - name: tcp
    image: busybox
    command: ["nc", "-lk", "-p", "9090", "-e", "true"]
    readinessProbe:
      tcpSocket: {port: 9090}
      periodSeconds: 1
  - name: missing
    image: busybox
    command: ["sleep", "600"]
    livenessProbe:
      httpGet: {path: /nothing-here, port: 8080}
      periodSeconds: 1
      failureThreshold: 1
`

// TestKubePlayProbes: httpGet and tcpSocket probes become healthchecks
// run inside the Pod (its localhost): healthy while the server answers,
// unhealthy on a 404; play says they need wget/curl or nc/bash.
func TestKubePlayProbes(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		file := kubeFile(t, u, "probes.yaml", kubeProbes)
		t.Cleanup(func() { u.Box(t, "kube", "down", file) })
		r := u.MustBox(t, "kube", "play", file)
		for _, want := range []string{"container web: its httpGet probe runs wget or curl", "container tcp: its tcpSocket probe runs nc or bash"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("play's warnings lack %q:\n%s", want, r.Stderr)
			}
		}
		waitHealth(t, u.MustBox, "probed-web", "healthy", nil)
		waitHealth(t, u.MustBox, "probed-tcp", "healthy", nil)
		v := waitHealth(t, u.MustBox, "probed-missing", "unhealthy", nil)
		if n := len(v.State.Health.Log); n == 0 || v.State.Health.Log[n-1].ExitCode == 0 {
			t.Errorf("the failing probe's log: %+v", v.State.Health.Log)
		}
		kubeDownLeavesNothing(t, u, file)
	})
}
