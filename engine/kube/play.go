package kube

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"box/engine/kube/k8s"

	"box/engine"
	"box/engine/flags"
	"box/engine/network"
)

// Labels box puts on what play makes, so that down finds it.
const (
	// LabelPlay is on every container and volume play made: the
	// manifest's name (its path, or "-" for standard input).
	LabelPlay = "io.box.kube.play"
	// LabelPod is the Pod a container belongs to; LabelContainer the
	// container's name in the Pod; LabelInit marks init containers.
	LabelPod       = "io.box.kube.pod"
	LabelContainer = "io.box.kube.container"
	LabelInit      = "io.box.kube.init"
	// LabelNetwork marks a network play made.
	LabelNetwork = "io.box.kube.network"
)

// DefaultNetwork is the user network Pods join unless told another, so
// that they reach each other by name.
const DefaultNetwork = "kube"

// PodPlan is one Pod as box runs it: its init containers, run to
// completion in order, then its containers, the first of which holds
// the Pod's network namespace that the others join (the Pod's
// localhost), and the volumes box fills for it (ConfigMaps, Secrets,
// emptyDirs).
type PodPlan struct {
	Name       string
	Init       []engine.RunOptions
	Containers []engine.RunOptions
	Volumes    []VolumePlan
}

// VolumePlan is a volume play makes for one Pod and down removes: an
// emptyDir (no Files) or a ConfigMap's or Secret's keys as files.
type VolumePlan struct {
	Name  string
	Files map[string][]byte
	Mode  uint32
}

// planner turns a manifest's workloads into PodPlans.
type planner struct {
	m        *Manifest
	source   string
	network  string
	rootless bool
	warn     func(format string, args ...any)
	publish  []network.Port
	// published are the --publish ports a Pod lists.
	published map[network.Port]bool
}

// PlanError is a workload box refuses, with the reason.
type PlanError struct {
	Kind, Name string
	Err        error
}

func (e *PlanError) Error() string { return fmt.Sprintf("%s %s: %v", e.Kind, e.Name, e.Err) }
func (e *PlanError) Unwrap() error { return e.Err }

// plan is pod (one of w's PodNames) as box runs it.
func (p *planner) plan(w Workload, pod string) (PodPlan, error) {
	fail := func(err error) (PodPlan, error) { return PodPlan{}, &PlanError{Kind: w.Kind, Name: w.Name, Err: err} }
	spec := w.Spec
	if len(spec.Containers) == 0 {
		return fail(fmt.Errorf("spec.containers is empty"))
	}
	pp := PodPlan{Name: pod}
	vols, err := p.volumes(pod, spec.Volumes, &pp)
	if err != nil {
		return fail(err)
	}
	restart, err := restartPolicy(w.Kind, spec.RestartPolicy)
	if err != nil {
		return fail(err)
	}
	for _, f := range unsupportedPodFields(spec) {
		p.warn("%s %s: spec.%s is not supported by box and is ignored", w.Kind, w.Name, f)
	}
	for i, c := range spec.InitContainers {
		o, err := p.container(w, pod, spec, c, vols)
		if err != nil {
			return fail(fmt.Errorf("initContainers[%d] (%s): %w", i, c.Name, err))
		}
		o.Labels[LabelInit] = "true"
		o.Network = flags.NamedNetwork(p.network)
		pp.Init = append(pp.Init, o)
	}
	var hosts []string
	for _, ha := range spec.HostAliases {
		for _, h := range ha.Hostnames {
			hosts = append(hosts, h+":"+ha.IP)
		}
	}
	names, err := flags.ParseNameOptions(nil, nil, nil, hosts)
	if err != nil {
		return fail(fmt.Errorf("hostAliases: %w", err))
	}
	var publish []network.Port
	var listed []network.Port // every port the Pod lists, for --publish
	for i, c := range spec.Containers {
		o, err := p.container(w, pod, spec, c, vols)
		if err != nil {
			return fail(fmt.Errorf("containers[%d] (%s): %w", i, c.Name, err))
		}
		o.Restart = restart
		if g := spec.TerminationGracePeriodSeconds; g != nil {
			n := int(max(0, min(*g, 3600)))
			o.Settings.StopTimeout = &n
		}
		publish = append(publish, o.Publish...)
		for _, cp := range c.Ports {
			listed = append(listed, network.Port{ContainerPort: int(cp.ContainerPort), Proto: strings.ToLower(string(cmp.Or(cp.Protocol, k8s.ProtocolTCP)))})
		}
		o.Publish = nil
		if i == 0 {
			o.Network = flags.NamedNetwork(p.network)
			o.NetworkAliases = []string{pod}
			// Every replica answers to its workload's name, as a
			// Service by that name reaches them on a cluster.
			if w.Kind != "Pod" {
				o.NetworkAliases = append(o.NetworkAliases, w.Name)
			}
			o.Hostname = pod
			if spec.Hostname != "" {
				o.Hostname = spec.Hostname
			}
			o.Names = names
		} else {
			// The Pod's localhost: one network namespace for all of
			// its containers, held by the first.
			o.Network = flags.ParseNetwork("container:" + pp.Containers[0].Name)
		}
		pp.Containers = append(pp.Containers, o)
	}
	// --publish also publishes a port the Pod lists without a hostPort.
	for _, f := range p.publish {
		same := func(l network.Port) bool { return l.ContainerPort == f.ContainerPort && l.Proto == f.Proto }
		if !slices.ContainsFunc(listed, same) {
			continue
		}
		if !slices.ContainsFunc(publish, same) {
			publish = append(publish, f)
		}
		if p.published != nil {
			p.published[f] = true
		}
	}
	pp.Containers[0].Publish = overridePorts(publish, p.publish)
	return pp, nil
}

// unsupportedPodFields names what a Pod spec sets that box ignores.
func unsupportedPodFields(s k8s.PodSpec) []string {
	var out []string
	for name, set := range map[string]bool{
		"nodeSelector": len(s.NodeSelector) > 0, "affinity": s.Affinity != nil, "tolerations": len(s.Tolerations) > 0,
		"serviceAccountName": s.ServiceAccountName != "", "hostNetwork": s.HostNetwork, "hostPID": s.HostPID,
		"hostIPC": s.HostIPC, "dnsConfig": s.DNSConfig != nil, "imagePullSecrets": len(s.ImagePullSecrets) > 0,
		"topologySpreadConstraints": len(s.TopologySpreadConstraints) > 0, "priorityClassName": s.PriorityClassName != "",
		"ephemeralContainers": len(s.EphemeralContainers) > 0, "shareProcessNamespace": s.ShareProcessNamespace != nil && *s.ShareProcessNamespace,
	} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func restartPolicy(kind string, p string) (flags.RestartPolicy, error) {
	if p == "" {
		p = k8s.RestartPolicyAlways
		if kind == "Job" {
			p = k8s.RestartPolicyNever
		}
	}
	switch p {
	case k8s.RestartPolicyAlways:
		if kind == "Job" {
			return flags.RestartPolicy{}, fmt.Errorf("restartPolicy Always: a Job's is Never or OnFailure")
		}
		return flags.RestartPolicy{Name: "always"}, nil
	case k8s.RestartPolicyOnFailure:
		return flags.RestartPolicy{Name: "on-failure"}, nil
	case k8s.RestartPolicyNever:
		return flags.RestartPolicy{Name: "no"}, nil
	}
	return flags.RestartPolicy{}, fmt.Errorf("restartPolicy %q: Always, OnFailure or Never", p)
}

// volumeSource is how a Pod volume is mounted: a named volume, a bind
// or a tmpfs.
type volumeSource struct {
	typ    flags.MountType
	source string
	opts   []string
	ro     bool
}

// volumes resolves the Pod's volumes, adding those box makes to pp.
func (p *planner) volumes(pod string, list []k8s.Volume, pp *PodPlan) (map[string]volumeSource, error) {
	out := map[string]volumeSource{}
	for _, v := range list {
		if _, dup := out[v.Name]; dup {
			return nil, fmt.Errorf("volume %q is defined twice", v.Name)
		}
		own := pod + "-" + v.Name
		switch {
		case v.EmptyDir != nil:
			if v.EmptyDir.Medium == k8s.StorageMediumMemory {
				vs := volumeSource{typ: flags.Tmpfs}
				if q := v.EmptyDir.SizeLimit; q != nil {
					n, err := q.Value()
					if err != nil || n <= 0 {
						return nil, fmt.Errorf("volume %q: emptyDir.sizeLimit %s must be more than 0", v.Name, *q)
					}
					vs.opts = []string{fmt.Sprintf("size=%d", n)}
				}
				out[v.Name] = vs
				continue
			}
			pp.Volumes = append(pp.Volumes, VolumePlan{Name: own})
			out[v.Name] = volumeSource{typ: flags.Volume, source: own}
		case v.HostPath != nil:
			hp := path.Clean(v.HostPath.Path)
			if !path.IsAbs(hp) {
				return nil, fmt.Errorf("volume %q: hostPath %q is not an absolute path", v.Name, v.HostPath.Path)
			}
			if hp == "/" {
				return nil, fmt.Errorf("volume %q: hostPath / would hand the container the whole host; box refuses it", v.Name)
			}
			out[v.Name] = volumeSource{typ: flags.Bind, source: hp}
			if t := v.HostPath.Type; t != nil && (*t == k8s.HostPathDirectoryOrCreate) {
				out[v.Name] = volumeSource{typ: flags.Bind, source: hp, opts: []string{"create"}}
			}
		case v.PersistentVolumeClaim != nil:
			name := v.PersistentVolumeClaim.ClaimName
			if !validName(name) {
				return nil, fmt.Errorf("volume %q: claimName %q is not a valid volume name", v.Name, name)
			}
			if _, ok := p.m.Claims[name]; !ok {
				p.warn("volume %q: PersistentVolumeClaim %q is not in the manifest; box uses (or makes) the volume %q", v.Name, name, name)
			}
			out[v.Name] = volumeSource{typ: flags.Volume, source: name, ro: v.PersistentVolumeClaim.ReadOnly}
		case v.ConfigMap != nil:
			cm, ok := p.m.ConfigMaps[v.ConfigMap.Name]
			if !ok {
				if v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
					pp.Volumes = append(pp.Volumes, VolumePlan{Name: own, Files: map[string][]byte{}})
					out[v.Name] = volumeSource{typ: flags.Volume, source: own, ro: true}
					continue
				}
				return nil, fmt.Errorf("volume %q: ConfigMap %q is not in the manifest", v.Name, v.ConfigMap.Name)
			}
			data := map[string][]byte{}
			for k, s := range cm.Data {
				data[k] = []byte(s)
			}
			maps.Copy(data, cm.BinaryData)
			files, err := keyFiles(data, v.ConfigMap.Items)
			if err != nil {
				return nil, fmt.Errorf("volume %q: ConfigMap %q: %w", v.Name, cm.Name, err)
			}
			pp.Volumes = append(pp.Volumes, VolumePlan{Name: own, Files: files, Mode: mode(v.ConfigMap.DefaultMode, 0o644)})
			out[v.Name] = volumeSource{typ: flags.Volume, source: own, ro: true}
		case v.Secret != nil:
			s, ok := p.m.Secrets[v.Secret.SecretName]
			if !ok {
				return nil, fmt.Errorf("volume %q: Secret %q is not in the manifest", v.Name, v.Secret.SecretName)
			}
			files, err := keyFiles(secretData(s), v.Secret.Items)
			if err != nil {
				return nil, fmt.Errorf("volume %q: Secret %q: %w", v.Name, s.Name, err)
			}
			pp.Volumes = append(pp.Volumes, VolumePlan{Name: own, Files: files, Mode: mode(v.Secret.DefaultMode, 0o644)})
			out[v.Name] = volumeSource{typ: flags.Volume, source: own, ro: true}
		default:
			return nil, fmt.Errorf("volume %q: box runs emptyDir, hostPath, persistentVolumeClaim, configMap and secret volumes", v.Name)
		}
	}
	return out, nil
}

func mode(m *int32, def uint32) uint32 {
	if m == nil {
		return def
	}
	return uint32(*m) & 0o777
}

// secretData is a Secret's data with its stringData over it, as the API
// server merges them.
func secretData(s *k8s.Secret) map[string][]byte {
	out := maps.Clone(s.Data)
	if out == nil {
		out = map[string][]byte{}
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out
}

// keyFiles are the files a ConfigMap or Secret volume shows: every key,
// or the items' keys at their paths.
func keyFiles(data map[string][]byte, items []k8s.KeyToPath) (map[string][]byte, error) {
	if len(items) == 0 {
		for k := range data {
			if !safeRel(k) {
				return nil, fmt.Errorf("key %q cannot be a file name", k)
			}
		}
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("no key %q", it.Key)
		}
		if !safeRel(it.Path) {
			return nil, fmt.Errorf("items path %q must be relative and stay inside the volume", it.Path)
		}
		out[it.Path] = v
	}
	return out, nil
}

func safeRel(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../")
}

// container is one container of pod as the engine runs it; the caller
// sets its network.
func (p *planner) container(w Workload, pod string, spec k8s.PodSpec, c k8s.Container, vols map[string]volumeSource) (engine.RunOptions, error) {
	if c.Name == "" || !validName(c.Name) {
		return engine.RunOptions{}, fmt.Errorf("name %q: a container needs a name of lower-case letters, digits, '-' and '.'", c.Name)
	}
	if c.Image == "" {
		return engine.RunOptions{}, fmt.Errorf("image is required")
	}
	o := engine.RunOptions{
		Image:       c.Image,
		Name:        pod + "-" + c.Name,
		Detach:      true,
		Labels:      map[string]string{LabelPlay: p.source, LabelPod: pod, LabelContainer: c.Name},
		Workdir:     c.WorkingDir,
		Interactive: c.Stdin,
		TTY:         c.TTY,
	}
	maps.Copy(o.Labels, w.Labels)
	switch c.ImagePullPolicy {
	case k8s.PullAlways:
		o.Pull = engine.PullAlways
	case k8s.PullNever:
		o.Pull = engine.PullNever
	default:
		o.Pull = engine.PullMissing
	}
	// Kubernetes' command replaces the entrypoint, args the command.
	if len(c.Command) > 0 {
		first := c.Command[0]
		o.Entrypoint = &first
		o.Cmd = append(slices.Clone(c.Command[1:]), c.Args...)
	} else if len(c.Args) > 0 {
		o.Cmd = slices.Clone(c.Args)
	}
	env, err := p.env(pod, c)
	if err != nil {
		return engine.RunOptions{}, err
	}
	o.Env = env
	for _, port := range c.Ports {
		proto := strings.ToLower(string(port.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return engine.RunOptions{}, fmt.Errorf("port %d: protocol %s: box publishes tcp and udp", port.ContainerPort, port.Protocol)
		}
		if port.ContainerPort < 1 || port.ContainerPort > 65535 || port.HostPort < 0 || port.HostPort > 65535 {
			return engine.RunOptions{}, fmt.Errorf("port %d:%d: ports are 1-65535", port.HostPort, port.ContainerPort)
		}
		o.Settings.Expose = append(o.Settings.Expose, fmt.Sprintf("%d/%s", port.ContainerPort, proto))
		if port.HostPort != 0 {
			o.Publish = append(o.Publish, network.Port{HostIP: port.HostIP, HostPort: int(port.HostPort), ContainerPort: int(port.ContainerPort), Proto: proto})
		}
	}
	for _, vm := range c.VolumeMounts {
		vs, ok := vols[vm.Name]
		if !ok {
			return engine.RunOptions{}, fmt.Errorf("volumeMounts: no volume %q in the Pod", vm.Name)
		}
		if vm.SubPath != "" || vm.SubPathExpr != "" {
			return engine.RunOptions{}, fmt.Errorf("volumeMounts %q: subPath is not supported by box", vm.Name)
		}
		dst := path.Clean(vm.MountPath)
		if !path.IsAbs(dst) || dst == "/" {
			return engine.RunOptions{}, fmt.Errorf("volumeMounts %q: mountPath %q must be an absolute path other than /", vm.Name, vm.MountPath)
		}
		m := flags.Mount{Type: vs.typ, Source: vs.source, Destination: dst, ReadOnly: vm.ReadOnly || vs.ro}
		if vs.typ == flags.Tmpfs {
			m.Options = slices.Clone(vs.opts)
		}
		if vs.typ == flags.Bind && slices.Contains(vs.opts, "create") {
			m.MakeSource = true
		}
		if vs.typ == flags.Volume {
			m.Labels = map[string]string{LabelPlay: p.source}
		}
		o.Mounts = append(o.Mounts, m)
	}
	if err := p.security(spec.SecurityContext, c.SecurityContext, &o); err != nil {
		return engine.RunOptions{}, err
	}
	if err := resources(c.Resources, &o); err != nil {
		return engine.RunOptions{}, err
	}
	health, note, err := probeHealth(c)
	switch {
	case errors.Is(err, errNoProbe):
		p.warn("%s %s: container %s: %v; its probe is ignored", w.Kind, w.Name, c.Name, err)
	case err != nil:
		return engine.RunOptions{}, err
	default:
		o.Health = health
		if note != "" {
			p.warn("%s %s: container %s: %s, which the image must have", w.Kind, w.Name, c.Name, note)
		}
	}
	if c.StartupProbe != nil || c.Lifecycle != nil {
		p.warn("%s %s: container %s: startupProbe and lifecycle hooks are not supported by box and are ignored", w.Kind, w.Name, c.Name)
	}
	return o, nil
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// env is the container's environment: values, ConfigMap and Secret
// keys, and whole ConfigMaps and Secrets (envFrom) under them.
func (p *planner) env(pod string, c k8s.Container) ([]string, error) {
	var out []string
	for _, ef := range c.EnvFrom {
		var data map[string][]byte
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok := p.m.ConfigMaps[ef.ConfigMapRef.Name]
			if !ok {
				if ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("envFrom: ConfigMap %q is not in the manifest", ef.ConfigMapRef.Name)
			}
			data = map[string][]byte{}
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
		case ef.SecretRef != nil:
			s, ok := p.m.Secrets[ef.SecretRef.Name]
			if !ok {
				if ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					continue
				}
				return nil, fmt.Errorf("envFrom: Secret %q is not in the manifest", ef.SecretRef.Name)
			}
			data = secretData(s)
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			out = append(out, ef.Prefix+k+"="+string(data[k]))
		}
	}
	for _, e := range c.Env {
		if e.Name == "" {
			return nil, fmt.Errorf("env: a variable needs a name")
		}
		if e.ValueFrom == nil {
			out = append(out, e.Name+"="+e.Value)
			continue
		}
		vf := e.ValueFrom
		switch {
		case vf.ConfigMapKeyRef != nil:
			r := vf.ConfigMapKeyRef
			cm, ok := p.m.ConfigMaps[r.Name]
			v, has := "", false
			if ok {
				v, has = cm.Data[r.Key]
			}
			if !has {
				if r.Optional != nil && *r.Optional {
					continue
				}
				return nil, fmt.Errorf("env %s: ConfigMap %q has no key %q in the manifest", e.Name, r.Name, r.Key)
			}
			out = append(out, e.Name+"="+v)
		case vf.SecretKeyRef != nil:
			r := vf.SecretKeyRef
			s, ok := p.m.Secrets[r.Name]
			var v []byte
			has := false
			if ok {
				v, has = secretData(s)[r.Key]
			}
			if !has {
				if r.Optional != nil && *r.Optional {
					continue
				}
				return nil, fmt.Errorf("env %s: Secret %q has no key %q in the manifest", e.Name, r.Name, r.Key)
			}
			out = append(out, e.Name+"="+string(v))
		case vf.FieldRef != nil && vf.FieldRef.FieldPath == "metadata.name":
			out = append(out, e.Name+"="+pod)
		default:
			p.warn("env %s: box takes values from ConfigMaps, Secrets and metadata.name only; it is left unset", e.Name)
		}
	}
	return out, nil
}

// security applies the Pod's and the container's securityContext, the
// container's winning field by field.
func (p *planner) security(pod *k8s.PodSecurityContext, c *k8s.SecurityContext, o *engine.RunOptions) error {
	var uid, gid *int64
	if pod != nil {
		uid, gid = pod.RunAsUser, pod.RunAsGroup
	}
	if c != nil {
		if c.RunAsUser != nil {
			uid = c.RunAsUser
		}
		if c.RunAsGroup != nil {
			gid = c.RunAsGroup
		}
	}
	switch {
	case uid != nil && gid != nil:
		o.User = fmt.Sprintf("%d:%d", *uid, *gid)
	case uid != nil:
		o.User = fmt.Sprint(*uid)
	case gid != nil:
		// The image's user with another group is not expressible in
		// --user; root's is.
		o.User = fmt.Sprintf("0:%d", *gid)
	}
	if c == nil {
		return nil
	}
	if c.Privileged != nil && *c.Privileged {
		if p.rootless {
			return fmt.Errorf("securityContext.privileged: a rootless box cannot grant a privileged container the host's devices and capabilities; run as root or drop privileged")
		}
		o.Privileged = true
	}
	if c.ReadOnlyRootFilesystem != nil {
		o.ReadOnly = *c.ReadOnlyRootFilesystem
	}
	if caps := c.Capabilities; caps != nil {
		var err error
		if o.CapAdd, err = flags.ParseCapabilities(caps.Add); err != nil {
			return fmt.Errorf("securityContext.capabilities.add: %w", err)
		}
		if o.CapDrop, err = flags.ParseCapabilities(caps.Drop); err != nil {
			return fmt.Errorf("securityContext.capabilities.drop: %w", err)
		}
	}
	return nil
}

// resources takes the limits (requests only where no limit is set for
// memory, as a reservation).
func resources(r k8s.ResourceRequirements, o *engine.RunOptions) error {
	if q, ok := r.Limits[k8s.ResourceMemory]; ok {
		n, err := q.Value()
		if err != nil || n < 6*1024*1024 {
			return fmt.Errorf("resources.limits.memory %s: the minimum is 6Mi", q)
		}
		o.Settings.Resources.Memory = n
	}
	if q, ok := r.Limits[k8s.ResourceCPU]; ok {
		n, err := q.MilliValue()
		if err != nil || n <= 0 {
			return fmt.Errorf("resources.limits.cpu %s must be more than 0", q)
		}
		o.Settings.Resources.NanoCPUs = n * 1_000_000
	}
	if q, ok := r.Requests[k8s.ResourceMemory]; ok && o.Settings.Resources.Memory == 0 {
		n, err := q.Value()
		if err != nil || n < 0 {
			return fmt.Errorf("resources.requests.memory %s must be 0 or more", q)
		}
		o.Settings.Resources.MemoryReservation = n
	}
	return nil
}

// overridePorts is the Pod's published ports with --publish's over
// those of the same container port and protocol.
func overridePorts(pod, flag []network.Port) []network.Port {
	out := slices.Clone(pod)
	for _, f := range flag {
		for i, p := range out {
			if p.ContainerPort == f.ContainerPort && p.Proto == f.Proto {
				out[i] = f
			}
		}
	}
	return out
}
