package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
)

// Sharing the namespaces of the host or of another container: --pid,
// --ipc, --uts and --cgroupns (host, container:NAME).

// planNamespaces turns --pid, --ipc, --uts and --cgroupns into the
// namespaces the spec shares: "" for the host's, a /proc path for a
// running container's. Rootless, another container's namespaces belong
// to its own user namespace, which a later box invocation, in a sibling
// namespace, may not enter (see DESIGN.md): Run has that container's
// monitor carry the run out (nsOwner), and the container joins the other
// one's user namespace as well, as Podman's does, since /proc and the
// message queues can be mounted only by the owner of the PID and IPC
// namespaces.
func (e *Engine) planNamespaces(p *runPlan) error {
	s := p.opts.Settings
	shared := map[specs.LinuxNamespaceType]string{}
	for _, n := range []namespaceFlag{
		{"pid", s.PID, specs.PIDNamespace}, {"ipc", s.IPC, specs.IPCNamespace},
		{"uts", s.UTS, specs.UTSNamespace}, {"cgroupns", s.Cgroupns, specs.CgroupNamespace},
	} {
		switch n.mode.Mode {
		case "host":
			shared[n.typ] = ""
		case "container":
			// A created container joins the owner's namespaces as they
			// are when it starts (joinOwnerNamespaces); until then its
			// spec names them by a path that does not exist (pid 0).
			pid := 0
			if p.opts.CreateOnly {
				if _, err := e.LookupContainer(n.mode.Container); err != nil {
					return err
				}
			} else {
				c, err := e.runningNamespaceOwner(n.flag, n.mode.Container)
				if err != nil {
					return err
				}
				if e.Identity.Rootless() && os.Getenv(networkOwnerEnv) != c.ID {
					// Run sends a rootless run to the owner's monitor first.
					return fmt.Errorf("the %s namespace of %s can be joined only by box run or start, through its monitor", n.flag, c.Name)
				}
				pid = c.init.PID
			}
			if e.Identity.Rootless() {
				p.userNSPath = fmt.Sprintf("/proc/%d/ns/user", pid)
			}
			shared[n.typ] = fmt.Sprintf("/proc/%d/ns/%s", pid, namespaceFile[n.typ])
		}
	}
	if len(shared) > 0 {
		p.shared = shared
	}
	return nil
}

// namespaceFile names a namespace type's file under /proc/PID/ns.
var namespaceFile = map[specs.LinuxNamespaceType]string{specs.PIDNamespace: "pid", specs.IPCNamespace: "ipc", specs.UserNamespace: "user"}

// namespaceFlag is one of --pid, --ipc, --uts and --cgroupns as given,
// with the namespace it is about.
type namespaceFlag struct {
	flag string
	mode flags.NamespaceMode
	typ  specs.LinuxNamespaceType
}

// sharedNamespaces are s's --pid and --ipc container:NAME.
func sharedNamespaces(s Settings) []namespaceFlag {
	var out []namespaceFlag
	for _, n := range []namespaceFlag{{"pid", s.PID, specs.PIDNamespace}, {"ipc", s.IPC, specs.IPCNamespace}} {
		if n.mode.Mode == "container" {
			out = append(out, n)
		}
	}
	return out
}

// joinOwnerNamespaces points sp at the PID and IPC namespaces of the
// containers rec's --pid and --ipc name, and rootless at their user
// namespace, as they are now: created before, or restarted since.
func (e *Engine) joinOwnerNamespaces(rec *record, sp *specs.Spec) error {
	for _, n := range sharedNamespaces(rec.Settings) {
		c, err := e.runningNamespaceOwner(n.flag, n.mode.Container)
		if err != nil {
			return err
		}
		if e.Identity.Rootless() && os.Getenv(networkOwnerEnv) != c.ID {
			return fmt.Errorf("the %s namespace of %s can be joined only by box run or start, through its monitor", n.flag, c.Name)
		}
		for i, ns := range sp.Linux.Namespaces {
			if ns.Type == n.typ || ns.Type == specs.UserNamespace && e.Identity.Rootless() {
				sp.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", c.init.PID, namespaceFile[ns.Type])
			}
		}
		if e.Identity.Rootless() {
			sp.Linux.UIDMappings, sp.Linux.GIDMappings = nil, nil
		}
	}
	return nil
}

// namespaceOwner is the container a rootless start of rec must go
// through (its --pid or --ipc container:NAME), or nil.
func (e *Engine) namespaceOwner(rec *record) (*Container, error) {
	ns := sharedNamespaces(rec.Settings)
	if len(ns) == 0 {
		return nil, nil
	}
	// nsOwner let only one container's namespaces be shared.
	return e.runningNamespaceOwner(ns[0].flag, ns[0].mode.Container)
}

// runningNamespaceOwner is the container --pid or --ipc (flag) names
// with container:NAME, which must be running.
func (e *Engine) runningNamespaceOwner(flag, name string) (*Container, error) {
	c, err := e.LookupContainer(name)
	if err != nil {
		return nil, err
	}
	if c.State != Running || c.init == nil || !c.init.alive() {
		// Docker's words.
		return nil, &UsageError{Msg: fmt.Sprintf("cannot join %s of a non running container: %s", strings.ToUpper(flag), c.ID)}
	}
	return c, nil
}

// nsOwner is the container whose PID or IPC namespace a rootless run
// shares (--pid/--ipc container:NAME), which then carries the run out
// (see planNamespaces), or nil. Both flags and --network container:
// must name the same container: a run goes through one monitor.
func (e *Engine) nsOwner(opts *RunOptions, netOwner *Container) (*Container, error) {
	if !e.Identity.Rootless() {
		return nil, nil
	}
	var owner *Container
	for _, n := range sharedNamespaces(opts.Settings) {
		c, err := e.LookupContainer(n.mode.Container)
		if err == nil && !opts.CreateOnly {
			c, err = e.runningNamespaceOwner(n.flag, n.mode.Container)
		}
		if err != nil {
			return nil, err
		}
		if owner != nil && owner.ID != c.ID || netOwner != nil && netOwner.ID != c.ID {
			return nil, &UsageError{Msg: fmt.Sprintf("--%s container:%s: a rootless container can share the namespaces of one other container only (--pid, --ipc and --network container: must name the same)", n.flag, n.mode.Container)}
		}
		owner = c
	}
	if owner != nil && (opts.userNetwork || len(opts.Networks) > 0) {
		return nil, &UsageError{Msg: "--pid/--ipc container: rootless works on the default network only (with a user network it needs root)"}
	}
	if owner != nil && (opts.Settings.Userns.Mode != "" && opts.Settings.Userns.Mode != "host" || len(opts.Settings.UIDMap)+len(opts.Settings.GIDMap) > 0) {
		return nil, &UsageError{Msg: "conflicting options: --userns/--uidmap and --pid/--ipc container: (the container joins the other one's user namespace)"}
	}
	return owner, nil
}
