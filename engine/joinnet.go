package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"box/engine/flags"
)

// Sharing another container's network: --network container:NAME.
//
// A rootless container's network namespace belongs to the container's own
// user namespace, a child of the one its box invocation made. Only a
// process of that invocation's namespace may join it; a later box lives in
// a sibling namespace and may not. So a run or start of a container in
// another's network is carried out by that container's monitor: Run and
// Start send it the typed request, with this process's stdio, environment
// and working directory, and the monitor starts box as a network guest
// (rootless.RoleNetworkGuest) inside its namespace, which makes the same
// engine call there (guest_client.go, guest_server.go). Root needs none of
// this and joins directly. A rootless --pid or --ipc container:NAME goes
// the same way (nsOwner, planNamespaces in settings.go).

// networkOwnerEnv names, in a box that a monitor runs for a client, the
// container whose namespace it runs in.
const networkOwnerEnv = "_BOX_NETWORK_OWNER"

// networkOwnerName is NAME of a recorded "container:NAME" mode (the
// spelling flags.Network gives it), or "".
func networkOwnerName(mode string) string {
	n := flags.ParseNetwork(mode)
	if n.Mode != flags.NetworkContainer {
		return ""
	}
	return n.Name
}

// NotRunningOwnerError is a container to share the network of that is not
// running.
type NotRunningOwnerError struct{ ID string }

func (e *NotRunningOwnerError) Error() string {
	return "cannot join network of a non running container: " + e.ID
}

// runningOwner finds the container whose network mode shares, which must
// be running.
func (e *Engine) runningOwner(mode string) (*Container, error) {
	c, err := e.LookupContainer(networkOwnerName(mode))
	if err != nil {
		return nil, err
	}
	if c.State != Running || c.Pid == 0 {
		return nil, &NotRunningOwnerError{ID: c.ID}
	}
	return c, nil
}

// networkOwner is the container whose network opts share, nil for other
// modes; the mode then names it by id. It must run unless the container
// is only created.
func (e *Engine) networkOwner(opts *RunOptions) (*Container, error) {
	if opts.Network.Mode != flags.NetworkContainer {
		return nil, nil
	}
	c, err := e.LookupContainer(opts.Network.Name)
	if err != nil {
		return nil, err
	}
	if !opts.CreateOnly && c.State != Running {
		return nil, &NotRunningOwnerError{ID: c.ID}
	}
	opts.Network = flags.Network{Mode: flags.NetworkContainer, Name: c.ID}
	return c, nil
}

// ownerEtcFiles are the owner's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, which a container sharing its network uses as Docker
// does, and the owner's hostname.
func (e *Engine) ownerEtcFiles(owner string) (map[string]string, string, error) {
	dir, err := e.Store.ContainerDir(owner)
	if err != nil {
		return nil, "", err
	}
	files := map[string]string{}
	for _, dst := range []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"} {
		p := filepath.Join(dir, filepath.Base(dst))
		if _, err := os.Stat(p); err != nil {
			return nil, "", fmt.Errorf("network of %s: %w", owner, err)
		}
		files[dst] = p
	}
	host, err := os.ReadFile(files["/etc/hostname"])
	if err != nil {
		return nil, "", err
	}
	return files, strings.TrimSpace(string(host)), nil
}

// joinOwnerNetwork points sp at the network namespace of the container
// rec shares, as it is now: the owner may have been restarted since rec
// was created.
func (e *Engine) joinOwnerNetwork(rec *record, sp *specs.Spec) error {
	if networkOwnerName(rec.NetworkMode) == "" {
		return nil
	}
	c, err := e.runningOwner(rec.NetworkMode)
	if err != nil {
		return err
	}
	if e.joinsThroughOwner(c.ID) {
		return fmt.Errorf("the network of %s can be joined only by box run or box start, through its monitor", c.Name)
	}
	for i, ns := range sp.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			sp.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", c.Pid)
			return nil
		}
	}
	return errors.New("container spec has no network namespace")
}
