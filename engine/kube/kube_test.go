package kube

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"box/engine"
	"box/engine/flags"
	"box/engine/kube/k8s"
	"box/engine/network"
	"box/storage"
)

const manifest = `# a comment-only document is not counted as an object
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {MODE: fast, index.html: hi}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {TOKEN: s3cret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsUser: 1000}
      initContainers:
      - {name: prep, image: busybox, command: [sh, -c, "echo ok > /data/x"], volumeMounts: [{name: data, mountPath: /data}]}
      containers:
      - name: srv
        image: busybox
        command: [httpd, -f]
        args: [-p, "80"]
        workingDir: /w
        env:
        - {name: A, value: "1"}
        - name: MODE
          valueFrom: {configMapKeyRef: {name: cfg, key: MODE}}
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: sec, key: TOKEN}}
        ports: [{containerPort: 80, hostPort: 8080}]
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: site, mountPath: /www}
        - {name: scratch, mountPath: /tmp/s}
        securityContext:
          runAsGroup: 2000
          readOnlyRootFilesystem: true
          capabilities: {add: [NET_ADMIN], drop: [ALL]}
        resources: {limits: {memory: 64Mi, cpu: 500m}}
        livenessProbe:
          exec: {command: [wget, -q, localhost]}
          periodSeconds: 2
          failureThreshold: 3
      - name: side
        image: busybox
        ports: [{containerPort: 9090, hostPort: 9090}]
      volumes:
      - {name: data, persistentVolumeClaim: {claimName: data}}
      - {name: site, configMap: {name: cfg, items: [{key: index.html, path: index.html}]}}
      - {name: scratch, emptyDir: {medium: Memory}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {ports: [{port: 80}]}
`

func TestDecodeAndPlan(t *testing.T) {
	m, err := Decode([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Workloads) != 1 || len(m.Skipped) != 1 || m.Skipped[0] != "Service api" {
		t.Fatalf("workloads %d, skipped %v", len(m.Workloads), m.Skipped)
	}
	w := m.Workloads[0]
	if got := w.PodNames(); strings.Join(got, ",") != "api-pod,api-pod-1" {
		t.Errorf("pod names %v", got)
	}
	var warns []string
	p := &planner{m: m, source: "/x.yaml", network: "kube", rootless: true, warn: func(f string, a ...any) { warns = append(warns, f) }}
	pp, err := p.plan(w, "api-pod")
	if err != nil {
		t.Fatal(err)
	}
	if len(pp.Init) != 1 || len(pp.Containers) != 2 {
		t.Fatalf("init %d containers %d", len(pp.Init), len(pp.Containers))
	}
	srv, side := pp.Containers[0], pp.Containers[1]
	if srv.Name != "api-pod-srv" || *srv.Entrypoint != "httpd" || strings.Join(srv.Cmd, " ") != "-f -p 80" || srv.Workdir != "/w" {
		t.Errorf("srv: %+v", srv)
	}
	if strings.Join(srv.Env, " ") != "A=1 MODE=fast TOKEN=s3cret" {
		t.Errorf("env %v", srv.Env)
	}
	if srv.User != "1000:2000" || !srv.ReadOnly || srv.CapAdd[0] != "CAP_NET_ADMIN" || srv.CapDrop[0] != "ALL" {
		t.Errorf("security: user %q ro %v add %v drop %v", srv.User, srv.ReadOnly, srv.CapAdd, srv.CapDrop)
	}
	if r := srv.Settings.Resources; r.Memory != 64<<20 || r.NanoCPUs != 500_000_000 {
		t.Errorf("resources %+v", r)
	}
	if h := srv.Health; strings.Join(h.Exec, " ") != "wget -q localhost" || h.Interval != 2*time.Second || h.Retries != 3 {
		t.Errorf("health %+v", h)
	}
	// The Pod's ports are all published from the first container, which
	// holds the network namespace the others join.
	if len(srv.Publish) != 2 || srv.Publish[1].HostPort != 9090 || len(side.Publish) != 0 {
		t.Errorf("publish: srv %v side %v", srv.Publish, side.Publish)
	}
	if srv.Network != flags.NamedNetwork("kube") || side.Network != flags.ParseNetwork("container:api-pod-srv") {
		t.Errorf("networks: %v %v", srv.Network, side.Network)
	}
	if strings.Join(srv.NetworkAliases, ",") != "api-pod,api" || srv.Restart.Name != "always" {
		t.Errorf("aliases %v restart %v", srv.NetworkAliases, srv.Restart)
	}
	mounts := map[string]flags.Mount{}
	for _, mt := range srv.Mounts {
		mounts[mt.Destination] = mt
	}
	if mt := mounts["/data"]; mt.Type != flags.Volume || mt.Source != "data" {
		t.Errorf("pvc mount %+v", mt)
	}
	if mt := mounts["/www"]; mt.Type != flags.Volume || mt.Source != "api-pod-site" || !mt.ReadOnly {
		t.Errorf("configMap mount %+v", mt)
	}
	if mt := mounts["/tmp/s"]; mt.Type != flags.Tmpfs {
		t.Errorf("emptyDir Memory mount %+v", mt)
	}
	if len(pp.Volumes) != 1 || string(pp.Volumes[0].Files["index.html"]) != "hi" {
		t.Errorf("volumes %+v", pp.Volumes)
	}
	if srv.Labels[LabelPlay] != "/x.yaml" || srv.Labels[LabelPod] != "api-pod" || srv.Labels["app"] != "api" {
		t.Errorf("labels %v", srv.Labels)
	}
}

func TestRefusals(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: busybox%s}]\n%s"
	for _, c := range []struct{ yaml, want string }{
		{strings.Replace(strings.Replace(pod, "%s", ", imagee: x", 1), "%s", "", 1), `document 1 (Pod p): json: unknown field "imagee"`},
		{"kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: b}]}\n---\nkind: Job\nmetadata: {name: Bad}\n", `document 2 (Job Bad): metadata.name "Bad"`},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 100000\n", "replicas 100000"},
		{strings.Replace(strings.Replace(pod, "%s", "", 1), "%s", "  volumes: [{name: r, hostPath: {path: /../}}]\n", 1), "hostPath / would hand"},
		{strings.Replace(strings.Replace(pod, "%s", ", securityContext: {privileged: true}", 1), "%s", "", 1), "a rootless box cannot grant"},
		{strings.Replace(strings.Replace(pod, "%s", ", env: [{name: X, valueFrom: {secretKeyRef: {name: s, key: k}}}]", 1), "%s", "", 1), `Secret "s" has no key "k"`},
	} {
		m, err := Decode([]byte(c.yaml))
		if err == nil {
			p := &planner{m: m, network: "kube", rootless: true, warn: func(string, ...any) {}}
			for _, w := range m.Workloads {
				if _, err = p.plan(w, w.PodNames()[0]); err != nil {
					break
				}
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	in := &engine.ContainerInspect{Name: "/web"}
	in.Config.Image = "busybox"
	in.Config.Entrypoint = []string{"httpd"}
	in.Config.Cmd = []string{"-f"}
	in.Config.Env = []string{"A=1", "HOSTNAME=x"}
	in.Config.User = "1000:1000"
	in.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "81/tcp": {}}
	in.Config.Healthcheck = &storage.HealthConfig{Test: []string{"CMD-SHELL", "wget -q localhost"}, Interval: 2 * time.Second, Retries: 3}
	in.HostConfig.PortBindings = engine.PortMap{"80/tcp": {{HostPort: "8080"}}}
	in.HostConfig.ReadonlyRootfs = true
	in.HostConfig.CapAdd = []string{"CAP_NET_ADMIN"}
	in.HostConfig.Memory = 64 << 20
	in.HostConfig.NanoCPUs = 500_000_000
	in.HostConfig.RestartPolicy.Name = "always"
	in.Mounts = []engine.MountPoint{
		{Type: "volume", Name: "data", Destination: "/data", RW: true},
		{Type: "bind", Source: "/srv/site", Destination: "/www"},
		{Type: "tmpfs", Destination: "/run"},
	}
	out, warns, err := Generate([]*engine.ContainerInspect{in}, GenerateOptions{Service: true})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.SplitN(string(out), "\n---\n", 3)
	var claim corev1.PersistentVolumeClaim
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &claim); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if claim.Name != "data" || claim.Spec.Resources.Requests.Storage().String() != "1Gi" || len(claim.Spec.AccessModes) != 1 || claim.Spec.AccessModes[0] != corev1.ReadWriteOnce {
		t.Errorf("the named volume's claim:\n%s", docs[0])
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &pod); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "volume data is a PersistentVolumeClaim of 1Gi") || !strings.Contains(warns[1], "hostPath") ||
		!strings.HasPrefix(string(out), "# box: volume data is a PersistentVolumeClaim") || !strings.Contains(string(out), "\n# box: container web: the bind mount") {
		t.Errorf("warnings %v\n%s", warns, out)
	}
	c := pod.Spec.Containers[0]
	if pod.Name != "web-pod" || c.Name != "web" || c.Command[0] != "httpd" || c.Args[0] != "-f" || len(c.Env) != 1 ||
		*c.SecurityContext.RunAsUser != 1000 || !*c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.Capabilities.Add[0] != "NET_ADMIN" ||
		c.Resources.Limits.Memory().String() != "64Mi" || c.Resources.Limits.Cpu().String() != "500m" ||
		pod.Spec.RestartPolicy != corev1.RestartPolicyAlways || c.LivenessProbe.Exec.Command[2] != "wget -q localhost" || c.LivenessProbe.PeriodSeconds != 2 {
		t.Errorf("pod:\n%s", out)
	}
	if len(c.Ports) != 2 || c.Ports[0].HostPort != 8080 || c.Ports[1].HostPort != 0 {
		t.Errorf("ports %+v", c.Ports)
	}
	if v := pod.Spec.Volumes; len(v) != 3 || v[0].PersistentVolumeClaim.ClaimName != "data" || v[1].HostPath.Path != "/srv/site" || v[2].EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("volumes %+v", v)
	}
	// What generate writes, play takes back.
	m, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	p := &planner{m: m, network: "kube", warn: func(string, ...any) {}}
	pp, err := p.plan(m.Workloads[0], "web-pod")
	if err != nil {
		t.Fatal(err)
	}
	if o := pp.Containers[0]; o.User != "1000:1000" || !o.ReadOnly || o.Publish[0].HostPort != 8080 || o.Settings.Resources.Memory != 64<<20 || len(o.Mounts) != 3 {
		t.Errorf("replayed: %+v", o)
	}
}

func TestGenerateTypes(t *testing.T) {
	in := &engine.ContainerInspect{Name: "/w"}
	in.Config.Image = "busybox"
	for typ, kind := range map[string]string{"deployment": "Deployment", "daemonset": "DaemonSet", "job": "Job", "pod": "Pod"} {
		out, _, err := Generate([]*engine.ContainerInspect{in}, GenerateOptions{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", typ, err, out)
		}
		if len(m.Workloads) != 1 || m.Workloads[0].Kind != kind || m.Workloads[0].Spec.Containers[0].Image != "busybox" {
			t.Errorf("%s:\n%s", typ, out)
		}
	}
	if _, _, err := Generate([]*engine.ContainerInspect{in}, GenerateOptions{Type: "cronjob"}); err == nil {
		t.Error("--type cronjob was taken")
	}
}

// Containers given together share a Pod's localhost, where their names
// then point.
func TestGenerateNamesInOnePod(t *testing.T) {
	a, b := &engine.ContainerInspect{Name: "/api"}, &engine.ContainerInspect{Name: "/client"}
	a.Config.Image, b.Config.Image = "busybox", "busybox"
	out, _, err := Generate([]*engine.ContainerInspect{a, b}, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(out, &pod); err != nil {
		t.Fatal(err)
	}
	if pod.Name != "api-pod" || len(pod.Spec.Containers) != 2 || len(pod.Spec.HostAliases) != 1 ||
		strings.Join(pod.Spec.HostAliases[0].Hostnames, ",") != "api,client" || pod.Spec.HostAliases[0].IP != "127.0.0.1" {
		t.Errorf("pod:\n%s", out)
	}
}

func TestPublishAndConfigMapFlags(t *testing.T) {
	pod := []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, {HostPort: 53, ContainerPort: 53, Proto: "udp"}}
	got := overridePorts(pod, []network.Port{{HostIP: "127.0.0.1", HostPort: 9000, ContainerPort: 80, Proto: "tcp"}, {HostPort: 9001, ContainerPort: 81, Proto: "tcp"}})
	want := []network.Port{{HostIP: "127.0.0.1", HostPort: 9000, ContainerPort: 80, Proto: "tcp"}, {HostPort: 53, ContainerPort: 53, Proto: "udp"}}
	if !slices.Equal(got, want) {
		t.Errorf("ports %v", got)
	}
	m, _ := Decode([]byte("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: b, env: [{name: X, valueFrom: {configMapKeyRef: {name: c, key: k}}}]}]}\n"))
	cms, _ := Decode([]byte("kind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n"))
	if err := m.AddConfigMaps(cms); err != nil {
		t.Fatal(err)
	}
	p := &planner{m: m, network: "kube", warn: func(string, ...any) {}}
	pp, err := p.plan(m.Workloads[0], "p")
	if err != nil || pp.Containers[0].Env[0] != "X=v" {
		t.Errorf("env from a --configmap file: %v %v", err, pp.Containers)
	}
	if err := m.AddConfigMaps(cms); err == nil {
		t.Error("a ConfigMap defined twice was taken")
	}
	if err := m.AddConfigMaps(m); err == nil {
		t.Error("a --configmap file with a Pod was taken")
	}
}

// --publish applies to the Pods that list the container port; one no
// Pod lists is refused.
func TestPublishFlagPods(t *testing.T) {
	m, err := Decode([]byte(`kind: Pod
metadata: {name: web}
spec: {containers: [{name: a, image: b, ports: [{containerPort: 80}]}]}
---
kind: Pod
metadata: {name: client}
spec: {containers: [{name: a, image: b}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	k := &Kube{Engine: &engine.Engine{}}
	plans, err := k.Plan(m, PlayOptions{Publish: []network.Port{{HostPort: 9000, ContainerPort: 80, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans[0].Containers[0].Publish) != 1 || plans[0].Containers[0].Publish[0].HostPort != 9000 || len(plans[1].Containers[0].Publish) != 0 {
		t.Errorf("published: %v / %v", plans[0].Containers[0].Publish, plans[1].Containers[0].Publish)
	}
	if _, err := k.Plan(m, PlayOptions{Publish: []network.Port{{HostPort: 9000, ContainerPort: 81, Proto: "tcp"}}}); err == nil || !strings.Contains(err.Error(), "no Pod lists container port 81/tcp") {
		t.Errorf("unlisted port: %v", err)
	}
}

// A compose project's services become Deployments (a replica per
// container) and Services by the services' names.
func TestGenerateServices(t *testing.T) {
	api1, api2, web := &engine.ContainerInspect{Name: "/p-api-1"}, &engine.ContainerInspect{Name: "/p-api-2"}, &engine.ContainerInspect{Name: "/p-web-1"}
	for _, c := range []*engine.ContainerInspect{api1, api2, web} {
		c.Config.Image = "busybox"
		c.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	}
	web.HostConfig.PortBindings = engine.PortMap{"80/tcp": {{HostPort: "8080"}}}
	out, _, err := GenerateServices([]ServiceContainers{{Name: "api", Containers: []*engine.ContainerInspect{api1, api2}}, {Name: "web", Containers: []*engine.ContainerInspect{web}}}, GenerateOptions{Service: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(m.Workloads) != 2 || m.Workloads[0].Kind != "Deployment" || m.Workloads[0].Name != "api" || m.Workloads[0].Replicas != 2 ||
		m.Workloads[0].Spec.Containers[0].Name != "api" || len(m.Skipped) != 2 {
		t.Fatalf("workloads %+v skipped %v\n%s", m.Workloads, m.Skipped, out)
	}
	docs := strings.Split(string(out), "\n---\n")
	var svc corev1.Service
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &svc); err != nil || svc.Name != "api" || svc.Spec.Type != "" || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("api's Service: %v\n%s", err, docs[1])
	}
	if err := yaml.UnmarshalStrict([]byte(docs[3]), &svc); err != nil || svc.Name != "web" || svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("web's Service: %v\n%s", err, docs[3])
	}
}

// TestBuildDir finds an image's build directory by its last path
// component, without tag or digest, only when it holds a Containerfile
// or a Dockerfile.
func TestBuildDir(t *testing.T) {
	dir := t.TempDir()
	for name, file := range map[string]string{"web": "Containerfile", "api": "Dockerfile", "empty": ""} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if file != "" {
			if err := os.WriteFile(filepath.Join(dir, name, file), []byte("FROM scratch\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for image, want := range map[string]string{
		"localhost/web:1":                       "web",
		"web":                                   "web",
		"registry.example/team/api":             "api",
		"api@sha256:" + strings.Repeat("a", 64): "api",
		"empty":                                 "",
		"other:latest":                          "",
		"..":                                    "",
	} {
		got, ok := buildDir(dir, image)
		if want == "" {
			if ok {
				t.Errorf("%s: found %s, want none", image, got)
			}
			continue
		}
		if !ok || got != filepath.Join(dir, want) {
			t.Errorf("%s: got %q %v, want %s", image, got, ok, want)
		}
	}
}

// TestProbeHealth runs the healthchecks that httpGet and tcpSocket
// probes become with this machine's sh against a real server: healthy
// while it answers 200, not on 500 or once it is gone.
func TestProbeHealth(t *testing.T) {
	status := http.StatusOK
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("X-Probe")
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var k8sPort k8s.IntOrString
	if err := json.Unmarshal([]byte(`"web"`), &k8sPort); err != nil || !k8sPort.IsStr {
		t.Fatalf("a named port: %+v %v", k8sPort, err)
	}
	n, _ := strconv.Atoi(port)
	c := k8s.Container{Name: "c", Ports: []k8s.ContainerPort{{Name: "web", ContainerPort: int32(n)}}}
	// The image may have wget or curl (nc or bash): try each alone.
	var paths []string
	for _, tools := range [][]string{{"wget", "bash"}, {"curl", "bash"}} {
		dir := t.TempDir()
		for _, tool := range tools {
			p, err := exec.LookPath(tool)
			if err != nil {
				t.Fatalf("this test needs %s on the machine: %v", tool, err)
			}
			if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, dir)
	}
	run := func(cmd string) bool {
		t.Helper()
		ok := 0
		for _, path := range paths {
			c := exec.Command("/bin/sh", "-c", cmd)
			c.Env = []string{"PATH=" + path}
			if c.Run() == nil {
				ok++
			}
		}
		if ok == 1 {
			t.Errorf("%s: healthy with one tool and not the other", cmd)
		}
		return ok == len(paths)
	}
	c.LivenessProbe = &k8s.Probe{HTTPGet: &k8s.HTTPGetAction{Path: "healthz", Port: k8sPort, HTTPHeaders: []k8s.HTTPHeader{{Name: "X-Probe", Value: "it's me"}}}, PeriodSeconds: 3}
	get, note, err := probeHealth(c)
	if err != nil || get.Cmd == "" || note == "" || get.Interval != 3*time.Second {
		t.Fatalf("httpGet: %+v %q %v", get, note, err)
	}
	if !run(get.Cmd) || gotHeader != "it's me" {
		t.Errorf("%s: not healthy against a 200 (header %q)", get.Cmd, gotHeader)
	}
	status = http.StatusInternalServerError
	if run(get.Cmd) {
		t.Errorf("%s: healthy against a 500", get.Cmd)
	}
	c.LivenessProbe = &k8s.Probe{TCPSocket: &k8s.TCPSocketAction{Port: k8s.IntOrString{Int: int32(n)}}}
	tcp, _, err := probeHealth(c)
	if err != nil || !run(tcp.Cmd) {
		t.Errorf("%s: not healthy against an open port (%v)", tcp.Cmd, err)
	}
	srv.Close()
	if run(get.Cmd) || run(tcp.Cmd) {
		t.Errorf("healthy with the server gone: %s / %s", get.Cmd, tcp.Cmd)
	}

	c.LivenessProbe = nil
	c.ReadinessProbe = &k8s.Probe{Exec: &k8s.ExecAction{Command: []string{"true"}}}
	if h, note, err := probeHealth(c); err != nil || !slices.Equal(h.Exec, []string{"true"}) || note != "" {
		t.Errorf("a readiness exec probe: %+v %q %v", h, note, err)
	}
	for _, bad := range []k8s.Probe{
		{HTTPGet: &k8s.HTTPGetAction{Port: k8s.IntOrString{Str: "nope", IsStr: true}}},
		{TCPSocket: &k8s.TCPSocketAction{Port: k8s.IntOrString{Int: 70000}}},
		{HTTPGet: &k8s.HTTPGetAction{Port: k8s.IntOrString{Int: 80}, Scheme: "FTP"}},
		{Exec: &k8s.ExecAction{}},
	} {
		c.ReadinessProbe = &bad
		if _, _, err := probeHealth(c); err == nil || errors.Is(err, errNoProbe) {
			t.Errorf("%+v: want an error, got %v", bad, err)
		}
	}
	c.ReadinessProbe = &k8s.Probe{GRPC: json.RawMessage(`{"port": 9000}`)}
	if _, _, err := probeHealth(c); !errors.Is(err, errNoProbe) {
		t.Errorf("a gRPC probe: want errNoProbe, got %v", err)
	}
}
