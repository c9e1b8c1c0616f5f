package compose

import (
	"encoding/json"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
	"box/engine/flags"
	"box/engine/network"
)

// supportedKeys are the service keys box honours. Every other key a
// service sets is named in a warning (unsupportedKeys): nothing in a
// compose file is dropped silently.
var supportedKeys = map[string]bool{
	"image": true, "command": true, "entrypoint": true, "environment": true, "env_file": true,
	"ports": true, "expose": true, "volumes": true, "tmpfs": true, "networks": true, "network_mode": true,
	"depends_on": true, "healthcheck": true, "restart": true, "user": true, "working_dir": true,
	"hostname": true, "extra_hosts": true, "labels": true, "label_file": true, "init": true,
	"read_only": true, "cap_add": true, "cap_drop": true, "tty": true, "stdin_open": true,
	"dns": true, "dns_search": true, "dns_opt": true, "security_opt": true, "privileged": true,
	"logging": true, "pull_policy": true, "platform": true, "profiles": true, "scale": true,
	"deploy": true, "stop_signal": true, "stop_grace_period": true, "container_name": true,
	"volumes_from": true, "attach": true, "build": true,
	// Settings (settings.go).
	"domainname": true, "group_add": true, "annotations": true, "ulimits": true, "shm_size": true,
	"sysctls": true, "devices": true, "device_cgroup_rules": true, "userns_mode": true, "pid": true,
	"ipc": true, "uts": true, "cgroup": true, "cgroup_parent": true, "runtime": true, "oom_score_adj": true,
	"mem_limit": true, "memswap_limit": true, "mem_reservation": true, "mem_swappiness": true,
	"cpus": true, "cpu_shares": true, "cpu_period": true, "cpu_quota": true, "cpuset": true,
	"pids_limit": true, "oom_kill_disable": true, "links": true, "external_links": true,
}

// unsupportedKeys names what s asks for that box does not do yet, as
// SERVICE.KEY paths, sorted.
func unsupportedKeys(s types.ServiceConfig) []string {
	var out []string
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	for k, v := range m {
		if supportedKeys[k] || string(v) == "null" {
			continue
		}
		out = append(out, k)
	}
	out = append(out, unsupportedDeploy(s.Deploy)...)
	if b := s.BlkioConfig; b != nil && (len(b.WeightDevice)+len(b.DeviceReadBps)+len(b.DeviceReadIOps)+len(b.DeviceWriteBps)+len(b.DeviceWriteIOps) > 0) {
		out = append(out, "blkio_config (except weight)")
	}
	for name, n := range s.Networks {
		if n != nil && (n.Ipv6Address != "" || n.MacAddress != "" || len(n.LinkLocalIPs) > 0 || len(n.DriverOpts) > 0 || n.InterfaceName != "" || n.GatewayPriority != 0) {
			out = append(out, "networks."+name+" (except aliases and ipv4_address)")
		}
	}
	for _, v := range s.Volumes {
		if v.Volume != nil && v.Volume.Subpath != "" {
			out = append(out, "volumes.volume.subpath")
		}
		if v.Bind != nil && v.Bind.SELinux != "" {
			out = append(out, "volumes.bind.selinux")
		}
	}
	for _, p := range s.Ports {
		if p.Mode == "ingress" || p.Mode == "" {
			continue
		}
		out = append(out, "ports.mode "+p.Mode)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// unsupportedDeploy names the parts of deploy that box does not honour:
// it takes replicas, the resource limits Docker Compose applies outside
// Swarm (limits' cpus, memory and pids, reservations' memory) and
// restart_policy's condition and max_attempts.
func unsupportedDeploy(d *types.DeployConfig) []string {
	if d == nil {
		return nil
	}
	var out []string
	if d.Mode != "" && d.Mode != "replicated" {
		out = append(out, "deploy.mode "+d.Mode)
	}
	for key, set := range map[string]bool{
		"deploy.labels": len(d.Labels) > 0, "deploy.update_config": d.UpdateConfig != nil,
		"deploy.rollback_config": d.RollbackConfig != nil, "deploy.endpoint_mode": d.EndpointMode != "",
		"deploy.placement": len(d.Placement.Constraints)+len(d.Placement.Preferences) > 0 || d.Placement.MaxReplicas != 0,
	} {
		if set {
			out = append(out, key)
		}
	}
	if l := d.Resources.Limits; l != nil && len(l.Devices)+len(l.GenericResources) > 0 {
		out = append(out, "deploy.resources.limits (except cpus, memory and pids)")
	}
	if r := d.Resources.Reservations; r != nil && (r.NanoCPUs != 0 || r.Pids != 0 || len(r.Devices)+len(r.GenericResources) > 0) {
		out = append(out, "deploy.resources.reservations (except memory)")
	}
	if rp := d.RestartPolicy; rp != nil && (rp.Delay != nil || rp.Window != nil) {
		out = append(out, "deploy.restart_policy (except condition and max_attempts)")
	}
	return out
}

// runOptions is how the engine runs container number n of service s:
// the service's keys typed as the engine takes them, Compose's name
// and labels, on the project's networks.
func runOptions(p *types.Project, s types.ServiceConfig, n int, hash, version string) (engine.RunOptions, error) {
	o := engine.RunOptions{
		Image:       s.Image,
		Name:        serviceContainerName(p.Name, s, n),
		CreateOnly:  true,
		Labels:      containerLabels(p, s, n, hash, version),
		Interactive: s.StdinOpen,
		TTY:         s.Tty,
		Workdir:     s.WorkingDir,
		User:        s.User,
		Hostname:    s.Hostname,
		ReadOnly:    s.ReadOnly,
		Privileged:  s.Privileged,
		Platform:    s.Platform,
		Init:        s.Init != nil && *s.Init,
	}
	fail := func(key string, err error) (engine.RunOptions, error) {
		return engine.RunOptions{}, fmt.Errorf("service %q: %s: %w", s.Name, key, err)
	}
	var err error
	if o.Pull, err = pullPolicy(s.PullPolicy); err != nil {
		return fail("pull_policy", err)
	}
	switch {
	case s.Entrypoint != nil && len(s.Entrypoint) == 0:
		empty := ""
		o.Entrypoint = &empty
		o.Cmd = slices.Clone(s.Command)
	case s.Entrypoint != nil:
		// The engine takes --entrypoint's one word; the rest of a list
		// leads the command, which is how the process sees them.
		first := s.Entrypoint[0]
		o.Entrypoint = &first
		o.Cmd = append(slices.Clone(s.Entrypoint[1:]), s.Command...)
	case s.Command != nil:
		o.Cmd = slices.Clone(s.Command)
	}
	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := s.Environment[k]; v != nil {
			o.Env = append(o.Env, k+"="+*v)
		}
	}
	if o.Mounts, err = mounts(p, s); err != nil {
		return fail("volumes", err)
	}
	if o.VolumesFrom, err = volumesFrom(p.Name, s.VolumesFrom); err != nil {
		return fail("volumes_from", err)
	}
	if o.Publish, err = ports(s.Ports); err != nil {
		return fail("ports", err)
	}
	if err := networkOptions(p, s, &o); err != nil {
		return fail("networks", err)
	}
	var hosts []string
	for _, h := range s.ExtraHosts.AsList("=") {
		hosts = append(hosts, h)
	}
	if o.Names, err = flags.ParseNameOptions(s.DNS, s.DNSSearch, s.DNSOpts, hosts); err != nil {
		return fail("dns/extra_hosts", err)
	}
	if o.Restart, err = restartPolicy(s); err != nil {
		return fail("restart", err)
	}
	if o.Settings, err = settings(p, s); err != nil {
		return engine.RunOptions{}, fmt.Errorf("service %q: %w", s.Name, err)
	}
	if o.CapAdd, err = flags.ParseCapabilities(s.CapAdd); err != nil {
		return fail("cap_add", err)
	}
	if o.CapDrop, err = flags.ParseCapabilities(s.CapDrop); err != nil {
		return fail("cap_drop", err)
	}
	if o.Security, err = flags.ParseSecurityOpts(s.SecurityOpt); err != nil {
		return fail("security_opt", err)
	}
	if s.Logging != nil {
		if o.Log, err = flags.ParseLogConfig(s.Logging.Driver, types.Mapping(s.Logging.Options).Values()); err != nil {
			return fail("logging", err)
		}
	}
	if o.Health, err = health(s.HealthCheck); err != nil {
		return fail("healthcheck", err)
	}
	return o, nil
}

// serviceContainerName is container_name when the service sets one,
// else PROJECT-SERVICE-N.
func serviceContainerName(project string, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(project, s.Name, n)
}

func pullPolicy(p string) (engine.PullPolicy, error) {
	switch p {
	case "", types.PullPolicyMissing, types.PullPolicyIfNotPresent:
		return engine.PullMissing, nil
	case types.PullPolicyAlways:
		return engine.PullAlways, nil
	case types.PullPolicyNever:
		return engine.PullNever, nil
	}
	return "", fmt.Errorf("%q is not supported by box (missing, always, never)", p)
}

// mounts are the service's volumes and tmpfs: named volumes by the name
// the project gives them (PROJECT_NAME unless external or named),
// binds (the loader made relative paths absolute against the project
// directory), anonymous volumes and tmpfs.
func mounts(p *types.Project, s types.ServiceConfig) ([]flags.Mount, error) {
	var out []flags.Mount
	for _, v := range s.Volumes {
		// The daemon's check, which Docker Compose leaves to it: a
		// one-letter volume name reads as a Windows drive ("s:/x").
		if !path.IsAbs(v.Target) {
			return nil, fmt.Errorf("invalid mount config for type %q: invalid mount path: '%s' mount path must be absolute", v.Type, v.Target)
		}
		if path.Clean(v.Target) == "/" {
			return nil, fmt.Errorf("invalid mount config for type %q: destination can't be '/'", v.Type)
		}
		m := flags.Mount{Destination: path.Clean(v.Target), ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			m.Type = flags.Volume
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, fmt.Errorf("volume %q is not declared in the top-level volumes", v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil {
				m.NoCopy = v.Volume.NoCopy
			}
		case types.VolumeTypeBind:
			m.Type, m.Source = flags.Bind, v.Source
			m.MakeSource = v.Bind == nil || bool(v.Bind.CreateHostPath)
			if v.Bind != nil && v.Bind.Propagation != "" {
				m.Options = append(m.Options, v.Bind.Propagation)
			}
		case types.VolumeTypeTmpfs:
			m.Type = flags.Tmpfs
			if v.Tmpfs != nil {
				if v.Tmpfs.Size != 0 {
					m.Options = append(m.Options, fmt.Sprintf("size=%d", int64(v.Tmpfs.Size)))
				}
				if v.Tmpfs.Mode != 0 {
					m.Options = append(m.Options, fmt.Sprintf("mode=%o", v.Tmpfs.Mode))
				}
			}
		default:
			return nil, fmt.Errorf("%s mounts are not supported by box", v.Type)
		}
		out = append(out, m)
	}
	for _, t := range s.Tmpfs {
		m, err := flags.ParseTmpfs(t)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ports are the service's published ports; one without a published
// port gets a free one, as Docker gives it.
func ports(list []types.ServicePortConfig) ([]network.Port, error) {
	var out []network.Port
	for _, p := range list {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return nil, fmt.Errorf("protocol %q: box publishes tcp and udp", proto)
		}
		if p.HostIP != "" && net.ParseIP(p.HostIP) == nil {
			return nil, fmt.Errorf("host_ip %q is not an IP address", p.HostIP)
		}
		port := network.Port{HostIP: p.HostIP, ContainerPort: int(p.Target), Proto: proto}
		if p.Published != "" {
			n, err := strconv.Atoi(p.Published)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("published port %q: box publishes single ports (1-65535)", p.Published)
			}
			port.HostPort = n
		}
		out = append(out, port)
	}
	return out, nil
}

// networkOptions puts the container on the service's first network (by
// priority, then name) with the service's name and aliases; the others
// are joined once it is created (see extraNetworks).
func networkOptions(p *types.Project, s types.ServiceConfig, o *engine.RunOptions) error {
	if s.NetworkMode != "" {
		mode := s.NetworkMode
		if svc, ok := strings.CutPrefix(mode, "service:"); ok {
			mode = "container:" + ContainerName(p.Name, svc, 1)
		}
		o.Network = flags.ParseNetwork(mode)
		return nil
	}
	names := s.NetworksByPriority()
	if len(names) == 0 {
		return nil
	}
	first := names[0]
	nw, ok := p.Networks[first]
	if !ok {
		return fmt.Errorf("network %q is not declared in the top-level networks", first)
	}
	o.Network = flags.NamedNetwork(nw.Name)
	o.NetworkAliases = aliases(s, s.Networks[first])
	if c := s.Networks[first]; c != nil {
		o.IP = c.Ipv4Address
	}
	return nil
}

// aliases are the names a service's containers answer to on one of its
// networks: the service's name (unless use_service_name_alias: false)
// and the aliases the file gives.
func aliases(s types.ServiceConfig, c *types.ServiceNetworkConfig) []string {
	var out []string
	if c == nil || c.UseServiceNameAlias == nil || *c.UseServiceNameAlias {
		out = append(out, s.Name)
	}
	if c != nil {
		out = append(out, c.Aliases...)
	}
	return out
}

// extraNetworks are the connections to the service's other networks,
// each with the service's name and aliases.
func extraNetworks(p *types.Project, s types.ServiceConfig, container string) []engine.NetworkConnectOptions {
	if s.NetworkMode != "" {
		return nil
	}
	names := s.NetworksByPriority()
	var out []engine.NetworkConnectOptions
	for _, name := range names[min(1, len(names)):] {
		c := engine.NetworkConnectOptions{Network: p.Networks[name].Name, Container: container, Aliases: aliases(s, s.Networks[name])}
		if cfg := s.Networks[name]; cfg != nil {
			c.IP = cfg.Ipv4Address
		}
		out = append(out, c)
	}
	return out
}

// health is the service's healthcheck as the engine takes it: CMD-SHELL
// as --health-cmd does, CMD run without a shell, as Docker runs it.
func health(h *types.HealthCheckConfig) (engine.HealthOptions, error) {
	var o engine.HealthOptions
	if h == nil {
		return o, nil
	}
	if h.Disable || (len(h.Test) > 0 && h.Test[0] == "NONE") {
		o.Disable = true
		return o, nil
	}
	if len(h.Test) > 0 {
		switch h.Test[0] {
		case "CMD-SHELL":
			o.Cmd = strings.Join(h.Test[1:], " ")
		case "CMD":
			o.Exec = slices.Clone(h.Test[1:])
		default:
			return o, fmt.Errorf("test must start with CMD, CMD-SHELL or NONE, not %q", h.Test[0])
		}
	}
	dur := func(d *types.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return time.Duration(*d)
	}
	o.Interval, o.Timeout, o.StartPeriod, o.StartInterval = dur(h.Interval), dur(h.Timeout), dur(h.StartPeriod), dur(h.StartInterval)
	if h.Retries != nil {
		o.Retries = int(*h.Retries)
	}
	return o, nil
}

// volumesFrom are volumes_from entries: SERVICE[:ro|rw] (its first
// container) or container:NAME[:ro|rw].
func volumesFrom(project string, list []string) ([]flags.VolumesFrom, error) {
	var out []flags.VolumesFrom
	for _, v := range list {
		name, rest := v, ""
		if c, ok := strings.CutPrefix(v, "container:"); ok {
			name, rest, _ = strings.Cut(c, ":")
		} else {
			name, rest, _ = strings.Cut(v, ":")
			name = ContainerName(project, name, 1)
		}
		if rest != "" && rest != "ro" && rest != "rw" {
			return nil, fmt.Errorf("%q: the mode must be ro or rw", v)
		}
		out = append(out, flags.VolumesFrom{Container: name, Mode: rest})
	}
	return out, nil
}
