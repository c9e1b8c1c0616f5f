package engine

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
	"box/engine/spec"
)

// Settings are a container's options beyond its command, mounts and
// network, typed by engine/flags. They are kept in the container's
// record: inspect shows them and stop reads StopSignal and StopTimeout.
type Settings struct {
	Domainname  string            `json:"domainname,omitempty"`
	GroupAdd    []string          `json:"group_add,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Expose are Config.ExposedPorts keys ("80/tcp") added to the
	// image's; -P publishes them too.
	Expose []string `json:"expose,omitempty"`
	// StopSignal is --stop-signal as given (checked); StopTimeout
	// --stop-timeout in seconds (nil: 10, -1: wait for ever).
	StopSignal  string         `json:"stop_signal,omitempty"`
	StopTimeout *int           `json:"stop_timeout,omitempty"`
	Ulimits     []flags.Ulimit `json:"ulimits,omitempty"`
	// ShmSize is /dev/shm's size in bytes (0: 64 MiB).
	ShmSize int64             `json:"shm_size,omitempty"`
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// PID, IPC, UTS and Cgroupns are the namespace modes as given.
	PID      flags.NamespaceMode `json:"pid,omitzero"`
	IPC      flags.NamespaceMode `json:"ipc,omitzero"`
	UTS      flags.NamespaceMode `json:"uts,omitzero"`
	Cgroupns flags.NamespaceMode `json:"cgroupns,omitzero"`
	// Resources are the limits asked for; CgroupParent the cgroup the
	// container's goes under (root only).
	Resources    flags.Resources `json:"resources,omitzero"`
	CgroupParent string          `json:"cgroup_parent,omitempty"`
	OOMScoreAdj  *int            `json:"oom_score_adj,omitempty"`
	// CIDFile is --cidfile, for inspect's ContainerIDFile (the CLI
	// writes it).
	CIDFile string `json:"cidfile,omitempty"`
	// Runtime is --runtime: box has only its built-in one.
	Runtime string `json:"runtime,omitempty"`
	// Devices are --device; DeviceRules --device-cgroup-rule (root:
	// a rootless container has no device cgroup).
	Devices     []flags.Device     `json:"devices,omitempty"`
	DeviceRules []flags.DeviceRule `json:"device_rules,omitempty"`
	// Userns is --userns; UIDMap and GIDMap --uidmap and --gidmap.
	Userns flags.Userns  `json:"userns,omitzero"`
	UIDMap []flags.IDMap `json:"uidmap,omitempty"`
	GIDMap []flags.IDMap `json:"gidmap,omitempty"`
	// Links are --link, each NAME the linked container's name (links.go).
	Links []flags.Link `json:"links,omitempty"`
}

// BuiltinRuntime is the name of box's one runtime (libcontainer, in
// process), as Docker names its default.
const BuiltinRuntime = "runc"

// planSettings checks the settings against each other and the network
// mode, finds the namespaces of containers they share, and decides the
// container's cgroup.
func (e *Engine) planSettings(p *runPlan) error {
	s := p.opts.Settings
	if s.Runtime != "" && s.Runtime != BuiltinRuntime {
		return &UsageError{Msg: fmt.Sprintf("unknown or invalid runtime name: %s (box has only its built-in runtime, %s)", s.Runtime, BuiltinRuntime)}
	}
	if s.StopSignal != "" {
		if _, err := flags.ParseSignal(s.StopSignal); err != nil {
			return &UsageError{Msg: fmt.Sprintf("invalid --stop-signal: %v", err)}
		}
	}
	if s.ShmSize < 0 {
		return &UsageError{Msg: "SHM size can not be less than 0"}
	}
	if s.OOMScoreAdj != nil && (*s.OOMScoreAdj < -1000 || *s.OOMScoreAdj > 1000) {
		return &UsageError{Msg: fmt.Sprintf("invalid value %d, range for oom score adj is [-1000, 1000]", *s.OOMScoreAdj)}
	}
	mode := p.opts.Network.Mode
	for k := range s.Sysctls {
		switch {
		case flags.IsNetSysctl(k) && mode == flags.NetworkHost:
			return &UsageError{Msg: fmt.Sprintf("sysctl %q not allowed with --network host: the container shares the host's network namespace", k)}
		case flags.IsNetSysctl(k) && mode == flags.NetworkContainer:
			return &UsageError{Msg: fmt.Sprintf("sysctl %q not allowed with --network container: the namespace is another container's", k)}
		case flags.IsIPCSysctl(k) && s.IPC.Mode == "host":
			return &UsageError{Msg: fmt.Sprintf("sysctl %q not allowed with --ipc host: the container shares the host's IPC namespace", k)}
		case flags.IsIPCSysctl(k) && s.IPC.Mode == "container":
			return &UsageError{Msg: fmt.Sprintf("sysctl %q not allowed with --ipc container: the namespace is another container's", k)}
		}
	}
	if s.UTS.Host() && p.opts.Hostname != "" {
		return &UsageError{Msg: "conflicting options: hostname and the UTS mode host"}
	}
	var err error
	if p.rlimits, err = checkUlimits(s.Ulimits); err != nil {
		return err
	}
	if err := e.planNamespaces(p); err != nil {
		return err
	}
	if err := e.planKeepID(p); err != nil {
		return err
	}
	if err := e.planIDMaps(p); err != nil {
		return err
	}
	for _, d := range s.Devices {
		dev, rule, err := spec.Device(d.PathOnHost, d.PathInContainer, d.CgroupPermissions, e.Identity.Rootless())
		if err != nil {
			return err
		}
		if e.Identity.Rootless() {
			// runc would bind-mount the node from its container path;
			// box binds it from where the host has it.
			p.mounts = append(p.mounts, spec.Mount{Type: "bind", Source: d.PathOnHost, Destination: d.PathInContainer})
			continue
		}
		p.devices, p.deviceRules = append(p.devices, dev), append(p.deviceRules, rule)
	}
	if len(s.DeviceRules) > 0 && e.Identity.Rootless() {
		return &UsageError{Msg: "--device-cgroup-rule needs root: a rootless container has no device cgroup (use --device for a node you can open)"}
	}
	for _, r := range s.DeviceRules {
		p.deviceRules = append(p.deviceRules, specs.LinuxDeviceCgroup{Allow: true, Type: r.Type, Major: r.Major, Minor: r.Minor, Access: r.Access})
	}
	if n := s.Resources.NanoCPUs; n > int64(runtime.NumCPU())*1e9 {
		return &UsageError{Msg: fmt.Sprintf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", runtime.NumCPU(), runtime.NumCPU())}
	}
	r := s.Resources
	if r.BlkioWeight != 0 && !e.Identity.Rootless() && !blkioWeightSupported() {
		// Docker's words: the weight is discarded, the run goes ahead.
		r.BlkioWeight = 0
		if p.opts.Warn != nil {
			p.opts.Warn("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
		}
	}
	p.resources = linuxResources(r)
	if !e.Identity.Rootless() {
		if s.CgroupParent != "" {
			p.cgroupsPath = "/" + trimSlashes(s.CgroupParent) + "/"
		}
		return nil
	}
	if s.CgroupParent != "" {
		return &UsageError{Msg: "--cgroup-parent needs root: a rootless container's cgroup, when it has one, is under box's own"}
	}
	if p.resources != nil {
		path, why := rootlessCgroup(s.Resources)
		if path == "" {
			p.resources = nil
			if p.opts.Warn != nil {
				p.opts.Warn(why)
			}
		}
		p.cgroupsPath = path
	}
	return nil
}

func trimSlashes(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// exposedPorts are the image's EXPOSE keys with --expose's added, as
// Docker's Config.ExposedPorts; nil for none.
func exposedPorts(image map[string]struct{}, expose []string) map[string]struct{} {
	if len(image)+len(expose) == 0 {
		return nil
	}
	out := map[string]struct{}{}
	for k := range image {
		out[k] = struct{}{}
	}
	for _, k := range expose {
		out[k] = struct{}{}
	}
	return out
}

// settingsInspect shows a container's settings in inspect's Config and
// HostConfig, under Docker's names.
func settingsInspect(rec *record, out *ContainerInspect) {
	s := rec.Settings
	cfg, hc := &out.Config, &out.HostConfig
	cfg.Domainname, cfg.StopSignal, cfg.StopTimeout = s.Domainname, s.StopSignal, s.StopTimeout
	if img := rec.ImageExposed; len(img)+len(s.Expose) > 0 {
		cfg.ExposedPorts = exposedPorts(img, s.Expose)
	}
	hc.ContainerIDFile, hc.Annotations, hc.GroupAdd = s.CIDFile, s.Annotations, s.GroupAdd
	hc.Sysctls, hc.Runtime = s.Sysctls, BuiltinRuntime
	if s.OOMScoreAdj != nil {
		hc.OomScoreAdj = *s.OOMScoreAdj
	}
	r := s.Resources
	hc.Memory, hc.MemorySwap, hc.MemoryReservation = r.Memory, r.MemorySwap, r.MemoryReservation
	hc.NanoCPUs, hc.CPUShares, hc.CpusetCpus, hc.CpusetMems = r.NanoCPUs, r.CPUShares, r.CpusetCpus, r.CpusetMems
	hc.PidsLimit, hc.BlkioWeight, hc.OomKillDisable = r.PidsLimit, int(r.BlkioWeight), r.OomKillDisable
	hc.CPUPeriod, hc.CPUQuota, hc.MemorySwappiness = r.CPUPeriod, r.CPUQuota, r.MemorySwappiness
	if r.Memory > 0 && r.MemorySwap == 0 {
		hc.MemorySwap = 2 * r.Memory // Docker shows the swap it applied
	}
	hc.CgroupParent, hc.Ulimits, hc.Devices, hc.UsernsMode = s.CgroupParent, s.Ulimits, s.Devices, s.Userns.String()
	hc.Links = linksInspect(rec.Name, s.Links)
	for _, r := range s.DeviceRules {
		hc.DeviceCgroupRules = append(hc.DeviceCgroupRules, r.Given)
	}
}

// settingsNamespaces shows --pid, --ipc, --uts and --cgroupns as given
// where the spec alone cannot tell (another container's namespace).
func settingsNamespaces(s Settings, hc *HostConfig) {
	for _, n := range []struct {
		mode flags.NamespaceMode
		dst  *string
	}{{s.PID, &hc.PidMode}, {s.IPC, &hc.IpcMode}, {s.UTS, &hc.UTSMode}, {s.Cgroupns, &hc.CgroupnsMode}} {
		if n.mode.Mode != "" {
			*n.dst = n.mode.String()
		}
	}
}

// blkioWeightSupported says whether the kernel has a block I/O weight
// (CFQ's or BFQ's) in the cgroup hierarchy box uses.
func blkioWeightSupported() bool {
	if cgroupVersion() == "v2" {
		// The root has no io.weight of its own: the io controller is it.
		b, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		return strings.Contains(" "+string(b)+" ", " io ")
	}
	for _, f := range []string{"/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// planKeepID maps the caller's own ids to the container's UID and GID
// for --userns keep-id, as Podman does: files the user owns (in bind
// mounts) stay theirs, seen and made by the container's user. Inside
// box's namespace the caller is 0 and the subordinate range 1..N; the
// container's 0..UID-1 take 1..UID, UID takes 0, and the rest map one
// for one. Its process runs as UID:GID unless -u says otherwise.
func (e *Engine) planKeepID(p *runPlan) error {
	u := p.opts.Settings.Userns
	if u.Mode != "keep-id" {
		return nil
	}
	if !e.Identity.Rootless() {
		return &UsageError{Msg: "--userns keep-id is for rootless box: as root, containers already share your ids"}
	}
	uid, gid := u.UID, u.GID
	if uid < 0 {
		uid = hostID(e.Identity.UIDMap)
	}
	if gid < 0 {
		gid = hostID(e.Identity.GIDMap)
	}
	var err error
	if p.uidMap, err = keepIDMappings(e.Identity.UIDMap, uid); err != nil {
		return err
	}
	if p.gidMap, err = keepIDMappings(e.Identity.GIDMap, gid); err != nil {
		return err
	}
	if p.opts.User == "" {
		p.opts.User = fmt.Sprintf("%d:%d", uid, gid)
	}
	return nil
}

// hostID is the host id box's namespace maps its 0 to: the caller's.
func hostID(m []specs.LinuxIDMapping) int {
	for _, r := range m {
		if r.ContainerID == 0 {
			return int(r.HostID)
		}
	}
	return 0
}

// keepIDMappings maps container id to box's 0 and the ids below it to
// the subordinate range, within the ids box's namespace holds.
func keepIDMappings(outer []specs.LinuxIDMapping, id int) ([]specs.LinuxIDMapping, error) {
	var n uint32
	for _, r := range outer {
		if end := r.ContainerID + r.Size; end > n {
			n = end
		}
	}
	if n < 2 || uint32(id) >= n {
		return nil, &UsageError{Msg: fmt.Sprintf("--userns keep-id: id %d does not fit box's user namespace (%d ids)", id, n),
			Fix: "give your user a subordinate id range: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER"}
	}
	m := []specs.LinuxIDMapping{}
	if id > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: 0, HostID: 1, Size: uint32(id)})
	}
	m = append(m, specs.LinuxIDMapping{ContainerID: uint32(id), HostID: 0, Size: 1})
	if rest := n - uint32(id) - 1; rest > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: uint32(id) + 1, HostID: uint32(id) + 1, Size: rest})
	}
	return m, nil
}

// planIDMaps gives the container --uidmap and --gidmap in place of its
// one-for-one mappings (--gidmap defaults to --uidmap, as Podman's),
// each range inside the ids box's own namespace holds.
func (e *Engine) planIDMaps(p *runPlan) error {
	s := p.opts.Settings
	if len(s.UIDMap)+len(s.GIDMap) == 0 {
		return nil
	}
	switch {
	case !e.Identity.Rootless():
		return &UsageError{Msg: "--uidmap and --gidmap are for rootless box: as root, containers share the host's ids"}
	case s.Userns.Mode == "keep-id":
		return &UsageError{Msg: "conflicting options: --userns keep-id and --uidmap/--gidmap"}
	}
	uids, gids := s.UIDMap, s.GIDMap
	if len(uids) == 0 {
		uids = gids
	}
	if len(gids) == 0 {
		gids = uids
	}
	var err error
	if p.uidMap, err = idMappings("--uidmap", uids, e.Identity.UIDMap); err != nil {
		return err
	}
	p.gidMap, err = idMappings("--gidmap", gids, e.Identity.GIDMap)
	return err
}

// idMappings checks maps against the ids box's namespace holds.
func idMappings(flag string, maps []flags.IDMap, outer []specs.LinuxIDMapping) ([]specs.LinuxIDMapping, error) {
	var n uint64
	for _, r := range outer {
		n = max(n, uint64(r.ContainerID)+uint64(r.Size))
	}
	var out []specs.LinuxIDMapping
	for _, m := range maps {
		if uint64(m.HostID)+uint64(m.Size) > n {
			return nil, &UsageError{Msg: fmt.Sprintf("%s %d:%d:%d: box's user namespace holds ids 0 to %d only", flag, m.ContainerID, m.HostID, m.Size, n-1),
				Fix: "give your user a subordinate id range: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER"}
		}
		out = append(out, specs.LinuxIDMapping{ContainerID: m.ContainerID, HostID: m.HostID, Size: m.Size})
	}
	return out, nil
}
