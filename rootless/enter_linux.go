package rootless

import (
	"errors"
	"fmt"
	"os"
)

// procSys is where the sysctls Preflight reads live; tests point it at a
// fake tree.
var procSys = "/proc/sys"

// Preflight returns a *DisabledError when this machine refuses unprivileged
// user namespaces, naming the switch that refuses them and how to flip it.
func Preflight() error {
	for _, c := range namespaceSwitches(Machine{ProcSys: procSys}) {
		if c.Status == StatusError {
			return &DisabledError{Cause: c.Detail, Fix: c.Fix}
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
