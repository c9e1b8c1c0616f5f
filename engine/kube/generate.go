package kube

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"box/engine"
	"box/engine/kube/k8s"
)

// GenerateOptions are generate's choices.
type GenerateOptions struct {
	// Name is the Pod's; empty: the Pod play made the containers for,
	// else the first container's name with "-pod".
	Name string
	// Service adds a Service for the Pod's published ports.
	Service bool
	// Type is the kind written: Pod (the default), Deployment, DaemonSet
	// or Job, the last three with the Pod as their template.
	Type string
}

// Types are the kinds generate writes, as --type names them.
var Types = map[string]string{"": "Pod", "pod": "Pod", "deployment": "Deployment", "daemonset": "DaemonSet", "job": "Job"}

// Generate writes containers (inspected) as one Pod, and with Service
// a Service, as multi-document YAML. What Kubernetes cannot express is
// a comment at the top of the YAML and one of the returned warnings.
func Generate(ctrs []*engine.ContainerInspect, opts GenerateOptions) ([]byte, []string, error) {
	if len(ctrs) == 0 {
		return nil, nil, fmt.Errorf("no containers to generate a Pod of")
	}
	kind, ok := Types[strings.ToLower(opts.Type)]
	if !ok {
		return nil, nil, fmt.Errorf("--type %q: pod, deployment, daemonset or job", opts.Type)
	}
	g := &generator{}
	name := opts.Name
	if name == "" {
		name = ctrs[0].Config.Labels[LabelPod]
		for _, c := range ctrs[1:] {
			if c.Config.Labels[LabelPod] != name {
				name = ""
			}
		}
	}
	// Containers that were not one Pod reached each other by name; in
	// one Pod they share localhost, so their names point there.
	var aliases []string
	if name == "" && len(ctrs) > 1 {
		for _, c := range ctrs {
			aliases = append(aliases, strings.TrimPrefix(c.Name, "/"))
		}
	}
	if name == "" {
		name = strings.TrimPrefix(ctrs[0].Name, "/") + "-pod"
	}
	pod, svcPorts, published := g.pod(name, ctrs, false)
	if len(aliases) > 0 {
		pod.Spec.HostAliases = []k8s.HostAlias{{IP: "127.0.0.1", Hostnames: aliases}}
	}
	var out bytes.Buffer
	obj, err := g.wrap(kind, pod, 1)
	if err != nil {
		return nil, nil, err
	}
	docs := []any{obj}
	if opts.Service {
		docs = append(docs, service(name, svcPorts, published))
	}
	if err := g.write(&out, g.withClaims(docs)); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), g.warnings, nil
}

// pod is containers as one Pod called name, and the Service ports of
// its published ports (with all, of every port it lists).
func (g *generator) pod(name string, ctrs []*engine.ContainerInspect, all bool) (pod *k8s.Pod, ports []k8s.ServicePort, published bool) {
	pod = &k8s.Pod{
		TypeMeta:   k8s.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: k8s.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
	}
	seenVol := map[string]bool{}
	for i, c := range ctrs {
		kc, vols := g.container(c)
		pod.Spec.Containers = append(pod.Spec.Containers, kc)
		for _, v := range vols {
			if !seenVol[v.Name] {
				seenVol[v.Name] = true
				pod.Spec.Volumes = append(pod.Spec.Volumes, v)
			}
		}
		if i == 0 {
			pod.Spec.RestartPolicy = g.restart(c)
			if t := c.Config.StopTimeout; t != nil && *t >= 0 {
				n := int64(*t)
				pod.Spec.TerminationGracePeriodSeconds = &n
			}
		}
		for _, p := range kc.Ports {
			published = published || p.HostPort != 0
			if p.HostPort != 0 || all {
				sp := k8s.ServicePort{Name: fmt.Sprintf("%d-%s", p.ContainerPort, strings.ToLower(p.Protocol)), Port: p.ContainerPort, TargetPort: p.ContainerPort, Protocol: p.Protocol}
				if p.HostPort >= 30000 && p.HostPort <= 32767 {
					sp.NodePort = p.HostPort
				}
				ports = append(ports, sp)
			}
		}
	}
	return pod, ports, published
}

// service selects the Pods labelled app=name; NodePort when a port
// was published on the host.
func service(name string, ports []k8s.ServicePort, nodePort bool) *k8s.Service {
	svc := &k8s.Service{
		TypeMeta:   k8s.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: k8s.ObjectMeta{Name: name},
		Spec:       k8s.ServiceSpec{Selector: map[string]string{"app": name}, Ports: ports},
	}
	if nodePort {
		svc.Spec.Type = "NodePort"
	}
	return svc
}

// write puts the warnings as comments, then the objects as documents,
// written by the codec with the Kubernetes types.
func (g *generator) write(out *bytes.Buffer, docs []any) error {
	for _, w := range g.warnings {
		fmt.Fprintf(out, "# box: %s\n", w)
	}
	y, err := encode(docs)
	out.Write(y)
	return err
}

// ServiceContainers are the running containers of one compose service.
type ServiceContainers struct {
	Name       string
	Containers []*engine.ContainerInspect
}

// GenerateServices writes a compose project's services each as a
// Deployment (a replica per container) of the first container's Pod,
// and with opts.Service a Service by the service's name over all its
// ports, so that the services' names resolve on the cluster as they did
// on the project's network.
func GenerateServices(services []ServiceContainers, opts GenerateOptions) ([]byte, []string, error) {
	if len(services) == 0 {
		return nil, nil, fmt.Errorf("no running containers in the project")
	}
	kind, ok := Types[strings.ToLower(cmp.Or(opts.Type, "deployment"))]
	if !ok {
		return nil, nil, fmt.Errorf("--type %q: pod, deployment, daemonset or job", opts.Type)
	}
	g := &generator{}
	var docs []any
	for _, s := range services {
		pod, ports, published := g.pod(s.Name, s.Containers[:1], true)
		pod.Spec.Containers[0].Name = s.Name
		if kind == "Pod" && len(s.Containers) > 1 {
			g.warnf("service %s: %d containers are one Pod; a Deployment keeps the replicas", s.Name, len(s.Containers))
		}
		obj, err := g.wrap(kind, pod, len(s.Containers))
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, obj)
		if opts.Service {
			docs = append(docs, service(s.Name, ports, published))
		}
	}
	var out bytes.Buffer
	if err := g.write(&out, g.withClaims(docs)); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), g.warnings, nil
}

type generator struct {
	warnings []string
	// claims are the named volumes the Pods mount, in order.
	claims []string
}

// claimSize is what a written PersistentVolumeClaim asks for: a box
// volume has no size of its own.
const claimSize = "1Gi"

// claim makes the named volume a PersistentVolumeClaim of the YAML.
func (g *generator) claim(name string) {
	if slices.Contains(g.claims, name) {
		return
	}
	g.claims = append(g.claims, name)
	g.warnf("volume %s is a PersistentVolumeClaim of %s (ReadWriteOnce): box volumes have no size, so set the one the app needs", name, claimSize)
}

// withClaims puts a PersistentVolumeClaim for every named volume before
// the workloads that mount them.
func (g *generator) withClaims(docs []any) []any {
	var out []any
	for _, name := range g.claims {
		out = append(out, &k8s.PersistentVolumeClaim{
			TypeMeta:   k8s.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: k8s.ObjectMeta{Name: name},
			Spec: k8s.PersistentVolumeClaimSpec{
				AccessModes: []string{"ReadWriteOnce"},
				Resources:   k8s.ResourceRequirements{Requests: map[string]k8s.Quantity{"storage": claimSize}},
			},
		})
	}
	return append(out, docs...)
}

func (g *generator) warnf(format string, args ...any) {
	g.warnings = append(g.warnings, fmt.Sprintf(format, args...))
}

// container is one container as a Pod's, with the volumes its mounts need.
func (g *generator) container(c *engine.ContainerInspect) (k8s.Container, []k8s.Volume) {
	name := c.Config.Labels[LabelContainer]
	if name == "" {
		name = strings.TrimPrefix(c.Name, "/")
	}
	kc := k8s.Container{
		Name:       name,
		Image:      c.Config.Image,
		Command:    slices.Clone(c.Config.Entrypoint),
		Args:       slices.Clone(c.Config.Cmd),
		WorkingDir: c.Config.WorkingDir,
		Stdin:      c.Config.OpenStdin,
		TTY:        c.Config.Tty,
	}
	for _, e := range c.Config.Env {
		k, v, _ := strings.Cut(e, "=")
		if k == "HOSTNAME" || k == "container" {
			continue
		}
		kc.Env = append(kc.Env, k8s.EnvVar{Name: k, Value: v})
	}
	for _, p := range slices.Sorted(mapsKeys(c.Config.ExposedPorts)) {
		num, proto, _ := strings.Cut(p, "/")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		kp := k8s.ContainerPort{ContainerPort: int32(n), Protocol: strings.ToUpper(proto)}
		if kp.Protocol == "" {
			kp.Protocol = k8s.ProtocolTCP
		}
		if b := c.HostConfig.PortBindings[p]; len(b) > 0 {
			if hp, err := strconv.Atoi(b[0].HostPort); err == nil {
				kp.HostPort = int32(hp)
				if ip := b[0].HostIP; ip != "" && ip != "0.0.0.0" && ip != "::" {
					kp.HostIP = ip
				}
			}
		}
		kc.Ports = append(kc.Ports, kp)
	}
	var vols []k8s.Volume
	for _, m := range c.Mounts {
		vname := volumeName(m)
		vm := k8s.VolumeMount{Name: vname, MountPath: m.Destination, ReadOnly: !m.RW}
		switch m.Type {
		case "volume":
			g.claim(m.Name)
			vols = append(vols, k8s.Volume{Name: vname, VolumeSource: k8s.VolumeSource{PersistentVolumeClaim: &k8s.PersistentVolumeClaimVolumeSource{ClaimName: m.Name}}})
		case "bind":
			g.warnf("container %s: the bind mount of %s is a hostPath: the cluster's node must have that path", name, m.Source)
			vols = append(vols, k8s.Volume{Name: vname, VolumeSource: k8s.VolumeSource{HostPath: &k8s.HostPathVolumeSource{Path: m.Source}}})
		case "tmpfs":
			vols = append(vols, k8s.Volume{Name: vname, VolumeSource: k8s.VolumeSource{EmptyDir: &k8s.EmptyDirVolumeSource{Medium: k8s.StorageMediumMemory}}})
		default:
			g.warnf("container %s: a %s mount at %s cannot be expressed and is left out", name, m.Type, m.Destination)
			continue
		}
		kc.VolumeMounts = append(kc.VolumeMounts, vm)
	}
	sc := &k8s.SecurityContext{}
	if u := c.Config.User; u != "" {
		us, gs, hasG := strings.Cut(u, ":")
		if uid, err := strconv.ParseInt(us, 10, 64); err == nil {
			sc.RunAsUser = &uid
		} else {
			g.warnf("container %s: user %q is a name; Kubernetes takes numeric ids only, so it is left out", name, u)
		}
		if hasG {
			if gid, err := strconv.ParseInt(gs, 10, 64); err == nil {
				sc.RunAsGroup = &gid
			}
		}
	}
	if c.HostConfig.ReadonlyRootfs {
		t := true
		sc.ReadOnlyRootFilesystem = &t
	}
	if c.HostConfig.Privileged {
		t := true
		sc.Privileged = &t
	}
	if len(c.HostConfig.CapAdd)+len(c.HostConfig.CapDrop) > 0 {
		sc.Capabilities = &k8s.Capabilities{}
		for _, cp := range c.HostConfig.CapAdd {
			sc.Capabilities.Add = append(sc.Capabilities.Add, strings.TrimPrefix(cp, "CAP_"))
		}
		for _, cp := range c.HostConfig.CapDrop {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, strings.TrimPrefix(cp, "CAP_"))
		}
	}
	if *sc != (k8s.SecurityContext{}) {
		kc.SecurityContext = sc
	}
	if m := c.HostConfig.Memory; m > 0 {
		kc.Resources.Limits = map[string]k8s.Quantity{k8s.ResourceMemory: k8s.BinaryQuantity(m)}
	}
	if n := c.HostConfig.NanoCPUs; n > 0 {
		if kc.Resources.Limits == nil {
			kc.Resources.Limits = map[string]k8s.Quantity{}
		}
		kc.Resources.Limits[k8s.ResourceCPU] = k8s.MilliQuantity(n / 1_000_000)
	}
	if h := c.Config.Healthcheck; h != nil && len(h.Test) > 0 && h.Test[0] != "NONE" {
		var cmd []string
		switch h.Test[0] {
		case "CMD":
			cmd = slices.Clone(h.Test[1:])
		case "CMD-SHELL":
			cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
		}
		if cmd != nil {
			kc.LivenessProbe = &k8s.Probe{
				Exec:                &k8s.ExecAction{Command: cmd},
				PeriodSeconds:       int32(h.Interval.Seconds()),
				TimeoutSeconds:      int32(h.Timeout.Seconds()),
				InitialDelaySeconds: int32(h.StartPeriod.Seconds()),
				FailureThreshold:    int32(h.Retries),
			}
		}
	}
	if len(c.HostConfig.Devices) > 0 {
		g.warnf("container %s: devices cannot be expressed in a Pod and are left out", name)
	}
	left := map[string]bool{
		"sysctls": len(c.HostConfig.Sysctls) > 0, "ulimits": len(c.HostConfig.Ulimits) > 0,
		"--dns options":     len(c.HostConfig.DNS)+len(c.HostConfig.DNSSearch)+len(c.HostConfig.DNSOptions) > 0,
		"--pid/--ipc modes": c.HostConfig.PidMode != "" || c.HostConfig.IpcMode != "" && c.HostConfig.IpcMode != "private" && c.HostConfig.IpcMode != "shareable",
		"--security-opt":    len(c.HostConfig.SecurityOpt) > 0, "--group-add": len(c.HostConfig.GroupAdd) > 0,
	}
	for _, what := range slices.Sorted(mapsKeys(left)) {
		if left[what] {
			g.warnf("container %s: %s are not expressed in the Pod and are left out", name, what)
		}
	}
	if len(c.HostConfig.ExtraHosts) > 0 {
		g.warnf("container %s: --add-host entries are left out (a Pod's hostAliases are the Pod's, not a container's)", name)
	}
	return kc, vols
}

// volumeName is a Pod volume's name for a mount: the volume's name, or
// one made of the mount point.
func volumeName(m engine.MountPoint) string {
	src := m.Name
	if src == "" || len(src) == 64 {
		src = strings.Trim(strings.ReplaceAll(m.Destination, "/", "-"), "-")
		src = m.Type + "-" + src
	}
	var b strings.Builder
	for _, r := range strings.ToLower(src) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func (g *generator) restart(c *engine.ContainerInspect) string {
	switch c.HostConfig.RestartPolicy.Name {
	case "always":
		return k8s.RestartPolicyAlways
	case "unless-stopped":
		g.warnf("restart policy unless-stopped is Always in Kubernetes")
		return k8s.RestartPolicyAlways
	case "on-failure":
		return k8s.RestartPolicyOnFailure
	}
	return k8s.RestartPolicyNever
}

// wrap is pod as kind: itself, or the template of a Deployment (of
// replicas), DaemonSet or Job, selected by its app label.
func (g *generator) wrap(kind string, pod *k8s.Pod, replicas int) (any, error) {
	meta := k8s.ObjectMeta{Name: pod.Name, Labels: pod.Labels}
	tmpl := k8s.PodTemplateSpec{ObjectMeta: k8s.ObjectMeta{Labels: pod.Labels}, Spec: pod.Spec}
	sel := &k8s.LabelSelector{MatchLabels: pod.Labels}
	switch kind {
	case "Deployment":
		if pod.Spec.RestartPolicy != k8s.RestartPolicyAlways {
			g.warnf("a Deployment's Pods always restart; the containers' restart policy %s is not kept", pod.Spec.RestartPolicy)
			tmpl.Spec.RestartPolicy = k8s.RestartPolicyAlways
		}
		n := int32(replicas)
		return &k8s.Deployment{TypeMeta: k8s.TypeMeta{APIVersion: "apps/v1", Kind: kind}, ObjectMeta: meta,
			Spec: k8s.DeploymentSpec{Replicas: &n, Selector: sel, Template: tmpl}}, nil
	case "DaemonSet":
		if pod.Spec.RestartPolicy != k8s.RestartPolicyAlways {
			g.warnf("a DaemonSet's Pods always restart; the containers' restart policy %s is not kept", pod.Spec.RestartPolicy)
			tmpl.Spec.RestartPolicy = k8s.RestartPolicyAlways
		}
		return &k8s.DaemonSet{TypeMeta: k8s.TypeMeta{APIVersion: "apps/v1", Kind: kind}, ObjectMeta: meta,
			Spec: k8s.DaemonSetSpec{Selector: sel, Template: tmpl}}, nil
	case "Job":
		if pod.Spec.RestartPolicy == k8s.RestartPolicyAlways {
			g.warnf("a Job's Pods do not restart once done; restart policy Always is OnFailure")
			tmpl.Spec.RestartPolicy = k8s.RestartPolicyOnFailure
		}
		return &k8s.Job{TypeMeta: k8s.TypeMeta{APIVersion: "batch/v1", Kind: kind}, ObjectMeta: meta,
			Spec: k8s.JobSpec{Template: tmpl}}, nil
	}
	return pod, nil
}
