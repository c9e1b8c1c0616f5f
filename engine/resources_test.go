package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
)

// TestLinuxResources: Docker's units become the runtime spec's, which
// libcontainer writes to cgroup v1 files or converts for v2 (memory.max,
// memory.swap.max, cpu.max, cpu.weight, pids.max, io.weight).
func TestLinuxResources(t *testing.T) {
	if linuxResources(flags.Resources{}) != nil {
		t.Fatal("no limits must give no resources")
	}
	pids, zero, yes := int64(50), int64(0), true
	lr := linuxResources(flags.Resources{
		Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCPUs: 1500000000, CPUShares: 512,
		CpusetCpus: "0", PidsLimit: &pids, BlkioWeight: 300, OomKillDisable: &yes,
	})
	switch {
	case *lr.Memory.Limit != 64<<20 || *lr.Memory.Swap != 128<<20 || *lr.Memory.Reservation != 32<<20 || !*lr.Memory.DisableOOMKiller:
		t.Errorf("memory: %+v (want Docker's default swap: twice the memory)", lr.Memory)
	case *lr.CPU.Quota != 150000 || *lr.CPU.Period != 100000 || *lr.CPU.Shares != 512 || lr.CPU.Cpus != "0":
		t.Errorf("cpu: %+v", lr.CPU)
	case *lr.Pids.Limit != 50 || *lr.BlockIO.Weight != 300:
		t.Errorf("pids %d, blkio %d", *lr.Pids.Limit, *lr.BlockIO.Weight)
	}
	unlimited := linuxResources(flags.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: &zero})
	if *unlimited.Memory.Swap != -1 || *unlimited.Pids.Limit != -1 {
		t.Errorf("--memory-swap -1 and --pids-limit 0: swap %d, pids %d; want -1, -1", *unlimited.Memory.Swap, *unlimited.Pids.Limit)
	}
	if got := strings.Join(neededControllers(flags.Resources{Memory: 1, NanoCPUs: 1, PidsLimit: &pids}), ","); got != "memory,cpu,pids" {
		t.Errorf("controllers for memory, cpus, pids: %s", got)
	}
}

// TestMergeResources: update replaces only what it sets and checks the
// result as a whole.
func TestMergeResources(t *testing.T) {
	pids := int64(9)
	cur := flags.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUShares: 100}
	got, err := mergeResources(cur, flags.Resources{PidsLimit: &pids, CPUShares: 200})
	if err != nil || got.Memory != 64<<20 || got.MemorySwap != 128<<20 || got.CPUShares != 200 || *got.PidsLimit != 9 {
		t.Errorf("merge = %+v, %v", got, err)
	}
	if got, err := mergeResources(cur, flags.Resources{MemorySwap: 256 << 20}); err != nil || got.MemorySwap != 256<<20 {
		t.Errorf("a swap limit alone over a memory limit: %+v, %v", got, err)
	}
	if _, err := mergeResources(flags.Resources{}, flags.Resources{MemorySwap: 256 << 20}); err == nil {
		t.Error("a swap limit alone on a container without a memory limit was taken")
	}
	if _, err := mergeResources(cur, flags.Resources{Memory: 256 << 20}); err == nil || !strings.Contains(err.Error(), "memoryswap") {
		t.Errorf("memory above the set swap limit: %v", err)
	}
}

// TestDelegatedCgroup: a rootless container's cgroup goes under the
// nearest writable cgroup at or above box's own that enables the
// controllers its limits need (cgroup v2, as systemd delegates
// user@UID.service); none such, and the reason names the controllers.
func TestDelegatedCgroup(t *testing.T) {
	root := t.TempDir()
	mk := func(dir, controllers string, mode os.FileMode) {
		full := filepath.Join(root, dir)
		if err := os.MkdirAll(full, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"cgroup.subtree_control": controllers, "cgroup.procs": ""} {
			if err := os.WriteFile(filepath.Join(full, name), []byte(data), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("user.slice", "memory pids", 0o444)
	mk("user.slice/user@1000.service", "cpu memory pids\n", 0o644)
	mk("user.slice/user@1000.service/app.slice/term.scope", "", 0o644)
	own := "/user.slice/user@1000.service/app.slice/term.scope"
	if os.Geteuid() == 0 {
		// Root writes whatever the modes say: only the controllers decide.
		if got, err := delegatedCgroup(root, own, []string{"memory", "pids"}); err != nil || got != "/user.slice/user@1000.service" {
			t.Fatalf("delegatedCgroup = %q, %v; want user@1000.service", got, err)
		}
	}
	if _, err := delegatedCgroup(root, own, []string{"memory", "io"}); err == nil || !strings.Contains(err.Error(), "memory, io controllers") {
		t.Fatalf("io delegated nowhere: %v", err)
	}
	if got, _ := delegatedCgroup(root, own, nil); got != own {
		t.Fatalf("no controllers needed: want box's own cgroup, got %q", got)
	}
}

// TestKeepIDMappings: the caller's id (box's 0) goes to the container's
// id, the ids below it to the subordinate range, the rest one for one.
func TestKeepIDMappings(t *testing.T) {
	outer := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1004, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	got, err := keepIDMappings(outer, 1004)
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1004}, {ContainerID: 1004, HostID: 0, Size: 1}, {ContainerID: 1005, HostID: 1005, Size: 64532}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("keepIDMappings = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := keepIDMappings(outer, 0); !reflect.DeepEqual(got, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 1, Size: 65536}}) {
		t.Errorf("uid 0: %+v", got)
	}
	if _, err := keepIDMappings(outer[:1], 1004); err == nil {
		t.Error("only the user's id mapped: keep-id cannot place 1004")
	}
}
