package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
	"box/engine/volume"
	"box/storage"
)

// Progress is told of every step on a project's resources, in Docker
// Compose's words: kind is Network, Volume or Container, status
// Creating, Created, Starting, Started, Running, Recreate, Waiting,
// Healthy, Exited, Stopping, Stopped, Removing, Removed.
type Progress func(kind, name, status string)

// Compose runs projects on one engine. Warnings (keys box ignores,
// orphans) go to Warn; steps to Progress; the output of image builds
// to BuildOutput (nil: discarded).
type Compose struct {
	Engine      *engine.Engine
	Warn        io.Writer
	Progress    Progress
	BuildOutput io.Writer

	// pulls holds one lock per image, so that services that up makes
	// side by side pull an image they share once.
	pulls sync.Map // image → *sync.Mutex
	// warned are the engine's warnings already given, each given once.
	warned sync.Map
}

func (c *Compose) progress(kind, name, status string) {
	if c.Progress != nil {
		c.Progress(kind, name, status)
	}
}

func (c *Compose) warnf(format string, args ...any) {
	if c.Warn != nil {
		fmt.Fprintf(c.Warn, "WARN[0000] "+format+"\n", args...)
	}
}

// UpOptions are up's choices.
type UpOptions struct {
	// RemoveOrphans removes the project's containers whose service is no
	// longer in the file; without it they are named in a warning.
	RemoveOrphans bool
	// Wait returns once every service runs, and is healthy when it has a
	// healthcheck; WaitTimeout bounds that (0: no bound).
	Wait        bool
	WaitTimeout time.Duration
	// Recreate says which existing containers are made again: those
	// whose configuration changed (RecreateDiverged, the default), all
	// (RecreateForce) or none (RecreateNever).
	Recreate Recreate
	// Timeout replaces the services' stop grace period for containers
	// that are recreated, when set.
	Timeout *time.Duration
	// CreateOnly makes the containers and starts none (compose create):
	// no dependency is waited for then.
	CreateOnly bool
	// Build says when services' images are built (build.go).
	Build BuildPolicy
}

// Recreate is up's policy for existing containers.
type Recreate string

const (
	RecreateDiverged Recreate = ""
	RecreateForce    Recreate = "force"
	RecreateNever    Recreate = "never"
)

// DependencyError is a service up could not start because one it
// depends on did not get where the file asks.
type DependencyError struct {
	Service, Container, Reason string
}

func (e *DependencyError) Error() string {
	return fmt.Sprintf("dependency failed to start: container %s %s", e.Container, e.Reason)
}

// Up creates what the project needs and brings every service to its
// file: networks and volumes that are missing are made; a service's
// containers that match the file (by config hash) are left alone, or
// started when stopped; those that do not are recreated. Services start
// in dependency order, each once its dependencies meet their condition.
// Up is idempotent: run again on an unchanged file, it changes nothing.
func (c *Compose) Up(ctx context.Context, p *types.Project, opts UpOptions) error {
	order, err := StartOrder(p.Services)
	if err != nil {
		return err
	}
	for _, name := range order {
		s := p.Services[name]
		for _, key := range unsupportedKeys(s) {
			c.warnf("service %q: %s is not supported by box yet and is ignored", name, key)
		}
		// A key the engine would refuse stops up before it makes
		// anything.
		if _, err := runOptions(p, s, 1, "", storage.Version); err != nil {
			return err
		}
	}
	if err := c.ensureImages(ctx, p, opts.Build); err != nil {
		return err
	}
	if err := c.ensureNetworks(p); err != nil {
		return err
	}
	if err := c.ensureVolumes(p); err != nil {
		return err
	}
	existing, err := c.containers(p.Name, true)
	if err != nil {
		return err
	}
	if err := c.orphans(ctx, p, existing, opts.RemoveOrphans); err != nil {
		return err
	}
	if err := c.bringUp(ctx, p, order, existing, opts); err != nil {
		return err
	}
	if opts.Wait {
		return c.wait(ctx, p, order, opts.WaitTimeout)
	}
	return nil
}

// containers are the project's containers (oneoff ones too when all),
// sorted by name.
func (c *Compose) containers(project string, all bool) ([]*engine.Container, error) {
	list, err := c.Engine.Containers()
	if err != nil {
		return nil, err
	}
	var out []*engine.Container
	for _, ctr := range list {
		if ctr.Labels[LabelProject] != project {
			continue
		}
		if !all && ctr.Labels[LabelOneoff] == "True" {
			continue
		}
		out = append(out, ctr)
	}
	slices.SortFunc(out, func(a, b *engine.Container) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

func byService(list []*engine.Container, service string) []*engine.Container {
	var out []*engine.Container
	for _, c := range list {
		if c.Labels[LabelService] == service && c.Labels[LabelOneoff] != "True" {
			out = append(out, c)
		}
	}
	return out
}

func (c *Compose) ensureNetworks(p *types.Project) error {
	for _, key := range usedNetworks(p) {
		nw := p.Networks[key]
		if _, err := c.Engine.InspectNetwork(nw.Name); err == nil {
			continue
		} else if !errors.Is(err, engine.ErrNoSuchNetwork) {
			return err
		}
		if bool(nw.External) {
			return fmt.Errorf("network %s declared as external, but could not be found", nw.Name)
		}
		if nw.Driver != "" && nw.Driver != "bridge" {
			return fmt.Errorf("network %s: driver %q is not supported by box (bridge only)", key, nw.Driver)
		}
		opts := engine.NetworkCreateOptions{
			Name: nw.Name, Internal: nw.Internal,
			Labels: []string{LabelProject + "=" + p.Name, LabelNetwork + "=" + key, LabelVersion + "=" + storage.Version},
		}
		opts.Labels = append(opts.Labels, types.Mapping(nw.Labels).Values()...)
		if d := nw.Ipam.Driver; d != "" && d != "default" {
			return fmt.Errorf("network %s: IPAM driver %q is not supported by box (default only)", key, d)
		}
		if len(nw.Ipam.Config) > 1 {
			return fmt.Errorf("network %s: box gives a network one subnet, not %d", key, len(nw.Ipam.Config))
		}
		if len(nw.Ipam.Config) > 0 {
			cfg := nw.Ipam.Config[0]
			if len(cfg.AuxiliaryAddresses) > 0 {
				return fmt.Errorf("network %s: ipam aux_addresses are not supported by box", key)
			}
			opts.Subnet, opts.Gateway, opts.IPRange = cfg.Subnet, cfg.Gateway, cfg.IPRange
		}
		// The engine refuses IPv6 and the options that do not apply, by
		// name, as network create does.
		opts.IPv6 = nw.EnableIPv6 != nil && *nw.EnableIPv6
		opts.Options = types.Mapping(nw.DriverOpts).Values()
		c.progress("Network", nw.Name, "Creating")
		if _, err := c.Engine.CreateNetwork(opts); err != nil {
			return fmt.Errorf("network %s: %w", nw.Name, err)
		}
		c.progress("Network", nw.Name, "Created")
	}
	return nil
}

// usedNetworks are the keys of the project's networks that some
// service is on, sorted.
func usedNetworks(p *types.Project) []string {
	var out []string
	for _, s := range p.Services {
		if s.NetworkMode != "" {
			continue
		}
		for key := range s.Networks {
			if !slices.Contains(out, key) {
				out = append(out, key)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (c *Compose) ensureVolumes(p *types.Project) error {
	keys := make([]string, 0, len(p.Volumes))
	for k := range p.Volumes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := p.Volumes[key]
		if _, err := c.Engine.InspectVolume(v.Name); err == nil {
			continue
		} else if !errors.Is(err, volume.ErrNoSuchVolume) {
			return err
		}
		if bool(v.External) {
			return fmt.Errorf("external volume %q not found", v.Name)
		}
		if v.Driver != "" && v.Driver != "local" {
			return fmt.Errorf("volume %s: driver %q is not supported by box (local only)", key, v.Driver)
		}
		labels := map[string]string{LabelProject: p.Name, LabelVolume: key, LabelVersion: storage.Version}
		for k, val := range v.Labels {
			labels[k] = val
		}
		c.progress("Volume", v.Name, "Creating")
		opts := engine.VolumeCreateOptions{Name: v.Name, Labels: labels, Options: types.Mapping(v.DriverOpts).Values()}
		if _, err := c.Engine.CreateVolume(opts); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		c.progress("Volume", v.Name, "Created")
	}
	return nil
}

// orphans are the project's containers whose service the file no
// longer has: removed with remove, else named in a warning as Docker
// Compose does.
func (c *Compose) orphans(ctx context.Context, p *types.Project, existing []*engine.Container, remove bool) error {
	var names []string
	var found []*engine.Container
	for _, ctr := range existing {
		if _, ok := p.Services[ctr.Labels[LabelService]]; ok || ctr.Labels[LabelOneoff] == "True" {
			continue
		}
		if _, disabled := p.DisabledServices[ctr.Labels[LabelService]]; disabled {
			continue
		}
		names = append(names, ctr.Name)
		found = append(found, ctr)
	}
	if len(found) == 0 {
		return nil
	}
	if !remove {
		c.warnf("Found orphan containers (%v) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", names)
		return nil
	}
	for _, ctr := range found {
		if err := c.remove(ctx, ctr, defaultStopTimeout, 0, false); err != nil {
			return err
		}
	}
	return nil
}

// converge brings a service's containers to the file: the first scale
// numbers are kept, started, created or recreated; the others go. It
// says which containers it kept running (running) and whether it made
// any anew (remade).
func (c *Compose) converge(ctx context.Context, p *types.Project, s types.ServiceConfig, have []*engine.Container, opts UpOptions) (running []string, remade bool, err error) {
	hash, err := ConfigHash(s)
	if err != nil {
		return nil, false, err
	}
	scale := s.GetScale()
	if s.ContainerName != "" && scale > 1 {
		return nil, false, fmt.Errorf("service %q: container_name %q cannot be used with scale %d: container names must be unique", s.Name, s.ContainerName, scale)
	}
	byNumber := map[int]*engine.Container{}
	for _, ctr := range have {
		n, err := strconv.Atoi(ctr.Labels[LabelNumber])
		if err != nil || n < 1 || n > scale || byNumber[n] != nil {
			if err := c.remove(ctx, ctr, stopTimeout(s), stopSignal(s), false); err != nil {
				return nil, false, err
			}
			continue
		}
		byNumber[n] = ctr
	}
	for n := 1; n <= scale; n++ {
		ctr := byNumber[n]
		keep := ctr != nil && (opts.Recreate == RecreateNever || opts.Recreate != RecreateForce && ctr.Labels[LabelConfigHash] == hash && ctr.Labels[LabelImage] == s.CustomLabels[LabelImage])
		if keep {
			if ctr.State == engine.Running || ctr.State == engine.Restarting {
				c.progress("Container", ctr.Name, "Running")
				running = append(running, ctr.Name)
				continue
			}
			if opts.CreateOnly {
				continue
			}
			if err := c.start(ctx, ctr.Name); err != nil {
				return nil, false, err
			}
			continue
		}
		if ctr != nil {
			c.progress("Container", ctr.Name, "Recreate")
			if err := c.remove(ctx, ctr, timeoutOr(opts.Timeout, stopTimeout(s)), stopSignal(s), false); err != nil {
				return nil, false, err
			}
		}
		name, err := c.create(ctx, p, s, n, hash)
		if err != nil {
			return nil, false, err
		}
		remade = true
		if opts.CreateOnly {
			continue
		}
		if err := c.start(ctx, name); err != nil {
			return nil, false, err
		}
	}
	return running, remade, nil
}

// create makes container n of service s, on all of its networks.
func (c *Compose) create(ctx context.Context, p *types.Project, s types.ServiceConfig, n int, hash string) (string, error) {
	opts, err := runOptions(p, s, n, hash, storage.Version)
	if err != nil {
		return "", err
	}
	opts.Warn = func(w string) {
		if _, seen := c.warned.LoadOrStore(w, true); !seen {
			c.warnf("%s", w)
		}
	}
	c.progress("Container", opts.Name, "Creating")
	lock, _ := c.pulls.LoadOrStore(opts.Image, new(sync.Mutex))
	lock.(*sync.Mutex).Lock()
	id, err := c.Engine.Run(ctx, opts, engine.IO{})
	lock.(*sync.Mutex).Unlock()
	if err != nil {
		return "", fmt.Errorf("service %q: create %s: %w", s.Name, opts.Name, err)
	}
	for _, nc := range extraNetworks(p, s, id) {
		if err := c.Engine.ConnectNetwork(nc); err != nil {
			_ = c.Engine.RemoveContainer(ctx, id, true)
			return "", fmt.Errorf("service %q: connect %s to %s: %w", s.Name, opts.Name, nc.Network, err)
		}
	}
	c.progress("Container", opts.Name, "Created")
	return opts.Name, nil
}

func (c *Compose) start(ctx context.Context, name string) error {
	c.progress("Container", name, "Starting")
	if _, err := c.Engine.Start(ctx, name, false, false, engine.IO{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.progress("Container", name, "Started")
	return nil
}

// defaultStopTimeout is Docker's: ten seconds between the stop signal
// and SIGKILL.
const defaultStopTimeout = 10 * time.Second

// stopSignal is the service's stop_signal, or 0 for the image's (or
// SIGTERM).
func stopSignal(s types.ServiceConfig) syscall.Signal {
	sig, err := engine.ParseSignal(s.StopSignal)
	if s.StopSignal == "" || err != nil {
		return 0
	}
	return sig
}

func stopTimeout(s types.ServiceConfig) time.Duration {
	if s.StopGracePeriod != nil {
		return time.Duration(*s.StopGracePeriod)
	}
	return defaultStopTimeout
}

// remove stops a container and removes it (its anonymous volumes too
// with volumes).
func (c *Compose) remove(ctx context.Context, ctr *engine.Container, timeout time.Duration, sig syscall.Signal, volumes bool) error {
	if ctr.State == engine.Running || ctr.State == engine.Restarting {
		c.progress("Container", ctr.Name, "Stopping")
		if err := c.Engine.Stop(ctx, ctr.ID, timeout, sig); err != nil {
			return err
		}
		c.progress("Container", ctr.Name, "Stopped")
	}
	c.progress("Container", ctr.Name, "Removing")
	var err error
	if volumes {
		err = c.Engine.RemoveContainerAndVolumes(ctx, ctr.ID, true)
	} else {
		err = c.Engine.RemoveContainer(ctx, ctr.ID, true)
	}
	if err != nil && !errors.Is(err, engine.ErrNoSuchContainer) {
		return err
	}
	c.progress("Container", ctr.Name, "Removed")
	return nil
}
