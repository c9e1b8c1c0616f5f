package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
	"box/engine/network"
	"box/storage"
)

// ContainerInspect is `inspect`'s view of a container, in the shape and
// with the field names of Docker's.
type ContainerInspect struct {
	ID             string         `json:"Id"`
	Created        string         `json:"Created"`
	Path           string         `json:"Path"`
	Args           []string       `json:"Args"`
	State          ContainerState `json:"State"`
	Image          string         `json:"Image"`
	ResolvConfPath string         `json:"ResolvConfPath"`
	HostnamePath   string         `json:"HostnamePath"`
	HostsPath      string         `json:"HostsPath"`
	LogPath        string         `json:"LogPath"`
	Name           string         `json:"Name"`
	RestartCount   int            `json:"RestartCount"`
	Driver         string         `json:"Driver"`
	Platform       string         `json:"Platform"`
	// MountLabel, ProcessLabel and AppArmorProfile are SELinux's and
	// AppArmor's, which box does not set; ExecIDs Docker's exec
	// records, which box does not keep.
	MountLabel      string           `json:"MountLabel"`
	ProcessLabel    string           `json:"ProcessLabel"`
	AppArmorProfile string           `json:"AppArmorProfile"`
	ExecIDs         []string         `json:"ExecIDs"`
	HostConfig      HostConfig       `json:"HostConfig"`
	GraphDriver     GraphDriverState `json:"GraphDriver"`
	Mounts          []MountPoint     `json:"Mounts"`
	Config          ContainerConfig  `json:"Config"`
	NetworkSettings NetworkSettings  `json:"NetworkSettings"`
}

// ContainerState is Docker's State object.
type ContainerState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`

	// Health is the healthcheck's state, once one has run.
	Health *Health `json:"Health,omitempty"`
}

// ContainerConfig is Docker's container Config object.
type ContainerConfig struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	OnBuild      []string            `json:"OnBuild"`
	Labels       map[string]string   `json:"Labels"`
	// ExposedPorts are the image's EXPOSE and run's --expose.
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`

	// Healthcheck is the image's HEALTHCHECK with run's --health-* over it.
	Healthcheck *storage.HealthConfig `json:"Healthcheck,omitempty"`
}

// HostConfig is Docker's. The limits and settings given to run, create
// and update show as given (settingsInspect); the options box does not
// have show as Docker shows them unset.
type HostConfig struct {
	Binds           []string          `json:"Binds"`
	ContainerIDFile string            `json:"ContainerIDFile"`
	VolumeDriver    string            `json:"VolumeDriver"`
	VolumesFrom     []string          `json:"VolumesFrom"`
	ConsoleSize     [2]int            `json:"ConsoleSize"`
	Annotations     map[string]string `json:"Annotations,omitempty"`
	CgroupnsMode    string            `json:"CgroupnsMode"`
	GroupAdd        []string          `json:"GroupAdd"`
	IpcMode         string            `json:"IpcMode"`
	Cgroup          string            `json:"Cgroup"`
	Links           []string          `json:"Links"`
	OomScoreAdj     int               `json:"OomScoreAdj"`
	PidMode         string            `json:"PidMode"`
	PublishAllPorts bool              `json:"PublishAllPorts"`
	SecurityOpt     []string          `json:"SecurityOpt"`
	UTSMode         string            `json:"UTSMode"`
	UsernsMode      string            `json:"UsernsMode"`
	ShmSize         int64             `json:"ShmSize"`
	Isolation       string            `json:"Isolation"`
	MaskedPaths     []string          `json:"MaskedPaths"`
	ReadonlyPaths   []string          `json:"ReadonlyPaths"`
	Sysctls         map[string]string `json:"Sysctls,omitempty"`
	Runtime         string            `json:"Runtime"`
	DockerResources

	AutoRemove     bool          `json:"AutoRemove"`
	Privileged     bool          `json:"Privileged"`
	NetworkMode    string        `json:"NetworkMode"`
	ReadonlyRootfs bool          `json:"ReadonlyRootfs"`
	CapAdd         []string      `json:"CapAdd"`
	CapDrop        []string      `json:"CapDrop"`
	LogConfig      LogConfig     `json:"LogConfig"`
	RestartPolicy  RestartPolicy `json:"RestartPolicy"`
	DNS            []string      `json:"Dns"`
	DNSSearch      []string      `json:"DnsSearch"`
	DNSOptions     []string      `json:"DnsOptions"`
	ExtraHosts     []string      `json:"ExtraHosts"`
	// PortBindings are the published ports, host ports as chosen.
	PortBindings PortMap `json:"PortBindings"`
	// Init is Docker's: true with --init, null without.
	Init *bool `json:"Init"`
}

// DockerResources are Docker's resource limits: those box applies
// (flags.Resources) as set, the others as Docker shows them unset.
type DockerResources struct {
	CPUShares            int64          `json:"CpuShares"`
	Memory               int64          `json:"Memory"`
	NanoCPUs             int64          `json:"NanoCpus"`
	CgroupParent         string         `json:"CgroupParent"`
	BlkioWeight          int            `json:"BlkioWeight"`
	BlkioWeightDevice    []any          `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []any          `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []any          `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []any          `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []any          `json:"BlkioDeviceWriteIOps"`
	CPUPeriod            int64          `json:"CpuPeriod"`
	CPUQuota             int64          `json:"CpuQuota"`
	CPURealtimePeriod    int64          `json:"CpuRealtimePeriod"`
	CPURealtimeRuntime   int64          `json:"CpuRealtimeRuntime"`
	CpusetCpus           string         `json:"CpusetCpus"`
	CpusetMems           string         `json:"CpusetMems"`
	Devices              []flags.Device `json:"Devices"`
	DeviceCgroupRules    []string       `json:"DeviceCgroupRules"`
	DeviceRequests       []any          `json:"DeviceRequests"`
	MemoryReservation    int64          `json:"MemoryReservation"`
	MemorySwap           int64          `json:"MemorySwap"`
	MemorySwappiness     *int64         `json:"MemorySwappiness"`
	OomKillDisable       *bool          `json:"OomKillDisable"`
	PidsLimit            *int64         `json:"PidsLimit"`
	Ulimits              []flags.Ulimit `json:"Ulimits"`
	CPUCount             int64          `json:"CpuCount"`
	CPUPercent           int64          `json:"CpuPercent"`
	IOMaximumIOps        uint64         `json:"IOMaximumIOps"`
	IOMaximumBandwidth   uint64         `json:"IOMaximumBandwidth"`
}

// MountPoint is one entry of Docker's Mounts list.
type MountPoint struct {
	Type string `json:"Type"`
	// Name and Driver are a volume's.
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	Driver      string `json:"Driver,omitempty"`
	RW          bool   `json:"RW"`
}

// NetworkSettings is Docker's: the ports a running container publishes,
// its networks, and at the top (Docker's DefaultNetworkSettings) the
// default network's address, which scripts read as
// {{.NetworkSettings.IPAddress}}. The fields Docker has deprecated and
// never sets are there, empty, for templates that name them.
type NetworkSettings struct {
	Bridge     string  `json:"Bridge"`
	SandboxID  string  `json:"SandboxID"`
	SandboxKey string  `json:"SandboxKey"`
	Ports      PortMap `json:"Ports"`

	HairpinMode            bool   `json:"HairpinMode"`
	LinkLocalIPv6Address   string `json:"LinkLocalIPv6Address"`
	LinkLocalIPv6PrefixLen int    `json:"LinkLocalIPv6PrefixLen"`
	SecondaryIPAddresses   []any  `json:"SecondaryIPAddresses"`
	SecondaryIPv6Addresses []any  `json:"SecondaryIPv6Addresses"`

	EndpointID          string `json:"EndpointID"`
	Gateway             string `json:"Gateway"`
	GlobalIPv6Address   string `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int    `json:"GlobalIPv6PrefixLen"`
	IPAddress           string `json:"IPAddress"`
	IPPrefixLen         int    `json:"IPPrefixLen"`
	IPv6Gateway         string `json:"IPv6Gateway"`
	MacAddress          string `json:"MacAddress"`

	// Networks are EndpointSettings by network name.
	Networks map[string]any `json:"Networks"`
}

// PortMap is Docker's: "80/tcp" to the host addresses it is published on.
type PortMap map[string][]PortBinding

// PortBinding is one host address of a published port.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

func portMap(ports []network.Port, unspecified string) PortMap {
	m := PortMap{}
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = unspecified
		}
		k := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		m[k] = append(m[k], PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	return m
}

// GraphDriverState names the storage driver.
type GraphDriverState struct {
	Data map[string]string `json:"Data"`
	Name string            `json:"Name"`
}

// dockerTime is Docker's time format in inspect; Docker prints the zero
// time for a container that never started or ended.
func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// InspectContainer describes a container as Docker's inspect does.
func (e *Engine) InspectContainer(nameOrID string) (*ContainerInspect, error) {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return nil, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", nameOrID, err)
	}
	out := &ContainerInspect{
		ID: c.ID, Created: dockerTime(c.Created), Path: rec.Path, Args: rec.Args,
		Image: "sha256:" + c.ImageID, Name: "/" + c.Name, Driver: e.Store.Driver(), Platform: "linux",
		State: ContainerState{
			Status: string(c.State), Running: c.State == Running || c.State == Restarting,
			Restarting: c.State == Restarting, Pid: c.Pid, ExitCode: c.ExitCode, Error: rec.Error, OOMKilled: rec.OOMKilled,
			StartedAt: dockerTime(c.StartedAt), FinishedAt: dockerTime(c.FinishedAt),
			Health: c.Health,
		},
		Config: ContainerConfig{
			User: rec.User, Image: rec.Image, Labels: c.Labels, Cmd: rec.Cmd, Entrypoint: rec.Entrypoint,
			AttachStdin: rec.Interactive, OpenStdin: rec.Interactive,
			Healthcheck: rec.Healthcheck,
		},
		HostConfig: HostConfig{
			AutoRemove: rec.Remove, Privileged: rec.Privileged, NetworkMode: rec.NetworkMode,
			CapAdd: rec.CapAdd, CapDrop: rec.CapDrop, LogConfig: rec.Log,
			RestartPolicy: rec.Restart,
			DNS:           nonNil(rec.DNS), DNSSearch: nonNil(rec.DNSSearch), DNSOptions: nonNil(rec.DNSOptions),
			ExtraHosts: rec.ExtraHosts, PortBindings: portMap(rec.Ports, ""),
		},
		RestartCount:    rec.RestartCount,
		Mounts:          []MountPoint{},
		NetworkSettings: NetworkSettings{Networks: map[string]any{}, Ports: PortMap{}},
		GraphDriver:     GraphDriverState{Name: e.Store.Driver()},
	}
	if c.State == Running {
		out.NetworkSettings.Ports = portMap(c.Ports, "0.0.0.0")
	}
	if isUserNetworkMode(rec.NetworkMode) {
		e.userNetworkSettings(rec, c.State == Running, out.NetworkSettings.Networks)
		if es, ok := out.NetworkSettings.Networks[defaultBridge].(EndpointSettings); ok {
			// Docker shows the default bridge's address at the top too.
			ns := &out.NetworkSettings
			ns.EndpointID, ns.IPAddress, ns.IPPrefixLen = es.EndpointID, es.IPAddress, es.IPPrefixLen
			ns.Gateway, ns.MacAddress = es.Gateway, es.MacAddress
		}
	} else {
		builtinNetworkSettings(rec, c.State == Running, &out.NetworkSettings)
	}
	if rec.WithInit {
		out.HostConfig.Init = &rec.WithInit
	}
	settingsInspect(rec, out)
	if c.Paused {
		out.State.Status, out.State.Paused = string(Paused), true
	}
	if out.HostConfig.RestartPolicy.Name == "" {
		out.HostConfig.RestartPolicy.Name = "no"
	}
	if out.HostConfig.LogConfig.Type == "" {
		out.HostConfig.LogConfig.Type = LogJSONFile
	}
	if out.HostConfig.LogConfig.Config == nil {
		out.HostConfig.LogConfig.Config = map[string]string{}
	}
	if out.Args == nil {
		out.Args = []string{}
	}
	out.LogPath = filepath.Join(dir, logFile)
	for _, v := range rec.Volumes {
		if v.Anonymous {
			if out.Config.Volumes == nil {
				out.Config.Volumes = map[string]struct{}{}
			}
			out.Config.Volumes[v.Destination] = struct{}{}
		}
	}
	if sp, err := loadSpec(dir); err == nil {
		out.Config.Hostname, out.Config.Env = sp.Hostname, sp.Process.Env
		out.Config.Tty, out.Config.WorkingDir = sp.Process.Terminal, sp.Process.Cwd
		out.HostConfig.ReadonlyRootfs = sp.Root.Readonly
		specHostConfig(sp, dir, out)
		settingsNamespaces(rec.Settings, &out.HostConfig)
		for _, m := range userMounts(sp, dir, rec.WithInit) {
			ro := false
			for _, o := range m.Options {
				ro = ro || o == "ro"
			}
			if v := rec.volumeAt(m.Destination); v != nil {
				out.Mounts = append(out.Mounts, MountPoint{Type: "volume", Name: v.Name, Source: m.Source, Destination: m.Destination, Driver: "local", Mode: v.Mode, RW: !ro})
				continue
			}
			mode := "rw"
			if ro {
				mode = "ro"
			}
			out.Mounts = append(out.Mounts, MountPoint{Type: "bind", Source: m.Source, Destination: m.Destination, Mode: mode, RW: !ro})
		}
	}
	// Docker's Binds are the -v options of named volumes and bind mounts.
	for _, m := range out.Mounts {
		src := m.Source
		if m.Type == "volume" {
			if rec.volumeAt(m.Destination).Anonymous {
				continue
			}
			src = m.Name
		}
		bind := src + ":" + m.Destination
		if !m.RW {
			bind += ":ro"
		}
		out.HostConfig.Binds = append(out.HostConfig.Binds, bind)
	}
	return out, nil
}

// specHostConfig fills in what inspect shows from the container's spec:
// the files box writes for /etc, the namespaces it shares with the host
// ("host") or not ("private", Docker's word for IPC and cgroups; "" for
// the others), /dev/shm's size and the paths masked or read-only.
func specHostConfig(sp *specs.Spec, dir string, out *ContainerInspect) {
	for _, m := range sp.Mounts {
		if !strings.HasPrefix(m.Source, dir) {
			if m.Destination == "/dev/shm" && m.Type == "tmpfs" {
				out.HostConfig.ShmSize = tmpfsSize(m.Options)
			}
			continue
		}
		switch m.Destination {
		case "/etc/resolv.conf":
			out.ResolvConfPath = m.Source
		case "/etc/hostname":
			out.HostnamePath = m.Source
		case "/etc/hosts":
			out.HostsPath = m.Source
		}
	}
	hc := &out.HostConfig
	hc.IpcMode, hc.CgroupnsMode, hc.PidMode, hc.UTSMode = "host", "host", "host", "host"
	if sp.Linux == nil {
		return
	}
	hc.MaskedPaths, hc.ReadonlyPaths = sp.Linux.MaskedPaths, sp.Linux.ReadonlyPaths
	for _, ns := range sp.Linux.Namespaces {
		switch ns.Type {
		case specs.IPCNamespace:
			hc.IpcMode = "private"
		case specs.CgroupNamespace:
			hc.CgroupnsMode = "private"
		case specs.PIDNamespace:
			hc.PidMode = ""
		case specs.UTSNamespace:
			hc.UTSMode = ""
		}
	}
}

// tmpfsSize is a tmpfs mount's size= option in bytes (k, m, g
// suffixes), 0 when there is none.
func tmpfsSize(options []string) int64 {
	for _, o := range options {
		v, ok := strings.CutPrefix(o, "size=")
		if !ok {
			continue
		}
		mult := int64(1)
		switch {
		case strings.HasSuffix(v, "k"):
			mult, v = 1<<10, strings.TrimSuffix(v, "k")
		case strings.HasSuffix(v, "m"):
			mult, v = 1<<20, strings.TrimSuffix(v, "m")
		case strings.HasSuffix(v, "g"):
			mult, v = 1<<30, strings.TrimSuffix(v, "g")
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n * mult
		}
	}
	return 0
}

// nonNil shows an empty list as [], as Docker does for these fields.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// builtinNetworkSettings fills in the network of a container on a
// built-in one: the private network shows as Docker's "bridge", with
// the address the container has while it runs (at the top as well, as
// Docker shows the default bridge's), the host's and none as theirs.
// Another container's network (container:NAME) shows none, as Docker's.
func builtinNetworkSettings(rec *record, running bool, ns *NetworkSettings) {
	name := rec.NetworkMode
	if isPrivate(name) || name == "" {
		name = "bridge"
	}
	if !isBuiltinNetwork(name) {
		return
	}
	es := EndpointSettings{NetworkID: builtinID(name)}
	if a := rec.Address; running && name == "bridge" && a != nil {
		es.EndpointID = endpointID(es.NetworkID, rec.ID)
		es.IPAddress, es.IPPrefixLen, es.Gateway, es.MacAddress = a.IP, a.PrefixLen, a.Gateway, a.MAC
		ns.EndpointID, ns.IPAddress, ns.IPPrefixLen = es.EndpointID, a.IP, a.PrefixLen
		ns.Gateway, ns.MacAddress = a.Gateway, a.MAC
	}
	ns.Networks[name] = es
}
