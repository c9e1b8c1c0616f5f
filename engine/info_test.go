package engine

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"box/storage"
)

// TestInfoDockerShape: every field of Docker's system.Info that box fills
// is there under Docker's name, of Docker's type, with Docker's JSON name,
// so that `docker info --format` templates and JSON readers work on box.
func TestInfoDockerShape(t *testing.T) {
	str, integer, i64 := reflect.TypeOf(""), reflect.TypeOf(0), reflect.TypeOf(int64(0))
	strs, pairs, boolean := reflect.TypeOf([]string{}), reflect.TypeOf([][2]string{}), reflect.TypeOf(false)
	want := []struct {
		field, json string
		typ         reflect.Type
	}{
		{"ID", "ID", str}, {"Containers", "Containers", integer},
		{"ContainersRunning", "ContainersRunning", integer}, {"ContainersPaused", "ContainersPaused", integer},
		{"ContainersStopped", "ContainersStopped", integer}, {"Images", "Images", integer},
		{"Driver", "Driver", str}, {"DriverStatus", "DriverStatus", pairs},
		{"LoggingDriver", "LoggingDriver", str}, {"CgroupDriver", "CgroupDriver", str},
		{"CgroupVersion", "CgroupVersion", str}, {"KernelVersion", "KernelVersion", str},
		{"OperatingSystem", "OperatingSystem", str}, {"OSVersion", "OSVersion", str},
		{"OSType", "OSType", str}, {"Architecture", "Architecture", str},
		{"IndexServerAddress", "IndexServerAddress", str},
		{"NCPU", "NCPU", integer}, {"MemTotal", "MemTotal", i64},
		{"DockerRootDir", "DockerRootDir", str}, {"HTTPProxy", "HttpProxy", str},
		{"HTTPSProxy", "HttpsProxy", str}, {"NoProxy", "NoProxy", str},
		{"Name", "Name", str}, {"Labels", "Labels", strs}, {"ExperimentalBuild", "ExperimentalBuild", boolean},
		{"ServerVersion", "ServerVersion", str}, {"DefaultRuntime", "DefaultRuntime", str},
		{"LiveRestoreEnabled", "LiveRestoreEnabled", boolean}, {"InitBinary", "InitBinary", str},
		{"SecurityOptions", "SecurityOptions", strs}, {"Debug", "Debug", boolean},
		{"Warnings", "Warnings", strs},
	}
	info := Info{
		RegistryConfig: registryConfig([]storage.Registry{{Prefix: "docker.io", Location: "docker.io", Mirrors: []string{"127.0.0.1:5000"}}, {Prefix: "127.0.0.1:5000", Insecure: true}}),
		Runtimes:       map[string]Runtime{"runc": {Path: "/usr/bin/box", Status: map[string]string{"libcontainer": "1.5.2"}}},
		RuncCommit:     Commit{ID: "1.5.2"},
		CgroupVersion:  "2",
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(info)
	for _, w := range want {
		f, ok := typ.FieldByName(w.field)
		if !ok {
			t.Errorf("Info has no field %s", w.field)
			continue
		}
		if f.Type != w.typ {
			t.Errorf("Info.%s is %v, Docker's is %v", w.field, f.Type, w.typ)
		}
		if _, ok := got[w.json]; !ok {
			t.Errorf("Info's JSON has no %q", w.json)
		}
	}
	// The nested ones, as Docker's JSON has them.
	rc := got["RegistryConfig"].(map[string]any)
	for _, k := range []string{"InsecureRegistryCIDRs", "IndexConfigs", "Mirrors"} {
		if _, ok := rc[k]; !ok {
			t.Errorf("RegistryConfig's JSON has no %q: %s", k, b)
		}
	}
	idx := rc["IndexConfigs"].(map[string]any)["127.0.0.1:5000"].(map[string]any)
	if idx["Name"] != "127.0.0.1:5000" || idx["Secure"] != false || idx["Official"] != false {
		t.Errorf("an insecure registry's index config: %v", idx)
	}
	if m := rc["Mirrors"].([]any); len(m) != 1 || m[0] != "127.0.0.1:5000" {
		t.Errorf("docker.io's mirrors: %v", m)
	}
	if rt := got["Runtimes"].(map[string]any)["runc"].(map[string]any); rt["path"] != "/usr/bin/box" {
		t.Errorf("Runtimes: %v", rt)
	}
	if got["RuncCommit"].(map[string]any)["ID"] != "1.5.2" {
		t.Errorf("RuncCommit: %v", got["RuncCommit"])
	}
}

func TestBuildInfoSplitsTheCommit(t *testing.T) {
	old := storage.Version
	defer func() { storage.Version = old }()
	storage.Version = "0.3.1+abc1234"
	b := BuildInfo()
	if b.Version != "0.3.1" || b.GitCommit != "abc1234" {
		t.Fatalf("0.3.1+abc1234 became version %q, commit %q", b.Version, b.GitCommit)
	}
	// Test binaries carry no module list, so Runtime is left to the
	// end-to-end test (version_info_test.go).
	if b.GoVersion == "" {
		t.Fatalf("no Go version: %+v", b)
	}
	storage.Version = "0.3.1"
	if b := BuildInfo(); b.Version != "0.3.1" {
		t.Fatalf("0.3.1 became %q", b.Version)
	}
}

func TestOSRelease(t *testing.T) {
	p := t.TempDir() + "/os-release"
	if err := os.WriteFile(p, []byte("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if name, v := osRelease(p); name != "Debian GNU/Linux 12 (bookworm)" || v != "12" {
		t.Fatalf("got %q %q", name, v)
	}
}
