package flags

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// wantUsage checks err is one line of usage error containing part.
func wantUsage(t *testing.T, what string, err error, part string) {
	t.Helper()
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), part) || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: want a one-line usage error about %q, got %v", what, part, err)
	}
}

func TestParseUlimits(t *testing.T) {
	got, err := ParseUlimits([]string{"nofile=512:1024", "nproc=100", "nofile=256", "core=-1"})
	want := []Ulimit{{"core", -1, -1}, {"nofile", 256, 256}, {"nproc", 100, 100}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseUlimits = %+v, %v; want %+v (later flag wins, sorted)", got, err, want)
	}
	if got[1].RlimitType() != "RLIMIT_NOFILE" || got[1].Given() != "nofile=256:256" {
		t.Errorf("nofile: type %s, given %s", got[1].RlimitType(), got[1].Given())
	}
	for in, part := range map[string]string{
		"nofile=10:5": "soft limit must be less than or equal to hard limit",
		"bogus=1":     "invalid ulimit type: bogus",
		"nofile":      "invalid ulimit argument",
		"nofile=x":    `invalid argument "nofile=x" for "--ulimit" flag`,
	} {
		_, err := ParseUlimits([]string{in})
		wantUsage(t, in, err, part)
	}
}

func TestParseSysctls(t *testing.T) {
	got, err := ParseSysctls([]string{"net.ipv4.ip_forward=1", "kernel.shmmax=1024", "fs.mqueue.msg_max=20"})
	if err != nil || len(got) != 3 || got["kernel.shmmax"] != "1024" {
		t.Fatalf("ParseSysctls = %v, %v", got, err)
	}
	if !IsNetSysctl("net.ipv4.ip_forward") || IsNetSysctl("kernel.sem") || !IsIPCSysctl("fs.mqueue.msg_max") {
		t.Error("IsNetSysctl/IsIPCSysctl misclassify")
	}
	for in, part := range map[string]string{
		"kernel.foo=1":        "sysctl 'kernel.foo' is not allowed",
		"vm.swappiness=10":    "sysctl 'vm.swappiness' is not allowed",
		"net.ipv4.ip_forward": "want KEY=VALUE",
		"=1":                  "want KEY=VALUE",
	} {
		_, err := ParseSysctls([]string{in})
		wantUsage(t, in, err, part)
	}
}

func TestParseExposeAndAnnotations(t *testing.T) {
	got, err := ParseExpose([]string{"80", "53/udp", "8000-8002/tcp"})
	want := []string{"80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseExpose = %v, %v; want %v", got, err, want)
	}
	for _, in := range []string{"80/xyz", "x", "90-80", "0"} {
		_, err := ParseExpose([]string{in})
		wantUsage(t, in, err, in)
	}
	a, err := ParseAnnotations([]string{"a=b", "c="})
	if err != nil || a["a"] != "b" || a["c"] != "" || len(a) != 2 {
		t.Fatalf("ParseAnnotations = %v, %v", a, err)
	}
	_, err = ParseAnnotations([]string{"novalue"})
	wantUsage(t, "novalue", err, "want KEY=VALUE")
}

func TestParseNamespaceMode(t *testing.T) {
	for _, c := range []struct {
		flag, in string
		want     NamespaceMode
		bad      string
	}{
		{"pid", "host", NamespaceMode{Mode: "host"}, ""},
		{"pid", "container:web", NamespaceMode{Mode: "container", Container: "web"}, ""},
		{"pid", "", NamespaceMode{}, ""},
		{"pid", "private", NamespaceMode{}, "want host or container:NAME"},
		{"pid", "container:", NamespaceMode{}, "a container name"},
		{"ipc", "shareable", NamespaceMode{Mode: "shareable"}, ""},
		{"ipc", "container:db", NamespaceMode{Mode: "container", Container: "db"}, ""},
		{"ipc", "bogus", NamespaceMode{}, "want host, private, shareable, none or container:NAME"},
		{"uts", "host", NamespaceMode{Mode: "host"}, ""},
		{"uts", "container:x", NamespaceMode{}, "want host"},
		{"cgroupns", "private", NamespaceMode{Mode: "private"}, ""},
		{"cgroupns", "container:x", NamespaceMode{}, "want host or private"},
	} {
		got, err := ParseNamespaceMode(c.flag, c.in)
		if c.bad != "" {
			wantUsage(t, c.flag+" "+c.in, err, c.bad)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseNamespaceMode(%s, %q) = %+v, %v; want %+v", c.flag, c.in, got, err, c.want)
		}
	}
	if s := (NamespaceMode{Mode: "container", Container: "web"}).String(); s != "container:web" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseResources(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	got, err := ParseResources(ResourceFlags{
		Memory: "256m", MemorySwap: "1g", MemoryReservation: "128MB", CPUs: "1.5", CPUShares: "512",
		CpusetCpus: "0-1", CpusetMems: "0", PidsLimit: "100", BlkioWeight: "300", OomKillDisable: true,
	})
	yes := true
	want := Resources{
		Memory: 256 << 20, MemorySwap: 1 << 30, MemoryReservation: 128 << 20, NanoCPUs: 1500000000,
		CPUShares: 512, CpusetCpus: "0-1", CpusetMems: "0", PidsLimit: n(100), BlkioWeight: 300, OomKillDisable: &yes,
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseResources = %+v, %v; want %+v", got, err, want)
	}
	if r, err := ParseResources(ResourceFlags{Memory: "64m", MemorySwap: "-1", PidsLimit: "-1"}); err != nil || r.MemorySwap != -1 || *r.PidsLimit != -1 {
		t.Errorf("unlimited swap and pids: %+v, %v", r, err)
	}
	if r, err := ParseResources(ResourceFlags{CPUPeriod: "50000", CPUQuota: "-1", MemorySwappiness: "10"}); err != nil ||
		r.CPUPeriod != 50000 || r.CPUQuota != -1 || *r.MemorySwappiness != 10 {
		t.Errorf("cfs period, quota and swappiness: %+v, %v", r, err)
	}
	if r, err := ParseResources(ResourceFlags{MemorySwappiness: "-1"}); err != nil || r.Any() {
		t.Errorf("--memory-swappiness -1 is the host's: %+v, %v", r, err)
	}
	if r, err := ParseResources(ResourceFlags{}); err != nil || r.Any() {
		t.Errorf("no flags: %+v, %v", r, err)
	}
	for _, c := range []struct {
		f    ResourceFlags
		part string
	}{
		{ResourceFlags{Memory: "12x"}, `invalid argument "12x" for "-m, --memory" flag`},
		{ResourceFlags{Memory: "1k"}, "minimum memory limit allowed is 6MB"},
		{ResourceFlags{Memory: "64m", MemorySwap: "32m"}, "memoryswap limit should be larger than memory limit"},
		{ResourceFlags{MemorySwap: "64m"}, "always set the memory limit when using the memory swap limit"},
		{ResourceFlags{Memory: "64m", MemoryReservation: "128m"}, "can not be less than memory reservation"},
		{ResourceFlags{CPUs: "-1"}, `invalid argument "-1" for "--cpus" flag`},
		{ResourceFlags{CPUs: "x"}, "failed to parse x as a rational number"},
		{ResourceFlags{CPUs: "0.0000000001"}, "value is too precise"},
		{ResourceFlags{CPUShares: "-2"}, "--cpu-shares"},
		{ResourceFlags{CpusetCpus: "1-0"}, "--cpuset-cpus"},
		{ResourceFlags{CpusetMems: "a"}, "--cpuset-mems"},
		{ResourceFlags{PidsLimit: "many"}, "--pids-limit"},
		{ResourceFlags{BlkioWeight: "5"}, "range of blkio weight is from 10 to 1000"},
		{ResourceFlags{CPUPeriod: "10"}, `invalid argument "10" for "--cpu-period" flag`},
		{ResourceFlags{CPUQuota: "5"}, `invalid argument "5" for "--cpu-quota" flag`},
		{ResourceFlags{CPUs: "1", CPUQuota: "5000"}, "Nano CPUs and CPU Period or Quota cannot both be set"},
		{ResourceFlags{MemorySwappiness: "101"}, `"--memory-swappiness" flag`},
	} {
		_, err := ParseResources(c.f)
		wantUsage(t, c.part, err, c.part)
	}
}

func TestParseBytesAndSignal(t *testing.T) {
	for in, want := range map[string]int64{"64m": 64 << 20, "1g": 1 << 30, "512": 512, "2MB": 2 << 20, "1K": 1024} {
		if got, err := ParseBytes("--shm-size", in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	_, err := ParseBytes("--shm-size", "lots")
	wantUsage(t, "lots", err, `invalid argument "lots" for "--shm-size" flag`)
	for in, want := range map[string]int{"TERM": 15, "SIGUSR1": 10, "9": 9, "usr2": 12} {
		if got, err := ParseSignal(in); err != nil || int(got) != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"NOPE", "0", "65"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) took it", in)
		}
	}
}

func TestParseDevices(t *testing.T) {
	got, err := ParseDevices([]string{"/dev/fuse", "/dev/null:/dev/n", "/dev/zero:r", "/dev/sda:/dev/xvda:rw"})
	want := []Device{
		{"/dev/fuse", "/dev/fuse", "rwm"}, {"/dev/null", "/dev/n", "rwm"},
		{"/dev/zero", "/dev/zero", "r"}, {"/dev/sda", "/dev/xvda", "rw"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseDevices = %+v, %v; want %+v", got, err, want)
	}
	for in, part := range map[string]string{
		"/dev/null:/dev/n:rx": "bad mode specified: rx",
		"dev/null":            "device paths must be absolute",
		"/a:/b:r:x":           "want HOST[:CONTAINER][:PERMISSIONS]",
	} {
		_, err := ParseDevices([]string{in})
		wantUsage(t, in, err, part)
	}
}

func TestParseDeviceRulesAndUserns(t *testing.T) {
	got, err := ParseDeviceRules([]string{"c 1:3 rwm", "b *:* r"})
	if err != nil || len(got) != 2 || *got[0].Major != 1 || *got[0].Minor != 3 || got[1].Major != nil || got[1].Minor != nil || got[1].Access != "r" {
		t.Fatalf("ParseDeviceRules = %+v, %v", got, err)
	}
	for _, in := range []string{"x 1:3 rwm", "c 1 rwm", "c 1:3", "c a:3 rw", "c 1:3 rwx"} {
		_, err := ParseDeviceRules([]string{in})
		wantUsage(t, in, err, "want TYPE MAJOR:MINOR ACCESS")
	}
	for in, want := range map[string]Userns{
		"host": {Mode: "host"}, "keep-id": {Mode: "keep-id", UID: -1, GID: -1},
		"keep-id:uid=1000,gid=100": {Mode: "keep-id", UID: 1000, GID: 100}, "keep-id:uid=7": {Mode: "keep-id", UID: 7, GID: -1},
	} {
		if got, err := ParseUserns(in); err != nil || got != want {
			t.Errorf("--userns %s: %+v, %v; want %+v", in, got, err, want)
		}
	}
	_, err = ParseUserns("keep-id:size=3")
	wantUsage(t, "keep-id:size=3", err, "keep-id takes uid=N and gid=N")
	_, err = ParseUserns("auto")
	wantUsage(t, "auto", err, "--userns auto is not supported by box")
	_, err = ParseUserns("bogus")
	wantUsage(t, "bogus", err, `invalid argument "bogus" for "--userns" flag`)
}

func TestParseIDMaps(t *testing.T) {
	got, err := ParseIDMaps("uidmap", []string{"0:1:1000", "1000:0:1"})
	if err != nil || !reflect.DeepEqual(got, []IDMap{{0, 1, 1000}, {1000, 0, 1}}) {
		t.Fatalf("ParseIDMaps = %+v, %v", got, err)
	}
	for _, in := range []string{"0:1", "0:1:0", "a:1:2", "0:1:2:3", "-1:0:1"} {
		_, err := ParseIDMaps("gidmap", []string{in})
		wantUsage(t, in, err, `for "--gidmap" flag: want CONTAINER:HOST:SIZE`)
	}
}
