package flags

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseMounts(t *testing.T) {
	dir := t.TempDir()
	got, err := ParseMounts(
		[]string{dir + ":/data:ro", dir + "/new:/new", dir + "/:/p:rshared,rw"},
		[]string{"type=bind,source=" + dir + ",target=/b,readonly,bind-propagation=rslave", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777"},
		[]string{"/scratch:size=2m", "/plain"},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Type: Bind, Source: dir, Destination: "/data", ReadOnly: true, MakeSource: true},
		{Type: Bind, Source: dir + "/new", Destination: "/new", MakeSource: true},
		{Type: Bind, Source: dir, Destination: "/p", Options: []string{"rshared"}, MakeSource: true},
		{Type: Bind, Source: dir, Destination: "/b", ReadOnly: true, Options: []string{"rslave"}},
		{Type: Tmpfs, Destination: "/t", Options: []string{"size=1m", "mode=1777"}},
		{Type: Tmpfs, Destination: "/scratch", Options: []string{"size=2m"}},
		{Type: Tmpfs, Destination: "/plain"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if _, err := os.Stat(dir + "/new"); err == nil {
		t.Fatal("parsing made the -v host directory: that is the engine's to do")
	}
}

func TestParseVolumes(t *testing.T) {
	got, err := ParseMounts(
		[]string{"data:/data", "/anon", "/anon-ro:ro", "cache:/cache:ro,nocopy", "logs:/logs:rw,z"},
		[]string{
			"type=volume,source=named,target=/m,readonly",
			"type=volume,target=/m2,volume-nocopy,volume-label=a=b,volume-driver=local",
			"target=/m3",
			"src=v4,dst=/m4,ro=false,volume-nocopy=0",
			"dst=/m5/./",
		},
		nil,
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Type: Volume, Source: "data", Destination: "/data", Mode: "z"},
		{Type: Volume, Destination: "/anon"},
		{Type: Volume, Destination: "/anon-ro", ReadOnly: true, Mode: "ro"},
		{Type: Volume, Source: "cache", Destination: "/cache", ReadOnly: true, NoCopy: true, Mode: "ro,nocopy"},
		{Type: Volume, Source: "logs", Destination: "/logs", Mode: "rw,z"},
		{Type: Volume, Source: "named", Destination: "/m", ReadOnly: true},
		{Type: Volume, Destination: "/m2", NoCopy: true, Labels: map[string]string{"a": "b"}},
		{Type: Volume, Destination: "/m3"},
		{Type: Volume, Source: "v4", Destination: "/m4"},
		{Type: Volume, Destination: "/m5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseMountsRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		v, m, tmpfs []string
		want        string // part of the one-line message
	}{
		{v: []string{"./rel:/x"}, want: "invalid"},
		{v: []string{"a:/x"}, want: ""},
		{v: []string{"-name:/x"}, want: ""},
		{v: []string{":/x"}, want: `invalid volume specification ":/x"`},
		{v: []string{"rel"}, want: "the container path must be absolute"},
		{v: []string{"name:/x:bogus"}, want: `unknown option "bogus"`},
		{v: []string{dir + ":/x:nocopy"}, want: "nocopy applies to volumes"},
		{v: []string{dir + ":rel"}, want: "the container path must be absolute"},
		{v: []string{dir + ":/x:bogus"}, want: `unknown option "bogus"`},
		{v: []string{"a:b:c:d"}, want: "want [SOURCE:]/container/path[:OPTIONS]"},
		{m: []string{"type=bind,target=/x"}, want: "source is required for a bind mount"},
		{m: []string{"type=bind,source=rel,target=/x"}, want: "source must be an absolute path"},
		{m: []string{"type=bind,source=/does/not/exist,target=/x"}, want: "bind source path does not exist: /does/not/exist"},
		{m: []string{"type=tmpfs,source=/x,target=/y"}, want: "a tmpfs mount takes no source"},
		{m: []string{"type=volume,source=./v,target=/y"}, want: ""},
		{m: []string{"type=volume,source=vol,target=/y,volume-opt=type=nfs"}, want: "volume-opt is not supported"},
		{m: []string{"type=volume,target=/y,volume-driver=nfs"}, want: `volume driver "nfs" not found`},
		{m: []string{"type=bind,source=/,target=/y,volume-nocopy"}, want: "volume-nocopy applies to type=volume only"},
		{m: []string{"type=cache,target=/y"}, want: `unknown mount type "cache"`},
		{m: []string{"type=volume,source=v"}, want: "target is required"},
		{m: []string{"type=volume,target=rel"}, want: "target must be an absolute path"},
		{m: []string{"target=/y,readonly=maybe"}, want: "readonly takes true or false"},
		{m: []string{"target=/y,bogus=1"}, want: `unknown key "bogus"`},
		{v: []string{"vol:/same"}, m: []string{"type=volume,target=/same/"}, want: "duplicate mount point: /same"},
		{tmpfs: []string{"rel"}, want: `invalid --tmpfs "rel": the mount point must be an absolute path`},
		{v: []string{dir + ":/same"}, tmpfs: []string{"/same"}, want: "duplicate mount point: /same"},
		{v: []string{"vol:/x/.."}, want: "destination can't be '/'"},
		{m: []string{"dst=/."}, want: "destination can't be '/'"},
		{tmpfs: []string{"//"}, want: "destination can't be '/'"},
	} {
		_, err := ParseMounts(c.v, c.m, c.tmpfs)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("-v %q --mount %q --tmpfs %q: want a one-line usage error about %q, got %v", c.v, c.m, c.tmpfs, c.want, err)
		}
	}
}

func TestParseVolumesFrom(t *testing.T) {
	got, err := ParseVolumesFrom([]string{"a", "b:ro", "c:rw"})
	want := []VolumesFrom{{Container: "a"}, {Container: "b", Mode: "ro"}, {Container: "c", Mode: "rw"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	var ue *UsageError
	if _, err := ParseVolumesFrom([]string{"a:rx"}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "the mode must be ro or rw") {
		t.Fatalf("a:rx: got %v", err)
	}
}
