package rootless

import (
	"flag"
	"os"
	"testing"
)

var updateRolesHeader = flag.Bool("update-roles-header", false, "rewrite roles_gen.h from roles.go")

// TestRolesHeader keeps the C constructor's copy of the role table the one
// roles.go renders.
func TestRolesHeader(t *testing.T) {
	want := rolesHeader()
	if *updateRolesHeader {
		if err := os.WriteFile("roles_gen.h", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("roles_gen.h")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("roles_gen.h is not what roles.go renders; run: go generate ./rootless\n--- want:\n%s", want)
	}
}

func TestRoleOf(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Role
	}{
		{nil, RoleCLI},
		{[]string{"box"}, RoleCLI},
		{[]string{"box", "run", "alpine"}, RoleCLI},
		{[]string{"/proc/self/exe", "init"}, RoleContainerInit},
		{[]string{"/dev/init", "__init", "--", "sh"}, RoleInit},
		{[]string{"/proc/self/exe", "__monitor", "/r", "/rr", "overlay", "id"}, RoleMonitor},
		{[]string{"box", "__nshold"}, RoleNamespaceHolder},
		{[]string{"box", "__netguest"}, RoleNetworkGuest},
		{[]string{"storage-untar", "/x"}, RoleStorageHelper},
		{[]string{"/usr/bin/chown-by-maps"}, RoleStorageHelper},
		{[]string{"box", "--root", "init"}, RoleCLI},
	} {
		if got := RoleOf(tc.args); got != tc.want {
			t.Errorf("RoleOf(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestNeedsNamespace drives the constructor's own decision (C) through
// NeedsNamespace.
func TestNeedsNamespace(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"box"}, false},
		{[]string{"box", "run", "alpine"}, true},
		{[]string{"box", "images"}, true},
		{[]string{"box", "version"}, false},
		{[]string{"box", "help"}, false},
		{[]string{"box", "login", "-u", "x"}, false},
		{[]string{"box", "search", "x"}, false},
		{[]string{"box", "completion", "bash"}, false},
		{[]string{"box", "__complete", "rm", ""}, false},
		{[]string{"box", "--root", "/r", "__complete", "rmi", "a"}, false},
		{[]string{"box", "--help"}, false},
		{[]string{"box", "--version"}, false},
		{[]string{"box", "-v"}, false},
		{[]string{"box", "--root", "version", "ps"}, true},
		{[]string{"box", "--root", "/r", "version"}, false},
		{[]string{"box", "--log-level", "debug", "ps"}, true},
		{[]string{"box", "--root"}, true},
		{[]string{"box", "__monitor", "/r", "/rr", "overlay", "id"}, false},
		{[]string{"box", "__netguest"}, false},
		{[]string{"box", "__nshold"}, false},
		{[]string{"/proc/self/exe", "init"}, false},
		{[]string{"/dev/init", "__init", "--", "sh"}, false},
		{[]string{"/lib64/ld-linux-x86-64.so.2", "--library-path", "/dev/.box-init", "/dev/init", "__init", "--", "sh"}, false},
		{[]string{"storage-untar", "/x"}, false},
		{[]string{"chown-by-maps"}, false},
	} {
		if got := NeedsNamespace(tc.args); got != tc.want {
			t.Errorf("NeedsNamespace(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
