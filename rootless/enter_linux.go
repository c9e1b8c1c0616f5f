package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// procSys is where the sysctls Preflight reads live; tests point it at a
// fake tree.
var procSys = "/proc/sys"

// Preflight returns a *DisabledError when this machine refuses unprivileged
// user namespaces, naming the switch that refuses them and how to flip it.
func Preflight() error {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(procSys, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if read("kernel/unprivileged_userns_clone") == "0" {
		return &DisabledError{
			Cause: "sysctl kernel.unprivileged_userns_clone is 0",
			Fix:   "sudo sysctl -w kernel.unprivileged_userns_clone=1",
		}
	}
	if read("user/max_user_namespaces") == "0" {
		return &DisabledError{
			Cause: "sysctl user.max_user_namespaces is 0",
			Fix:   "sudo sysctl -w user.max_user_namespaces=28633",
		}
	}
	if read("kernel/apparmor_restrict_unprivileged_userns") == "1" {
		return &DisabledError{
			Cause: "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
			Fix:   "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give box an AppArmor profile that allows userns",
		}
	}
	return nil
}

// EntryError says why the constructor in userns_linux.c could not move
// this unprivileged process into its namespace: a *DisabledError when a
// sysctl or AppArmor forbids user namespaces, else what failed.
func EntryError() error {
	if err := Preflight(); err != nil {
		return err
	}
	if msg := os.Getenv("_BOX_USERNS_ERROR"); msg != "" {
		return errors.New(msg)
	}
	return ErrNotInNamespace
}

// FallbackWarning is the one-line warning, with its fix, for a namespace
// that maps only the user's own id; empty when the ranges are mapped.
func FallbackWarning() string {
	reason, ok := os.LookupEnv("_BOX_USERNS_FALLBACK")
	if !ok {
		return ""
	}
	name := os.Getenv("USER")
	if id, err := Current(); err == nil && id.Username != "" {
		name = id.Username
	}
	const effect = "only your own id is mapped and files that images give to other users become yours"
	switch reason {
	case "no-range":
		return fmt.Sprintf("no subordinate id range for user %q in /etc/subuid and /etc/subgid, so %s; fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", name, effect, name)
	case "no-newuidmap":
		return "newuidmap/newgidmap not found, so " + effect + "; fix: sudo apt-get install uidmap"
	default:
		return reason + ", so " + effect + "; fix: check that newuidmap and newgidmap are setuid root (sudo apt-get install --reinstall uidmap)"
	}
}
