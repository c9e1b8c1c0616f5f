package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStatsFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v1 := write("blkio", "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 7\n8:16 Read 100\nTotal 4708\n")
	if r, w := blkioV1(v1); r != 4196 || w != 512 {
		t.Errorf("blkioV1 = %d, %d; want 4196, 512", r, w)
	}
	v2 := write("io.stat", "8:0 rbytes=1000 wbytes=20 rios=3 wios=1 dbytes=0 dios=0\n8:16 rbytes=5 wbytes=5\n")
	if r, w := ioStatV2(v2); r != 1005 || w != 25 {
		t.Errorf("ioStatV2 = %d, %d; want 1005, 25", r, w)
	}
	stat := write("memory.stat", "cache 10\ntotal_inactive_file 4096\n")
	if n, ok := keyed(stat, "total_inactive_file"); !ok || n != 4096 {
		t.Errorf("keyed = %d, %v", n, ok)
	}
	if n, ok := readUint(write("memory.max", "max\n")); ok {
		t.Errorf("memory.max \"max\" read as the number %d", n)
	}
	if n, ok := readUint(write("pids.current", "7\n")); !ok || n != 7 {
		t.Errorf("readUint = %d, %v", n, ok)
	}
}

// TestProcStats reads this test process as a container without a cgroup
// is read: it has threads, memory and CPU time.
func TestProcStats(t *testing.T) {
	for i := 0; i < 3e7; i++ { // some CPU time of our own
		_ = i * i
	}
	var s Stats
	cpu := readProcStats([]int{os.Getpid()}, &s)
	if s.PIDs < 2 || s.MemUsage == 0 || cpu == 0 {
		t.Fatalf("readProcStats(self) = %+v, cpu %d: want Go's threads, memory and CPU time", s, cpu)
	}
	if host, n := hostCPU(); host == 0 || n < 1 {
		t.Fatalf("hostCPU = %d, %d", host, n)
	}
	if hostMemory() == 0 {
		t.Fatal("hostMemory = 0")
	}
}
