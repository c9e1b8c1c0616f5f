package engine

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"box/engine/flags"
	"box/engine/network"
	"box/storage"
)

func fullRecord() *record {
	code, major := 3, int64(1)
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	return &record{
		ID: strings.Repeat("ab", 32), Name: "web", Image: "alpine", ImageID: "sha256:" + strings.Repeat("c", 64),
		Created: at, Path: "sh", Args: []string{"-c", "true"}, StartedAt: at.Add(time.Second), FinishedAt: at.Add(2 * time.Second),
		ExitCode: &code, OOMKilled: true, Error: "boom", Monitor: &processID{PID: 10, Start: 20}, Init: &processID{PID: 11, Start: 21},
		Remove: true, BuildStep: true, Labels: map[string]string{"a": "b"}, Entrypoint: []string{"/init"}, Cmd: []string{"run"},
		User: "1:1", Interactive: true, NetworkMode: "bridge",
		Ports:      []network.Port{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		DNSForward: "10.0.2.3", Address: &network.Address{IP: "10.0.2.100", PrefixLen: 24, Gateway: "10.0.2.2", MAC: "02:00:00:00:00:01"}, Privileged: true, CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"CHOWN"},
		Log:      LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
		WithInit: true, Restart: RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, RestartCount: 1, Restarting: true,
		DNS: []string{"1.1.1.1"}, DNSSearch: []string{"example.com"}, DNSOptions: []string{"ndots:2"}, ExtraHosts: []string{"h:1.2.3.4"},
		Volumes:      []volumeMount{{Name: "data", Destination: "/data", Anonymous: true, ReadOnly: true, Mode: "z"}},
		Healthcheck:  &storage.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 3},
		HealthShell:  []string{"/bin/bash", "-c"},
		ImageExposed: map[string]struct{}{"80/tcp": {}},
		Settings: Settings{
			Domainname: "example.org", GroupAdd: []string{"10"}, Annotations: map[string]string{"a": "b"},
			Expose: []string{"81/udp"}, StopSignal: "USR1", StopTimeout: &code,
			Ulimits: []flags.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}}, ShmSize: 1 << 20,
			Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}, PID: flags.NamespaceMode{Mode: "host"},
			IPC: flags.NamespaceMode{Mode: "container", Container: "db"}, UTS: flags.NamespaceMode{Mode: "host"},
			Cgroupns: flags.NamespaceMode{Mode: "private"}, Resources: flags.Resources{Memory: 1 << 30},
			CgroupParent: "/p", OOMScoreAdj: &code, CIDFile: "/tmp/cid", Runtime: "runc",
			Devices:     []flags.Device{{PathOnHost: "/dev/null", PathInContainer: "/dev/n", CgroupPermissions: "rw"}},
			DeviceRules: []flags.DeviceRule{{Type: "c", Major: &major, Minor: &major, Access: "rwm", Given: "c 1:1 rwm"}}, Userns: flags.Userns{Mode: "keep-id", UID: 1, GID: 2},
			UIDMap: []flags.IDMap{{ContainerID: 0, HostID: 1, Size: 2}}, GIDMap: []flags.IDMap{{ContainerID: 1, HostID: 2, Size: 3}},
		},
	}
}

// TestRecordRoundTrip: every field of a record comes back as saved, and
// saving leaves the record alone in its directory (no temporary file).
func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := fullRecord()
	// Every field is set, so that a field added without a JSON name that
	// survives the round trip fails here.
	v := reflect.ValueOf(want).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullRecord leaves %s unset", v.Type().Field(i).Name)
		}
	}
	if err := want.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded\n%+v\nsaved\n%+v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != recordFile {
		t.Errorf("the directory holds %v; want only %s", entries, recordFile)
	}
	// Saving again replaces it whole, but for what rename and update own.
	want.Name, want.ExitCode = "other", nil
	if err := want.save(dir); err != nil {
		t.Fatal(err)
	}
	if got, err := loadRecord(dir); err != nil || got.Name != "web" || got.ExitCode != nil {
		t.Errorf("after a second save: %+v, %v", got, err)
	}
}

// TestRecordKeepsUpdates: a monitor's save of its copy of the record
// does not undo an update or a rename made since it read it.
func TestRecordKeepsUpdates(t *testing.T) {
	dir := t.TempDir()
	monitor := &record{ID: strings.Repeat("ab", 32), Name: "web", Restart: RestartPolicy{Name: "always"}}
	if err := monitor.save(dir); err != nil {
		t.Fatal(err)
	}
	if err := updateRecord(dir, func(r *record) error {
		r.Name, r.Restart = "renamed", RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	monitor.RestartCount = 3
	if err := monitor.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadRecord(dir)
	if err != nil || got.Name != "renamed" || got.Restart.Name != "on-failure" || got.Restart.MaximumRetryCount != 2 || got.RestartCount != 3 {
		t.Fatalf("after the monitor's save: %+v, %v", got, err)
	}
	if monitor.Restart.Name != "on-failure" {
		t.Errorf("the monitor's copy did not take up the new policy: %+v", monitor.Restart)
	}
	boom := errors.New("boom")
	if err := updateRecord(dir, func(r *record) error { r.Name = "lost"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("a failed change: %v", err)
	}
	if got, _ := loadRecord(dir); got.Name != "renamed" {
		t.Errorf("a failed change was written: %+v", got)
	}
}

// TestRecordSaveFails: a save that cannot complete leaves the record as
// it was, and no temporary file behind.
func TestRecordSaveFails(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(dir string) error
	}{
		// The temporary file cannot be written: it leads nowhere.
		{"write", func(dir string) error {
			return os.Symlink(filepath.Join(dir, "missing", "x"), filepath.Join(dir, recordFile+".tmp"))
		}},
		// The rename cannot replace what is there: a directory with
		// something in it.
		{"rename", func(dir string) error {
			if err := os.Remove(filepath.Join(dir, recordFile)); err != nil {
				return err
			}
			return os.MkdirAll(filepath.Join(dir, recordFile, "in"), 0o700)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			old := fullRecord()
			if err := old.save(dir); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(dir, recordFile))
			if err := c.spoil(dir); err != nil {
				t.Fatal(err)
			}
			changed := fullRecord()
			changed.Name = "changed"
			if err := changed.save(dir); err == nil {
				t.Fatal("the save succeeded")
			} else if !strings.HasPrefix(err.Error(), "save container "+old.ID[:12]+": ") {
				t.Errorf("error %q", err)
			}
			if _, err := os.Lstat(filepath.Join(dir, recordFile+".tmp")); !os.IsNotExist(err) {
				t.Errorf("the temporary file stayed: %v", err)
			}
			if c.name == "write" {
				after, _ := os.ReadFile(filepath.Join(dir, recordFile))
				if string(after) != string(before) {
					t.Errorf("the record changed:\n%s\nwas\n%s", after, before)
				}
			}
		})
	}
}

// TestRecordOld: a record written before the newer fields existed (and
// before zero times were left out) loads, those fields at their zero
// values, which mean what they meant then.
func TestRecordOld(t *testing.T) {
	dir := t.TempDir()
	old := `{"id":"` + strings.Repeat("0", 64) + `","name":"old","image":"alpine","image_id":"sha256:x",` +
		`"created":"2024-01-02T03:04:05Z","path":"sh","args":["-c","exit 2"],` +
		`"started_at":"0001-01-01T00:00:00Z","finished_at":"0001-01-01T00:00:00Z","exit_code":2,` +
		`"monitor":{"pid":1,"start":2}}`
	if err := os.WriteFile(filepath.Join(dir, recordFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := loadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "old" || r.ExitCode == nil || *r.ExitCode != 2 || !r.StartedAt.IsZero() || r.Monitor == nil || r.Monitor.PID != 1 {
		t.Errorf("loaded %+v", r)
	}
	if !reflect.DeepEqual(r.Log, LogConfig{}) || r.Restart != (RestartPolicy{}) || r.Healthcheck != nil || r.Volumes != nil || r.WithInit {
		t.Errorf("newer fields not at their zero values: %+v", r)
	}
	// Saved again, it keeps leaving them out.
	if err := r.save(dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, recordFile))
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"log_config", "restart", "healthcheck", "volumes", "started_at", "with_init"} {
		if _, ok := fields[k]; ok {
			t.Errorf("resaved record has %s: %s", k, data)
		}
	}
}

// TestRecordUnreadable: a missing record is not-exist (a container in its
// first milliseconds); a damaged one names its file.
func TestRecordUnreadable(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadRecord(dir); !os.IsNotExist(err) {
		t.Errorf("no record: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, recordFile), []byte(`{"id":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRecord(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, recordFile)) {
		t.Errorf("damaged record: %v", err)
	}
}

// TestStateFromRecord: what ps, inspect, stop and the rest decide from a
// record, by whether its monitor still runs.
func TestStateFromRecord(t *testing.T) {
	live := currentProcess()
	if live == nil {
		t.Fatal("this process has no start time")
	}
	// The same pid started at another time: a reused pid.
	reused := &processID{PID: live.PID, Start: live.Start + 1}
	// A pid whose process has ended and been reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := &processID{PID: cmd.Process.Pid, Start: 1}
	initp := &processID{PID: 4242, Start: 7}
	code := func(c int) *int { return &c }
	started := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		rec      record
		state    State
		exitCode int
		pid      int
		monitor  bool // the container keeps its monitor, for stop and exec
	}{
		{"created", record{}, Created, 0, 0, false},
		{"being started", record{Monitor: live}, Created, 0, 0, true},
		{"running", record{Monitor: live, Init: initp, StartedAt: started}, Running, 0, 4242, true},
		{"exited", record{Monitor: nil, Init: initp, StartedAt: started, ExitCode: code(3)}, Exited, 3, 0, false},
		{"exited, monitor still ending", record{Monitor: live, Init: initp, StartedAt: started, ExitCode: code(0)}, Exited, 0, 0, false},
		{"first start failed", record{ExitCode: code(127)}, Created, 127, 0, false},
		{"restarting", record{Monitor: live, Restarting: true, StartedAt: started, ExitCode: code(1)}, Restarting, 1, 0, true},
		{"restarting, monitor died", record{Monitor: gone, Restarting: true, StartedAt: started, ExitCode: code(1)}, Exited, 1, 0, false},
		{"monitor died", record{Monitor: gone, Init: initp, StartedAt: started}, Exited, exitUnknown, 0, false},
		{"monitor's pid reused", record{Monitor: reused, Init: initp, StartedAt: started}, Exited, exitUnknown, 0, false},
		{"monitor died before the start", record{Monitor: gone}, Created, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctr := &Container{ID: "no-such-container", State: Created}
			rec := c.rec
			ctr.stateFrom(&rec)
			if ctr.State != c.state || ctr.ExitCode != c.exitCode || ctr.Pid != c.pid || (ctr.monitor != nil) != c.monitor || ctr.Paused {
				t.Errorf("state %s, exit code %d, pid %d, monitor %v, paused %v; want %s, %d, %d, %v",
					ctr.State, ctr.ExitCode, ctr.Pid, ctr.monitor != nil, ctr.Paused, c.state, c.exitCode, c.pid, c.monitor)
			}
		})
	}
}
