package engine

import (
	"box/storage/filter"

	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/spec"
)

func TestParseMounts(t *testing.T) {
	dir := t.TempDir()
	ms, vols, err := parseMounts(
		[]string{dir + ":/data:ro", dir + "/new:/new"},
		[]string{"type=bind,source=" + dir + ",target=/b,readonly", "type=tmpfs,target=/t,tmpfs-size=1m"},
		[]string{"/scratch:size=2m"},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Mount{
		{Type: "bind", Source: dir, Destination: "/data", Options: []string{"ro"}},
		{Type: "bind", Source: dir + "/new", Destination: "/new"},
		{Type: "bind", Source: dir, Destination: "/b", Options: []string{"ro"}},
		{Type: "tmpfs", Destination: "/t", Options: []string{"size=1m"}},
		{Type: "tmpfs", Destination: "/scratch", Options: []string{"size=2m"}},
	}
	if !reflect.DeepEqual(ms, want) || vols != nil {
		t.Fatalf("got %+v %+v\nwant %+v", ms, vols, want)
	}
	if _, err := os.Stat(dir + "/new"); err != nil {
		t.Fatal("-v did not create the missing host directory, as Docker does")
	}
	for _, bad := range []struct{ v, m, tmpfs []string }{
		{v: []string{"./rel:/x"}},
		{v: []string{"a:/x"}},
		{v: []string{"-name:/x"}},
		{v: []string{":/x"}},
		{v: []string{"rel"}},
		{v: []string{"name:/x:bogus"}},
		{v: []string{dir + ":/x:nocopy"}},
		{v: []string{dir + ":rel"}},
		{v: []string{dir + ":/x:bogus"}},
		{m: []string{"type=bind,target=/x"}},
		{m: []string{"type=bind,source=/does/not/exist,target=/x"}},
		{m: []string{"type=tmpfs,source=/x,target=/y"}},
		{m: []string{"type=volume,source=./v,target=/y"}},
		{m: []string{"type=volume,source=vol,target=/y,volume-opt=type=nfs"}},
		{m: []string{"type=volume,target=/y,volume-driver=nfs"}},
		{m: []string{"type=bind,source=/,target=/y,volume-nocopy"}},
		{v: []string{"vol:/same"}, m: []string{"type=volume,target=/same"}},
		{m: []string{"target=/y,bogus=1"}},
		{tmpfs: []string{"rel"}},
		{v: []string{dir + ":/same"}, tmpfs: []string{"/same"}},
	} {
		_, _, err := parseMounts(bad.v, bad.m, bad.tmpfs)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%+v: want a usage error, got %v", bad, err)
		}
	}
}

func TestParseVolumes(t *testing.T) {
	ms, vols, err := parseMounts(
		[]string{"data:/data", "/anon", "/anon-ro:ro", "cache:/cache:ro,nocopy", "logs:/logs:rw,z"},
		[]string{
			"type=volume,source=named,target=/m,readonly",
			"type=volume,target=/m2,volume-nocopy,volume-label=a=b,volume-driver=local",
			"target=/m3",
		},
		nil,
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []volumeRequest{
		{Name: "data", Destination: "/data", Mode: "z"},
		{Destination: "/anon"},
		{Destination: "/anon-ro", ReadOnly: true, Mode: "ro"},
		{Name: "cache", Destination: "/cache", ReadOnly: true, NoCopy: true, Mode: "ro,nocopy"},
		{Name: "logs", Destination: "/logs", Mode: "rw,z"},
		{Name: "named", Destination: "/m", ReadOnly: true},
		{Destination: "/m2", NoCopy: true, Labels: map[string]string{"a": "b"}},
		{Destination: "/m3"},
	}
	if ms != nil || !reflect.DeepEqual(vols, want) {
		t.Fatalf("got %+v %+v\nwant %+v", ms, vols, want)
	}
}

func TestVolumeFilter(t *testing.T) {
	vols := []*VolumeInspect{
		{Name: "alpha", Driver: "local", Labels: map[string]string{"team": "a"}, InUse: true},
		{Name: "beta", Driver: "local", Labels: map[string]string{"team": "b", "x": ""}},
		{Name: "alphabet", Driver: "local"},
	}
	for _, c := range []struct {
		filters []string
		want    string
	}{
		{nil, "alpha beta alphabet"},
		{[]string{"name=alpha"}, "alpha alphabet"},
		{[]string{"name=^alpha$"}, "alpha"},
		{[]string{"name=beta", "name=^alpha$"}, "alpha beta"},
		{[]string{"label=team"}, "alpha beta"},
		{[]string{"label=team=b"}, "beta"},
		{[]string{"label=x"}, "beta"},
		{[]string{"dangling=true"}, "beta alphabet"},
		{[]string{"dangling=false"}, "alpha"},
		{[]string{"dangling=true", "name=alpha"}, "alphabet"},
		{[]string{"driver=local", "label=team=a"}, "alpha"},
		{[]string{"label!=team=a"}, "beta alphabet"},
	} {
		args, err := filter.Parse(c.filters, VolumeFilters)
		if err != nil {
			t.Fatal(err)
		}
		match, err := volumeFilter(args)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vols {
			if match(v) {
				got = append(got, v.Name)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%v: got %q, want %q", c.filters, g, c.want)
		}
	}
	for _, bad := range []string{"dangling=maybe", "colour=red", "name=("} {
		args, err := filter.Parse([]string{bad}, VolumeFilters)
		if err == nil {
			_, err = volumeFilter(args)
		}
		if err == nil {
			t.Errorf("filter %q was accepted", bad)
		}
	}
}

func TestReadEnvFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(p, []byte("# c\n\nA=1\n  B=two words\nPASSED\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := readEnvFiles([]string{p})
	if err != nil || !reflect.DeepEqual(env, []string{"A=1", "B=two words", "PASSED"}) {
		t.Fatalf("got %v %v", env, err)
	}
	if err := os.WriteFile(p, []byte("BAD KEY=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readEnvFiles([]string{p}); err == nil {
		t.Fatal("a key with a space was accepted")
	}
}

func TestCheckCommand(t *testing.T) {
	root := t.TempDir()
	host := t.TempDir()
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{"bin/tool", 0o755}, {"bin/plain", 0o644}, {"etc/data", 0o644}, {"opt/x", 0o755}} {
		p := filepath.Join(root, f.path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(host, "mounted"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	// An absolute symlink must resolve inside the rootfs, not on the host.
	_ = os.Symlink("/bin/tool", filepath.Join(root, "bin", "link"))
	mounts := []spec.Mount{{Type: "bind", Source: host, Destination: "/mnt"}}
	sp := func(arg0 string) *specs.Spec {
		return &specs.Spec{Process: &specs.Process{Args: []string{arg0}, Cwd: "/opt", Env: []string{"PATH=/usr/bin:/bin"}}}
	}
	for _, tc := range []struct {
		arg0     string
		code     int // 0 ok, 126, 127
		notFound bool
	}{
		{"tool", 0, false}, {"/bin/tool", 0, false}, {"link", 0, false}, {"./x", 0, false},
		{"/mnt/mounted", 0, false},
		{"nosuch", 127, true}, {"/etc/data", 126, false}, {"/etc", 126, false}, {"/mnt/none", 127, true},
		// As exec.LookPath: in PATH only an executable file counts.
		{"plain", 127, true},
	} {
		err := checkCommand(root, sp(tc.arg0), mounts)
		var ce *CommandError
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: unexpected %v", tc.arg0, err)
		case tc.code != 0 && (!errors.As(err, &ce) || ce.NotFound != tc.notFound):
			t.Errorf("%s: got %v, want code %d", tc.arg0, err, tc.code)
		}
	}
}

// TestCommandErrorWords: the part of runc's (Go's exec.LookPath) message
// that Docker passes on and users grep for.
func TestCommandErrorWords(t *testing.T) {
	for _, tc := range []struct {
		err  *CommandError
		want string
	}{
		{&CommandError{Path: "nosuch", NotFound: true}, `exec: "nosuch": executable file not found in $PATH`},
		{&CommandError{Path: "/no/such", NotFound: true}, `exec: "/no/such": stat /no/such: no such file or directory`},
		{&CommandError{Path: "./x", NotFound: true}, `exec: "./x": stat ./x: no such file or directory`},
		{&CommandError{Path: "/etc/passwd", Err: fs.ErrPermission}, `exec: "/etc/passwd": permission denied`},
		{&CommandError{Path: "/etc", Err: syscall.EISDIR}, `exec: "/etc": is a directory`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		// The same words when the error crossed the control socket.
		if got := errOf(reportOf(tc.err), "c").Error(); got != tc.want {
			t.Errorf("over the socket: got %q, want %q", got, tc.want)
		}
	}
}

func TestNestedMappings(t *testing.T) {
	got := nestedMappings([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}})
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 1, Size: 65536}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, bad := range []RunOptions{
		{},
		{Image: "a", Pull: "sometimes"},
		{Image: "a", Network: "nosuch"},
		{Image: "a", Network: "container:x", Publish: []string{"80"}},
		{Image: "a", Network: "host", Hostname: "x"},
		{Image: "a", Name: "-x"},
		{Image: "a", Name: "a/b"},
	} {
		var ue *UsageError
		if err := validate(&bad); !errors.As(err, &ue) {
			t.Errorf("%+v: got %v", bad, err)
		}
	}
	// As Docker, -p with the host's network or none is discarded, with a
	// warning for host.
	for _, mode := range []string{"host", "none"} {
		discard := RunOptions{Image: "a", Network: mode, Publish: []string{"80"}}
		if err := validate(&discard); err != nil {
			t.Errorf("--network %s -p 80: %v", mode, err)
		}
		if w := discard.Warnings(); (mode == "host") != (len(w) == 1) {
			t.Errorf("--network %s -p 80: warnings %q", mode, w)
		}
	}
	ok := RunOptions{Image: "a", Name: "web_1.a-b"}
	if err := validate(&ok); err != nil || ok.Pull != PullMissing || ok.Network != NetworkBackend() {
		t.Fatalf("%+v %v", ok, err)
	}
}
