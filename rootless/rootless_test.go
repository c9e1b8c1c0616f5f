package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

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
		case tc.cause != "" && (!strings.Contains(de.Cause, tc.cause) || !strings.HasPrefix(de.Hint(), "sudo ")):
			t.Errorf("%v: error %q should name %q and a fix", tc.files, err, tc.cause)
		}
	}
}
