package spec

import (
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions are `box exec`'s choices for a process that joins a
// running container.
type ExecOptions struct {
	Args []string
	// Env holds KEY=VALUE entries over the container's environment.
	Env        []string
	User       string // the container's user when empty
	WorkingDir string // the container's when empty
	TTY        bool
	Privileged bool
}

// ExecProcess is the process `box exec` starts in a container made from
// base, whose root filesystem is at rootfs: the container's environment
// with o.Env over it, its user and working directory unless o names
// others, and its capabilities (every one box may grant with Privileged).
func ExecProcess(base *specs.Spec, rootfs string, o ExecOptions) (*specs.Process, error) {
	if len(o.Args) == 0 {
		return nil, &UsageError{Msg: "no command specified"}
	}
	bp := base.Process
	p := &specs.Process{
		Terminal:        o.TTY,
		Args:            o.Args,
		Cwd:             bp.Cwd,
		User:            bp.User,
		NoNewPrivileges: bp.NoNewPrivileges,
		Capabilities:    bp.Capabilities,
		ApparmorProfile: bp.ApparmorProfile,
		SelinuxLabel:    bp.SelinuxLabel,
	}
	if o.WorkingDir != "" {
		if !path.IsAbs(o.WorkingDir) {
			return nil, &UsageError{Msg: fmt.Sprintf("the working directory %q is invalid: it needs to be an absolute path", o.WorkingDir)}
		}
		p.Cwd = path.Clean(o.WorkingDir)
	}
	home := ""
	if o.User != "" {
		u, err := resolveUser(rootfs, o.User)
		if err != nil {
			return nil, err
		}
		if err := checkMapped(u, base.Linux.UIDMappings, base.Linux.GIDMappings); err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uint32(u.Uid), GID: uint32(u.Gid), AdditionalGids: groups(u)}
		home = u.Home
	}
	if o.Privileged {
		caps := AllCaps()
		p.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}

	env := append([]string{}, bp.Env...)
	set := func(kv string) { env = SetEnv(env, kv) }
	if home != "" {
		// The other user's home, as a login would set it.
		set("HOME=" + home)
	}
	if o.TTY && !HasEnv(env, "TERM") {
		set("TERM=xterm")
	}
	for _, e := range o.Env {
		k, _, ok := strings.Cut(e, "=")
		if k == "" || !ok {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid environment variable %q: want KEY=VALUE", e)}
		}
		set(e)
	}
	p.Env = env
	if o.TTY {
		p.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	}
	return p, nil
}
