package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
	"box/engine/volume"
	"box/storage/filter"
)

// DownOptions are down's choices.
type DownOptions struct {
	// Volumes removes the project's named volumes and its containers'
	// anonymous ones.
	Volumes bool
	// RemoveOrphans removes containers of services the file no longer
	// has; without it they are left, and named in a warning.
	RemoveOrphans bool
	// Timeout replaces every service's stop grace period when set.
	Timeout *time.Duration
	// Images removes images too (--rmi local or all): see build.go.
	Images RemoveImages
}

// Down stops and removes the project's containers (in reverse
// dependency order) and its networks, with Volumes its volumes and with
// Images its images. What is already gone is skipped: down of a half-up project finishes
// the job.
func (c *Compose) Down(ctx context.Context, p *types.Project, opts DownOptions) error {
	order, err := StartOrder(p.Services)
	if err != nil {
		return err
	}
	have, err := c.containers(p.Name, true)
	if err != nil {
		return err
	}
	if ByName(p) {
		// No file: everything labelled with the project is its.
		for _, ctr := range have {
			if err := c.remove(ctx, ctr, timeoutOr(opts.Timeout, defaultStopTimeout), 0, opts.Volumes); err != nil {
				return err
			}
		}
		if err := c.removeLabelled(p.Name, opts.Volumes); err != nil {
			return err
		}
		return c.removeImages(p, opts.Images)
	}
	var orphans []*engine.Container
	for _, ctr := range have {
		svc := ctr.Labels[LabelService]
		_, enabled := p.Services[svc]
		_, disabled := p.DisabledServices[svc]
		if !enabled && !disabled && ctr.Labels[LabelOneoff] != "True" {
			orphans = append(orphans, ctr)
		}
	}
	if len(orphans) > 0 && !opts.RemoveOrphans {
		names := make([]string, 0, len(orphans))
		for _, o := range orphans {
			names = append(names, o.Name)
		}
		c.warnf("Found orphan containers (%v) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", names)
	} else {
		for _, ctr := range orphans {
			if err := c.remove(ctx, ctr, timeoutOr(opts.Timeout, defaultStopTimeout), 0, opts.Volumes); err != nil {
				return err
			}
		}
	}
	slices.Reverse(order)
	for _, name := range order {
		s := p.Services[name]
		for _, ctr := range have {
			if ctr.Labels[LabelService] != name {
				continue
			}
			if err := c.remove(ctx, ctr, timeoutOr(opts.Timeout, stopTimeout(s)), stopSignal(s), opts.Volumes); err != nil {
				return err
			}
		}
	}
	// Containers of services a profile or a selection left out are the
	// project's too: down removes them last.
	for _, ctr := range have {
		s, disabled := p.DisabledServices[ctr.Labels[LabelService]]
		if !disabled {
			continue
		}
		if err := c.remove(ctx, ctr, timeoutOr(opts.Timeout, stopTimeout(s)), stopSignal(s), opts.Volumes); err != nil {
			return err
		}
	}
	c.removeNetworks(p)
	if opts.Volumes {
		if err := c.removeVolumes(p); err != nil {
			return err
		}
	}
	return c.removeImages(p, opts.Images)
}

func timeoutOr(t *time.Duration, def time.Duration) time.Duration {
	if t != nil {
		return *t
	}
	return def
}

// removeNetworks removes the project's networks that it made (they
// carry its label); one still in use is named in a warning and left.
func (c *Compose) removeNetworks(p *types.Project) {
	keys := make([]string, 0, len(p.Networks))
	for k := range p.Networks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		nw := p.Networks[key]
		if bool(nw.External) {
			continue
		}
		in, err := c.Engine.InspectNetwork(nw.Name)
		if err != nil || in.Labels[LabelProject] != p.Name {
			continue
		}
		c.progress("Network", nw.Name, "Removing")
		if err := c.Engine.RemoveNetwork(nw.Name); err != nil && !errors.Is(err, engine.ErrNoSuchNetwork) {
			c.warnf("network %s: %v", nw.Name, err)
			continue
		}
		c.progress("Network", nw.Name, "Removed")
	}
}

func (c *Compose) removeVolumes(p *types.Project) error {
	keys := make([]string, 0, len(p.Volumes))
	for k := range p.Volumes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, key := range keys {
		v := p.Volumes[key]
		if bool(v.External) {
			continue
		}
		in, err := c.Engine.InspectVolume(v.Name)
		if err != nil || in.Labels[LabelProject] != p.Name {
			continue
		}
		c.progress("Volume", v.Name, "Removing")
		if err := c.Engine.RemoveVolume(v.Name, false); err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, err)
			continue
		}
		c.progress("Volume", v.Name, "Removed")
	}
	return errors.Join(errs...)
}

// Named is a project known only by its name, for the verbs that work
// without its files (down, ps, logs, stop, kill, rm): they find what
// it has by the com.docker.compose.project label.
func Named(name string) *types.Project {
	return &types.Project{Name: loader.NormalizeProjectName(name), Services: types.Services{}}
}

// ByName says whether p was made by Named, without files.
func ByName(p *types.Project) bool { return len(p.ComposeFiles) == 0 }

// removeLabelled removes the networks (and with volumes the volumes)
// labelled as project's.
func (c *Compose) removeLabelled(project string, volumes bool) error {
	nets, err := c.Engine.Networks(filter.Args{})
	if err != nil {
		return err
	}
	for _, n := range nets {
		if n.Labels[LabelProject] != project {
			continue
		}
		c.progress("Network", n.Name, "Removing")
		if err := c.Engine.RemoveNetwork(n.Name); err != nil && !errors.Is(err, engine.ErrNoSuchNetwork) {
			c.warnf("network %s: %v", n.Name, err)
			continue
		}
		c.progress("Network", n.Name, "Removed")
	}
	if !volumes {
		return nil
	}
	vols, err := c.Engine.Volumes(filter.Args{})
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vols {
		if v.Labels[LabelProject] != project {
			continue
		}
		c.progress("Volume", v.Name, "Removing")
		if err := c.Engine.RemoveVolume(v.Name, false); err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, err)
			continue
		}
		c.progress("Volume", v.Name, "Removed")
	}
	return errors.Join(errs...)
}

// NoSuchServiceError is a service name the project does not have.
type NoSuchServiceError struct{ Name string }

func (e *NoSuchServiceError) Error() string { return "no such service: " + e.Name }

// checkServices refuses names the project has no service for.
func checkServices(p *types.Project, names []string) error {
	for _, n := range names {
		if _, ok := p.Services[n]; !ok {
			return &NoSuchServiceError{Name: n}
		}
	}
	return nil
}

// Containers are the project's service containers (not one-off ones),
// of the named services or all, sorted by name; only running ones
// unless all.
func (c *Compose) Containers(p *types.Project, services []string, all bool) ([]*engine.Container, error) {
	if err := checkServices(p, services); err != nil {
		return nil, err
	}
	have, err := c.containers(p.Name, false)
	if err != nil {
		return nil, err
	}
	var out []*engine.Container
	for _, ctr := range have {
		if len(services) > 0 && !slices.Contains(services, ctr.Labels[LabelService]) {
			continue
		}
		if !all && ctr.State != engine.Running && ctr.State != engine.Restarting {
			continue
		}
		out = append(out, ctr)
	}
	return out, nil
}

// ServiceContainer is container number n of service (exec's, port's
// and cp's --index), running unless all.
func (c *Compose) ServiceContainer(p *types.Project, service string, n int, all bool) (*engine.Container, error) {
	list, err := c.Containers(p, []string{service}, all)
	if err != nil {
		return nil, err
	}
	want := strconv.Itoa(n)
	i := slices.IndexFunc(list, func(ctr *engine.Container) bool { return ctr.Labels[LabelNumber] == want })
	if i < 0 {
		return nil, fmt.Errorf("service %q is not running container #%d", service, n)
	}
	return list[i], nil
}

// selected are the named services (all when none) in start order.
func selected(p *types.Project, services []string) ([]string, error) {
	if err := checkServices(p, services); err != nil {
		return nil, err
	}
	order, err := StartOrder(p.Services)
	if err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return order, nil
	}
	return slices.DeleteFunc(order, func(n string) bool { return !slices.Contains(services, n) }), nil
}

// Stop stops the services' running containers, dependents first.
func (c *Compose) Stop(ctx context.Context, p *types.Project, services []string, timeout *time.Duration) error {
	order, err := selected(p, services)
	if err != nil {
		return err
	}
	have, err := c.containers(p.Name, false)
	if err != nil {
		return err
	}
	slices.Reverse(order)
	if ByName(p) {
		// No file, no order: every service of the project's containers.
		order = nil
		for _, ctr := range have {
			if n := ctr.Labels[LabelService]; !slices.Contains(order, n) {
				order = append(order, n)
			}
		}
	}
	for _, name := range order {
		s := p.Services[name]
		for _, ctr := range byService(have, name) {
			if ctr.State != engine.Running && ctr.State != engine.Restarting {
				continue
			}
			c.progress("Container", ctr.Name, "Stopping")
			if err := c.Engine.Stop(ctx, ctr.ID, timeoutOr(timeout, stopTimeout(s)), stopSignal(s)); err != nil {
				return err
			}
			c.progress("Container", ctr.Name, "Stopped")
		}
	}
	return nil
}

// Start starts the services' existing containers in dependency order,
// each once its dependencies meet their condition.
func (c *Compose) Start(ctx context.Context, p *types.Project, services []string) error {
	order, err := selected(p, services)
	if err != nil {
		return err
	}
	have, err := c.containers(p.Name, false)
	if err != nil {
		return err
	}
	for _, name := range order {
		if err := c.awaitDependencies(ctx, p, p.Services[name]); err != nil {
			return err
		}
		for _, ctr := range byService(have, name) {
			if ctr.State == engine.Running || ctr.State == engine.Restarting {
				continue
			}
			if err := c.start(ctx, ctr.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Restart stops and starts the services' containers.
func (c *Compose) Restart(ctx context.Context, p *types.Project, services []string, timeout *time.Duration) error {
	order, err := selected(p, services)
	if err != nil {
		return err
	}
	have, err := c.containers(p.Name, false)
	if err != nil {
		return err
	}
	for _, name := range order {
		s := p.Services[name]
		for _, ctr := range byService(have, name) {
			c.progress("Container", ctr.Name, "Restarting")
			if err := c.Engine.Stop(ctx, ctr.ID, timeoutOr(timeout, stopTimeout(s)), stopSignal(s)); err != nil {
				return err
			}
			if _, err := c.Engine.Start(ctx, ctr.ID, false, false, engine.IO{}); err != nil {
				return fmt.Errorf("start %s: %w", ctr.Name, err)
			}
			c.progress("Container", ctr.Name, "Started")
		}
	}
	return nil
}

// Kill sends sig to the services' running containers.
func (c *Compose) Kill(p *types.Project, services []string, sig syscall.Signal) error {
	list, err := c.Containers(p, services, false)
	if err != nil {
		return err
	}
	for _, ctr := range list {
		c.progress("Container", ctr.Name, "Killing")
		if err := c.Engine.Kill(ctr.ID, sig); err != nil {
			return err
		}
		c.progress("Container", ctr.Name, "Killed")
	}
	return nil
}

// Pause freezes the services' running containers, or with unpause lets
// them run again.
func (c *Compose) Pause(p *types.Project, services []string, unpause bool) error {
	list, err := c.Containers(p, services, false)
	if err != nil {
		return err
	}
	for _, ctr := range list {
		if unpause {
			c.progress("Container", ctr.Name, "Unpausing")
			if err := c.Engine.Unpause(ctr.ID); err != nil {
				return err
			}
			c.progress("Container", ctr.Name, "Unpaused")
			continue
		}
		c.progress("Container", ctr.Name, "Pausing")
		if err := c.Engine.Pause(ctr.ID); err != nil {
			return err
		}
		c.progress("Container", ctr.Name, "Paused")
	}
	return nil
}

// Removable are the services' stopped containers, which rm removes
// (running ones too with stop, after stopping them).
func (c *Compose) Removable(p *types.Project, services []string, stopped bool) ([]*engine.Container, error) {
	all, err := c.Containers(p, services, true)
	if err != nil {
		return nil, err
	}
	if stopped {
		return all, nil
	}
	return slices.DeleteFunc(all, func(ctr *engine.Container) bool {
		return ctr.State == engine.Running || ctr.State == engine.Restarting
	}), nil
}

// Remove stops (when running) and removes containers, with their
// anonymous volumes when volumes.
func (c *Compose) Remove(ctx context.Context, p *types.Project, list []*engine.Container, volumes bool) error {
	for _, ctr := range list {
		s := p.Services[ctr.Labels[LabelService]]
		if err := c.remove(ctx, ctr, stopTimeout(s), stopSignal(s), volumes); err != nil {
			return err
		}
	}
	return nil
}

// ProjectSummary is one line of `compose ls`.
type ProjectSummary struct {
	Name        string `json:"Name"`
	Status      string `json:"Status"`
	ConfigFiles string `json:"ConfigFiles"`
}

// Projects are the projects that have containers, by name: only those
// with a running container unless all. Status counts containers by
// state as Docker Compose writes it: "exited(1), running(2)".
func Projects(e *engine.Engine, all bool) ([]ProjectSummary, error) {
	list, err := e.Containers()
	if err != nil {
		return nil, err
	}
	states := map[string]map[string]int{}
	files := map[string]string{}
	for _, ctr := range list {
		name := ctr.Labels[LabelProject]
		if name == "" {
			continue
		}
		if states[name] == nil {
			states[name] = map[string]int{}
		}
		states[name][string(ctr.State)]++
		if f := ctr.Labels[LabelConfigFiles]; f != "" {
			files[name] = f
		}
	}
	var out []ProjectSummary
	for name, st := range states {
		if !all && st[string(engine.Running)] == 0 {
			continue
		}
		var parts []string
		for state, n := range st {
			parts = append(parts, fmt.Sprintf("%s(%d)", state, n))
		}
		slices.Sort(parts)
		out = append(out, ProjectSummary{Name: name, Status: strings.Join(parts, ", "), ConfigFiles: files[name]})
	}
	slices.SortFunc(out, func(a, b ProjectSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
