package engine

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/rootless"
)

// namespaceHolder holds a new network namespace, and for a rootless
// container the user namespace that owns it, made before the container
// is: the container's network can then be set up (pasta's start takes
// longer than the rest) while runc creates the container, which joins
// both by path. Once the container runs, its processes hold them.
type namespaceHolder struct {
	cmd *exec.Cmd
	w   *os.File
}

// holdNamespaces starts a holder for the namespaces of sp that the
// container's network lives in, and returns sp joined to them.
func holdNamespaces(sp *specs.Spec) (*namespaceHolder, *specs.Spec, error) {
	userns := false
	for _, ns := range sp.Linux.Namespaces {
		// A user namespace joined by path (another container's) is not
		// made here: the network namespace is then box's own.
		userns = userns || ns.Type == specs.UserNamespace && ns.Path == ""
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("container namespaces: %w", err)
	}
	defer r.Close()
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if userns {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = sysMappings(sp.Linux.UIDMappings)
		attr.GidMappings = sysMappings(sp.Linux.GIDMappings)
		// The container sets its processes' groups, where box's own
		// namespace allows it (not where only the user's id is mapped).
		b, _ := os.ReadFile("/proc/self/setgroups")
		attr.GidMappingsEnableSetgroups = strings.TrimSpace(string(b)) == "allow"
	}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"box", string(rootless.RoleNamespaceHolder)}, Stdin: r, SysProcAttr: attr}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("container namespaces: %w", err)
	}
	joined := *sp
	linux := *sp.Linux
	linux.Namespaces = append([]specs.LinuxNamespace(nil), sp.Linux.Namespaces...)
	for i, ns := range linux.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace:
			linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
		case specs.UserNamespace:
			if !userns {
				continue
			}
			linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid)
		}
	}
	if userns {
		// runc takes the mappings from the namespace it joins.
		linux.UIDMappings, linux.GIDMappings = nil, nil
	}
	joined.Linux = &linux
	return &namespaceHolder{cmd: cmd, w: w}, &joined, nil
}

// pid is the holder's, by which its namespaces are found.
func (h *namespaceHolder) pid() int { return h.cmd.Process.Pid }

// release ends the holder; it is idempotent.
func (h *namespaceHolder) release() {
	if h == nil || h.w == nil {
		return
	}
	h.w.Close()
	h.w = nil
	_ = h.cmd.Wait()
}

func sysMappings(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, r := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(r.ContainerID), HostID: int(r.HostID), Size: int(r.Size)}
	}
	return out
}
