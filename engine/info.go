package engine

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/rootless"
	"box/storage"
)

// APIVersion is the Docker Engine API version whose behaviour box's CLI
// follows (Docker 27.x's, 1.47). box serves no API; scripts read this
// from `version --format '{{.Server.APIVersion}}'` to tell what to expect.
const APIVersion = "1.47"

// Build says which box this is: storage.Version as scripts/build sets it
// ("0.1.0-dev+abc1234") split into the version and the commit, when and
// with what it was built, and the libcontainer it runs containers with.
type Build struct {
	Version   string
	GitCommit string
	// BuildTime is RFC 3339, empty when the build did not say.
	BuildTime string
	GoVersion string
	// Runtime is the version of runc whose libcontainer box carries.
	Runtime string
}

// BuildInfo describes this binary without touching the store or the
// user namespace: `box version` must stay as fast as starting the binary.
func BuildInfo() Build {
	b := Build{Version: storage.Version, BuildTime: storage.BuildTime, GoVersion: runtime.Version()}
	if v, commit, ok := strings.Cut(storage.Version, "+"); ok {
		b.Version, b.GitCommit = v, commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/opencontainers/runc" {
				b.Runtime = strings.TrimPrefix(dep.Version, "v")
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && b.GitCommit == "" && len(s.Value) >= 7 {
				b.GitCommit = s.Value[:7]
			}
		}
	}
	return b
}

// Info is what `box info` reports: Docker's fields under Docker's names
// (moby's api/types/system.Info), so that `--format` templates written for
// `docker info` work, and box's own beside them.
type Info struct {
	// Docker's fields.
	ID                 string
	Containers         int
	ContainersRunning  int
	ContainersPaused   int
	ContainersStopped  int
	Images             int
	Driver             string
	DriverStatus       [][2]string
	LoggingDriver      string
	CgroupDriver       string
	CgroupVersion      string `json:",omitempty"`
	KernelVersion      string
	OperatingSystem    string
	OSVersion          string
	OSType             string
	Architecture       string
	IndexServerAddress string
	RegistryConfig     *RegistryConfig
	NCPU               int
	MemTotal           int64
	DockerRootDir      string
	HTTPProxy          string `json:"HttpProxy"`
	HTTPSProxy         string `json:"HttpsProxy"`
	NoProxy            string
	Name               string
	Labels             []string
	ExperimentalBuild  bool
	ServerVersion      string
	Runtimes           map[string]Runtime
	DefaultRuntime     string
	LiveRestoreEnabled bool
	InitBinary         string
	RuncCommit         Commit
	SecurityOptions    []string
	Debug              bool
	Warnings           []string

	// box's own.
	Version        string
	Rootless       bool
	IDMode         string
	UIDMap, GIDMap []specs.LinuxIDMapping
	GraphRoot      string
	RunRoot        string
	// CgroupLayout is "v2", "v1" or "v1 (hybrid)": CgroupVersion is
	// Docker's "2" or "1", which cannot tell hybrid from v1.
	CgroupLayout string
	Kernel       string
	OS, Arch     string
	Registries   []storage.Registry
	Search       []string
	Network      string
	// Checks are `box system check`'s results; Warnings holds those that
	// did not pass.
	Checks []rootless.Check `json:"-"`
}

// RegistryConfig is Docker's registry.ServiceConfig, from registries.conf.
type RegistryConfig struct {
	// InsecureRegistryCIDRs: registries.conf names insecure registries,
	// not networks, so box has none (they are in IndexConfigs).
	InsecureRegistryCIDRs []string
	IndexConfigs          map[string]*IndexInfo
	// Mirrors are docker.io's.
	Mirrors []string
}

// IndexInfo is Docker's registry.IndexInfo.
type IndexInfo struct {
	Name     string
	Mirrors  []string
	Secure   bool
	Official bool
}

// Runtime is Docker's system.RuntimeWithStatus.
type Runtime struct {
	Path   string            `json:"path,omitempty"`
	Status map[string]string `json:"status,omitempty"`
}

// Commit is Docker's system.Commit.
type Commit struct {
	ID string
}

// Info gathers what box knows about itself and the machine.
func (e *Engine) Info() (*Info, error) {
	nimgs, err := e.Store.ImageCount()
	if err != nil {
		return nil, err
	}
	ctrs, err := e.Containers()
	if err != nil {
		return nil, err
	}
	regs, search, err := e.Store.Registries()
	if err != nil {
		return nil, err
	}
	driverStatus, _ := e.Store.DriverStatus()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	host, _ := os.Hostname()
	build := BuildInfo()
	layout := cgroupVersion()
	info := &Info{
		ID:                 engineID(e.Store.Root()),
		Images:             nimgs,
		Containers:         len(ctrs),
		Driver:             e.Store.Driver(),
		DriverStatus:       driverStatus,
		LoggingDriver:      LogJSONFile,
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      map[bool]string{true: "2", false: "1"}[layout == "v2"],
		KernelVersion:      unix.ByteSliceToString(uts.Release[:]),
		OSType:             runtime.GOOS,
		Architecture:       unix.ByteSliceToString(uts.Machine[:]),
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     registryConfig(regs),
		NCPU:               runtime.NumCPU(),
		MemTotal:           int64(si.Totalram) * int64(si.Unit),
		DockerRootDir:      e.Store.Root(),
		HTTPProxy:          proxyEnv("HTTP_PROXY"),
		HTTPSProxy:         proxyEnv("HTTPS_PROXY"),
		NoProxy:            proxyEnv("NO_PROXY"),
		Name:               host,
		Labels:             []string{},
		ServerVersion:      build.Version,
		Runtimes:           map[string]Runtime{"runc": {Path: selfPath(), Status: map[string]string{"libcontainer": build.Runtime}}},
		DefaultRuntime:     "runc",
		InitBinary:         "box",
		RuncCommit:         Commit{ID: build.Runtime},
		// box always gives containers Docker's default seccomp profile
		// and a cgroup namespace (engine/spec).
		SecurityOptions: []string{"name=seccomp,profile=builtin", "name=cgroupns"},

		Version:      storage.Version,
		Rootless:     e.Identity.Rootless(),
		IDMode:       string(e.Identity.Mode),
		UIDMap:       e.Identity.UIDMap,
		GIDMap:       e.Identity.GIDMap,
		GraphRoot:    e.Store.Root(),
		RunRoot:      e.Store.RunRoot(),
		CgroupLayout: layout,
		Kernel:       unix.ByteSliceToString(uts.Release[:]),
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		Registries:   regs,
		Search:       search,
		Network:      networkInfo(),
	}
	info.OperatingSystem, info.OSVersion = osRelease("/etc/os-release")
	if info.Rootless {
		info.SecurityOptions = append(info.SecurityOptions, "name=rootless")
	}
	for _, c := range ctrs {
		switch {
		case c.State == Running && c.Paused:
			info.ContainersPaused++
		case c.State == Running || c.State == Restarting:
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	info.Checks = rootless.Checks(rootless.Here(e.Store.Root()))
	info.Warnings = rootless.Warnings(info.Checks)
	if info.Warnings == nil {
		info.Warnings = []string{}
	}
	return info, nil
}

// SystemCheck checks every reason rootless containers fail here, trying
// native overlay where the store lives. It needs no open store and runs
// outside the user namespace too, when box could not enter it: that is
// when it is needed most.
func SystemCheck(opts Options) []rootless.Check {
	dir := ""
	if id, err := rootless.Current(); err == nil {
		if root, _, err := Paths(id, opts); err == nil {
			dir = root
		}
	}
	return rootless.Checks(rootless.Here(dir))
}

func registryConfig(regs []storage.Registry) *RegistryConfig {
	rc := &RegistryConfig{
		InsecureRegistryCIDRs: []string{},
		IndexConfigs: map[string]*IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true},
		},
		Mirrors: []string{},
	}
	for _, r := range regs {
		ii := &IndexInfo{Name: r.Prefix, Mirrors: append([]string{}, r.Mirrors...), Secure: !r.Insecure, Official: r.Prefix == "docker.io"}
		rc.IndexConfigs[r.Prefix] = ii
		if r.Prefix == "docker.io" {
			rc.Mirrors = ii.Mirrors
		}
	}
	return rc
}

// engineID is Docker's daemon ID for this store: made once, kept in it.
func engineID(root string) string {
	path := filepath.Join(root, "engine-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // a version 4 UUID, as Docker's
	u[8] = u[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	tmp := fmt.Sprintf("%s.%d", path, time.Now().UnixNano())
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err == nil {
		// Whoever renames first wins; a loser reads the winner's next time.
		_ = os.Rename(tmp, path)
	}
	return id
}

// osRelease reads PRETTY_NAME and VERSION_ID, as Docker does.
func osRelease(path string) (name, version string) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "Linux", ""
		}
		return "", ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "PRETTY_NAME":
			name = v
		case "VERSION_ID":
			version = v
		}
	}
	return name, version
}

func proxyEnv(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return os.Getenv(strings.ToLower(name))
}

func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return "box"
	}
	return p
}

// cgroupVersion tells v2 (unified at /sys/fs/cgroup) from v1 and hybrid
// layouts (v1 controllers, perhaps a v2 tree at /sys/fs/cgroup/unified).
func cgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		return "v1 (hybrid)"
	}
	return "v1"
}
