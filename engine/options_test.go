package engine

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
	"box/engine/network"
	"box/engine/spec"
	"box/storage/filter"
)

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
		{Image: "a", Network: flags.ParseNetwork("nosuch")},
		{Image: "a", Network: flags.ParseNetwork("container:"), Publish: []network.Port{{ContainerPort: 80}}},
		{Image: "a", Network: flags.ParseNetwork("container:x"), Publish: []network.Port{{ContainerPort: 80}}},
		{Image: "a", Network: flags.ParseNetwork("container:x"), Names: flags.NameOptions{DNS: []string{"1.1.1.1"}}},
		{Image: "a", Network: flags.ParseNetwork("container:x"), Names: flags.NameOptions{Hosts: []flags.Host{{Name: "a", IP: "1.2.3.4"}}}},
		{Image: "a", Network: flags.ParseNetwork("host"), Hostname: "x"},
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
		discard := RunOptions{Image: "a", Network: flags.ParseNetwork(mode), Publish: []network.Port{{ContainerPort: 80}}}
		if err := validate(&discard); err != nil {
			t.Errorf("--network %s -p 80: %v", mode, err)
		}
		if w := discard.Warnings(); (mode == "host") != (len(w) == 1) {
			t.Errorf("--network %s -p 80: warnings %q", mode, w)
		}
	}
	ok := RunOptions{Image: "a", Name: "web_1.a-b"}
	if err := validate(&ok); err != nil || ok.Pull != PullMissing || ok.Network.String() != NetworkBackend() {
		t.Fatalf("%+v %v", ok, err)
	}
}

func TestMountsOf(t *testing.T) {
	dir := t.TempDir()
	ms, vols, err := mountsOf([]flags.Mount{
		{Type: flags.Bind, Source: dir + "/new", Destination: "/new", MakeSource: true},
		{Type: flags.Bind, Source: dir, Destination: "/b", ReadOnly: true, Options: []string{"rslave"}},
		{Type: flags.Tmpfs, Destination: "/t", ReadOnly: true, Options: []string{"size=1m"}},
		{Type: flags.Volume, Source: "data", Destination: "/data", ReadOnly: true, Mode: "ro", Options: []string{"rshared"}, Labels: map[string]string{"a": "b"}},
		{Type: flags.Volume, Destination: "/anon", NoCopy: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantMounts := []spec.Mount{
		{Type: "bind", Source: dir + "/new", Destination: "/new"},
		{Type: "bind", Source: dir, Destination: "/b", Options: []string{"rslave", "ro"}},
		{Type: "tmpfs", Destination: "/t", Options: []string{"size=1m", "ro"}},
	}
	wantVols := []volumeRequest{
		{Name: "data", Destination: "/data", ReadOnly: true, Mode: "ro", Options: []string{"rshared"}, Labels: map[string]string{"a": "b"}},
		{Destination: "/anon", NoCopy: true},
	}
	if !reflect.DeepEqual(ms, wantMounts) || !reflect.DeepEqual(vols, wantVols) {
		t.Fatalf("got  %+v %+v\nwant %+v %+v", ms, vols, wantMounts, wantVols)
	}
	if _, err := os.Stat(dir + "/new"); err != nil {
		t.Fatal("a -v bind did not make its missing host directory, as Docker does")
	}
	if _, _, err := mountsOf([]flags.Mount{{Type: flags.Bind, Source: dir + "/nomake", Destination: "/x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/nomake"); err == nil {
		t.Fatal("a --mount bind made its host directory: Docker refuses a missing one")
	}
}

func TestContainerLabels(t *testing.T) {
	for _, c := range []struct{ image, run, want map[string]string }{
		{nil, nil, nil},
		{map[string]string{"a": "img", "b": "img"}, map[string]string{"a": "run"}, map[string]string{"a": "run", "b": "img"}},
		{nil, map[string]string{"k": ""}, map[string]string{"k": ""}},
	} {
		image := maps.Clone(c.image)
		if got := containerLabels(image, c.run); !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(image, c.image) {
			t.Errorf("%v under %v: got %v, want %v (image's untouched)", c.run, c.image, got, c.want)
		}
	}
}
