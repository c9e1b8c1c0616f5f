package rootless

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSubID(t *testing.T) {
	const file = `# comment
alice:100000:65536
1001:300000:1000
bob:200000:65536
alice:500000:10
carol:x:5
dave:1:0
`
	for _, tc := range []struct {
		name, id string
		want     []specs.LinuxIDMapping
	}{
		{"alice", "1000", []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}, {HostID: 500000, Size: 10}}},
		{"someone", "1001", []specs.LinuxIDMapping{{HostID: 300000, Size: 1000}}},
		{"carol", "1002", nil},
		{"dave", "1003", nil},
		{"nobody", "9", nil},
	} {
		got, err := parseSubID(bufio.NewScanner(strings.NewReader(file)), tc.name, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNamespaceMap(t *testing.T) {
	got := namespaceMap(1000, []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}, {HostID: 500000, Size: 10}})
	want := []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 1000, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536},
		{ContainerID: 65537, HostID: 500000, Size: 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseMap(t *testing.T) {
	got, err := parseMap("         0       1000          1\n         1     100000      65536\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := parseMap("0 1000\n"); err == nil {
		t.Fatal("a two-field line was accepted")
	}
}

func TestPreflight(t *testing.T) {
	for _, tc := range []struct {
		files map[string]string
		cause string // empty: allowed
	}{
		{map[string]string{"user/max_user_namespaces": "28633"}, ""},
		{map[string]string{"kernel/unprivileged_userns_clone": "0"}, "unprivileged_userns_clone"},
		{map[string]string{"user/max_user_namespaces": "0"}, "max_user_namespaces"},
		{map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "1"}, "AppArmor"},
		{map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "0", "kernel/unprivileged_userns_clone": "1"}, ""},
	} {
		dir := t.TempDir()
		for name, v := range tc.files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old := procSys
		procSys = dir
		err := Preflight()
		procSys = old
		var de *DisabledError
		switch {
		case tc.cause == "" && err != nil:
			t.Errorf("%v: unexpected %v", tc.files, err)
		case tc.cause != "" && !errors.As(err, &de):
			t.Errorf("%v: want a DisabledError, got %v", tc.files, err)
		case tc.cause != "" && (!strings.Contains(de.Cause, tc.cause) || !strings.Contains(de.Error(), "fix: ")):
			t.Errorf("%v: error %q should name %q and a fix", tc.files, err, tc.cause)
		}
	}
}
