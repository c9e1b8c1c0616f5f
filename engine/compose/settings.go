package compose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
	"box/engine/flags"
)

// settings are the service's keys that `box run` takes as its settings
// flags (engine.Settings): each goes through the same parser as the
// flag, so a bad value gets the flag's message and the engine's rules
// (limits a rootless cgroup v1 machine cannot apply are one warning).
// The resource keys follow Docker Compose's getDeployResources: the
// service's own keys first, then deploy.resources.limits (cpus, memory,
// pids) and reservations.memory over them.
func settings(p *types.Project, s types.ServiceConfig) (engine.Settings, error) {
	st := engine.Settings{
		Domainname:   s.DomainName,
		GroupAdd:     slices.Clone(s.GroupAdd),
		StopSignal:   s.StopSignal,
		CgroupParent: s.CgroupParent,
		Runtime:      s.Runtime,
	}
	fail := func(key string, err error) (engine.Settings, error) {
		return engine.Settings{}, fmt.Errorf("%s: %w", key, err)
	}
	if len(s.Annotations) > 0 {
		st.Annotations = map[string]string(s.Annotations)
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		st.StopTimeout = &secs
	}
	if s.OomScoreAdj != 0 {
		n := int(s.OomScoreAdj)
		st.OOMScoreAdj = &n
	}
	var err error
	if st.Expose, err = flags.ParseExpose(s.Expose); err != nil {
		return fail("expose", err)
	}
	if st.Ulimits, err = flags.ParseUlimits(ulimitSpecs(s.Ulimits)); err != nil {
		return fail("ulimits", err)
	}
	st.ShmSize = int64(s.ShmSize)
	if st.Sysctls, err = flags.ParseSysctls(s.Sysctls.Values()); err != nil {
		return fail("sysctls", err)
	}
	var devices []string
	for _, d := range s.Devices {
		spec := d.Source + ":" + d.Target
		if d.Permissions != "" {
			spec += ":" + d.Permissions
		}
		devices = append(devices, spec)
	}
	if st.Devices, err = flags.ParseDevices(devices); err != nil {
		return fail("devices", err)
	}
	if st.DeviceRules, err = flags.ParseDeviceRules(s.DeviceCgroupRules); err != nil {
		return fail("device_cgroup_rules", err)
	}
	if st.Userns, err = flags.ParseUserns(s.UserNSMode); err != nil {
		return fail("userns_mode", err)
	}
	for _, ns := range []struct {
		key, flag, value string
		dst              *flags.NamespaceMode
	}{{"pid", "pid", s.Pid, &st.PID}, {"ipc", "ipc", s.Ipc, &st.IPC}, {"uts", "uts", s.Uts, &st.UTS}, {"cgroup", "cgroupns", s.Cgroup, &st.Cgroupns}} {
		value := ns.value
		if svc, ok := strings.CutPrefix(value, types.ServicePrefix); ok {
			value = "container:" + ContainerName(p.Name, svc, 1)
		}
		if *ns.dst, err = flags.ParseNamespaceMode(ns.flag, value); err != nil {
			return fail(ns.key, err)
		}
	}
	if st.Resources, err = flags.ParseResources(resourceFlags(s)); err != nil {
		return fail("resources", err)
	}
	if st.Links, err = flags.ParseLinks(linkSpecs(p.Name, s)); err != nil {
		return fail("links", err)
	}
	return st, nil
}

// linkSpecs are links (SERVICE[:ALIAS], to the service's first
// container, known by the service's name unless an alias is given) and
// external_links (CONTAINER[:ALIAS]) as --link takes them.
func linkSpecs(project string, s types.ServiceConfig) []string {
	var out []string
	for _, l := range s.Links {
		svc, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = svc
		}
		out = append(out, ContainerName(project, svc, 1)+":"+alias)
	}
	return append(out, s.ExternalLinks...)
}

// ulimitSpecs are the service's ulimits as --ulimit NAME=SOFT[:HARD],
// sorted by name.
func ulimitSpecs(m map[string]*types.UlimitsConfig) []string {
	var out []string
	for name, u := range m {
		if u == nil {
			continue
		}
		soft, hard := u.Soft, u.Hard
		if u.Single != 0 {
			soft, hard = u.Single, u.Single
		}
		out = append(out, fmt.Sprintf("%s=%d:%d", name, soft, hard))
	}
	slices.Sort(out)
	return out
}

// resourceFlags are the service's resource keys as the resource flags
// would spell them.
func resourceFlags(s types.ServiceConfig) flags.ResourceFlags {
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	cpus := func(f float64) string {
		if f == 0 {
			return ""
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	f := flags.ResourceFlags{
		Memory:            num(int64(s.MemLimit)),
		MemorySwap:        num(int64(s.MemSwapLimit)),
		MemoryReservation: num(int64(s.MemReservation)),
		MemorySwappiness:  num(int64(s.MemSwappiness)),
		CPUs:              cpus(float64(s.CPUS)),
		CPUShares:         num(s.CPUShares),
		CPUPeriod:         num(s.CPUPeriod),
		CPUQuota:          num(s.CPUQuota),
		CpusetCpus:        s.CPUSet,
		PidsLimit:         num(s.PidsLimit),
		OomKillDisable:    s.OomKillDisable,
	}
	if s.BlkioConfig != nil {
		f.BlkioWeight = num(int64(s.BlkioConfig.Weight))
	}
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if l.MemoryBytes != 0 {
				f.Memory = num(int64(l.MemoryBytes))
			}
			if l.NanoCPUs != 0 {
				f.CPUs = cpus(float64(l.NanoCPUs))
			}
			if l.Pids > 0 {
				f.PidsLimit = num(l.Pids)
			}
		}
		if r := s.Deploy.Resources.Reservations; r != nil && r.MemoryBytes != 0 {
			f.MemoryReservation = num(int64(r.MemoryBytes))
		}
	}
	return f
}

// restartPolicy is restart, or deploy.restart_policy over it, as Docker
// Compose maps the latter (mapRestartPolicyCondition): none or no (or
// no condition) → no, any → always, on-failure with max_attempts as its
// count.
func restartPolicy(s types.ServiceConfig) (flags.RestartPolicy, error) {
	spec := s.Restart
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		switch rp.Condition {
		case "none", "no", "":
			// Docker Compose passes an empty condition on as no policy.
			spec = "no"
		case "any", "always":
			spec = "always"
		default:
			spec = rp.Condition
		}
		if rp.MaxAttempts != nil && spec == "on-failure" {
			spec += ":" + strconv.FormatUint(*rp.MaxAttempts, 10)
		}
	}
	return flags.ParseRestartPolicy(spec)
}
