package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"box/engine"
	"box/engine/network"
	"box/engine/volume"
	"box/storage/filter"
)

// Kube plays manifests on one engine. Warnings go to Warn.
type Kube struct {
	Engine *engine.Engine
	Warn   io.Writer
	// BuildOutput gets the steps and output of the images play builds
	// (nil discards them).
	BuildOutput io.Writer
}

func (k *Kube) warnf(format string, args ...any) {
	if k.Warn != nil {
		fmt.Fprintf(k.Warn, "WARNING: "+format+"\n", args...)
	}
}

// PlayOptions are play's choices.
type PlayOptions struct {
	// Source names the manifest in the labels (its path, "-" for
	// standard input).
	Source string
	// Network is the user network the Pods join (DefaultNetwork when
	// empty); play makes it when missing.
	Network string
	// NoStart creates the containers without starting them.
	NoStart bool
	// Replace removes the manifest's Pods first when they exist.
	Replace bool
	// Publish are --publish's ports: each replaces the host side of the
	// Pod port with its container port and protocol, or publishes that
	// port when no container lists it.
	Publish []network.Port
	// Build is the choice about building images from directories in
	// ContextDir (Podman's layout: DIR/NAME/Containerfile for image
	// NAME); no ContextDir builds nothing.
	Build      BuildPolicy
	ContextDir string
}

// PlayReport is what play made: the Pods and their containers.
type PlayReport struct {
	Pods []PodReport
}

// PodReport is one Pod play ran.
type PodReport struct {
	Name       string
	Containers []string
}

// ExistsError is a Pod that is already there (play without --replace).
type ExistsError struct{ Pod string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("pod %q already exists: remove it with box kube down, or play with --replace", e.Pod)
}

// Plan checks m and turns it into the Pods box would run, making
// nothing; warnings go to k.Warn.
func (k *Kube) Plan(m *Manifest, opts PlayOptions) ([]PodPlan, error) {
	for _, s := range m.Skipped {
		k.warnf("%s: box does not run this kind; skipped", s)
	}
	p := &planner{m: m, source: opts.Source, network: networkOr(opts.Network), rootless: k.Engine.Identity.Rootless(), warn: k.warnf, publish: opts.Publish, published: map[network.Port]bool{}}
	var out []PodPlan
	seen := map[string]bool{}
	for _, w := range m.Workloads {
		for _, pod := range w.PodNames() {
			if seen[pod] {
				return nil, &PlanError{Kind: w.Kind, Name: w.Name, Err: fmt.Errorf("pod %q is defined twice", pod)}
			}
			seen[pod] = true
			pp, err := p.plan(w, pod)
			if err != nil {
				return nil, err
			}
			out = append(out, pp)
		}
	}
	for _, f := range opts.Publish {
		if !p.published[f] {
			return nil, fmt.Errorf("--publish %d:%d/%s: no Pod lists container port %d/%s", f.HostPort, f.ContainerPort, f.Proto, f.ContainerPort, f.Proto)
		}
	}
	return out, nil
}

func networkOr(n string) string {
	if n == "" {
		return DefaultNetwork
	}
	return n
}

// Play runs m's workloads: every Pod's init containers to completion,
// in order, then its containers. A Pod that fails to start is removed
// again, with what it made; Pods started before it stay.
func (k *Kube) Play(ctx context.Context, m *Manifest, opts PlayOptions) (*PlayReport, error) {
	plans, err := k.Plan(m, opts)
	if err != nil {
		return nil, err
	}
	if err := k.buildImages(ctx, plans, opts); err != nil {
		return nil, err
	}
	have, err := k.pods()
	if err != nil {
		return nil, err
	}
	for _, pp := range plans {
		if len(have[pp.Name]) == 0 {
			continue
		}
		if !opts.Replace {
			return nil, &ExistsError{Pod: pp.Name}
		}
		if err := k.removePod(ctx, pp.Name, have[pp.Name]); err != nil {
			return nil, err
		}
	}
	if err := k.ensureNetwork(networkOr(opts.Network)); err != nil {
		return nil, err
	}
	rep := &PlayReport{}
	for _, pp := range plans {
		if err := k.playPod(ctx, pp, opts); err != nil {
			all, _ := k.pods()
			_ = k.removePod(context.WithoutCancel(ctx), pp.Name, all[pp.Name])
			return rep, fmt.Errorf("pod %s: %w", pp.Name, err)
		}
		r := PodReport{Name: pp.Name}
		for _, c := range pp.Containers {
			r.Containers = append(r.Containers, c.Name)
		}
		rep.Pods = append(rep.Pods, r)
	}
	return rep, nil
}

func (k *Kube) playPod(ctx context.Context, pp PodPlan, opts PlayOptions) error {
	for _, v := range pp.Volumes {
		if err := k.makeVolume(v, opts.Source, pp.Name); err != nil {
			return err
		}
	}
	if !opts.NoStart {
		for _, o := range pp.Init {
			if err := k.runInit(ctx, o); err != nil {
				return err
			}
		}
	}
	for _, o := range pp.Containers {
		o.Warn = func(s string) { k.warnf("%s", s) }
		if opts.NoStart {
			o.Detach, o.CreateOnly = false, true
		}
		if _, err := k.Engine.Run(ctx, o, engine.IO{}); err != nil {
			return fmt.Errorf("container %s: %w", o.Labels[LabelContainer], err)
		}
	}
	return nil
}

// runInit runs one init container to completion and removes it; one
// that fails fails its Pod, as the kubelet holds a Pod whose init
// container cannot succeed.
func (k *Kube) runInit(ctx context.Context, o engine.RunOptions) error {
	id, err := k.Engine.Run(ctx, o, engine.IO{})
	if err != nil {
		return fmt.Errorf("init container %s: %w", o.Labels[LabelContainer], err)
	}
	code, err := k.Engine.Wait(ctx, id)
	if err != nil {
		return fmt.Errorf("init container %s: %w", o.Labels[LabelContainer], err)
	}
	if code != 0 {
		return fmt.Errorf("init container %s exited with code %d", o.Labels[LabelContainer], code)
	}
	return k.Engine.RemoveContainerAndVolumes(ctx, id, true)
}

// makeVolume makes one of the Pod's own volumes and writes its files.
// A box volume rather than a bind of a temporary directory: it lives in
// box's store with the containers, needs no clean-up of its own outside
// it, and down removes it by its label like everything else play made.
func (k *Kube) makeVolume(v VolumePlan, source, pod string) error {
	in, err := k.Engine.CreateVolume(engine.VolumeCreateOptions{Name: v.Name, Labels: map[string]string{LabelPlay: source, LabelPod: pod}})
	if err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	for _, name := range slices.Sorted(mapsKeys(v.Files)) {
		dst := filepath.Join(in.Mountpoint, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if err := os.WriteFile(dst, v.Files[name], os.FileMode(v.Mode)); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ensureNetwork makes the user network when it does not exist.
func (k *Kube) ensureNetwork(name string) error {
	if _, err := k.Engine.InspectNetwork(name); err == nil {
		return nil
	} else if !errors.Is(err, engine.ErrNoSuchNetwork) {
		return err
	}
	_, err := k.Engine.CreateNetwork(engine.NetworkCreateOptions{Name: name, Labels: []string{LabelNetwork + "=true"}})
	if err != nil {
		if _, again := k.Engine.InspectNetwork(name); again == nil {
			return nil // made by a play side by side
		}
		return fmt.Errorf("network %s: %w", name, err)
	}
	return nil
}

// pods are the containers play made, by Pod.
func (k *Kube) pods() (map[string][]*engine.Container, error) {
	list, err := k.Engine.Containers()
	if err != nil {
		return nil, err
	}
	out := map[string][]*engine.Container{}
	for _, c := range list {
		if pod, ok := c.Labels[LabelPod]; ok && c.Labels[LabelPlay] != "" {
			out[pod] = append(out[pod], c)
		}
	}
	return out, nil
}

// removePod stops a Pod's containers (within the Pod's
// terminationGracePeriodSeconds, else 10 s) and removes them, those that joined its network
// namespace first, then its own volumes (ConfigMaps, Secrets,
// emptyDirs). PersistentVolumeClaims' volumes stay, as Podman keeps
// them: they hold the user's data.
func (k *Kube) removePod(ctx context.Context, pod string, ctrs []*engine.Container) error {
	slices.SortFunc(ctrs, func(a, b *engine.Container) int {
		aj, bj := strings.HasPrefix(a.NetworkMode, "container:"), strings.HasPrefix(b.NetworkMode, "container:")
		switch {
		case aj && !bj:
			return -1
		case bj && !aj:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var errs []error
	for _, c := range ctrs {
		if c.State == engine.Running || c.State == engine.Restarting {
			if err := k.Engine.Stop(ctx, c.ID, -1, 0); err != nil && !errors.Is(err, engine.ErrNoSuchContainer) {
				errs = append(errs, err)
			}
		}
		if err := k.Engine.RemoveContainerAndVolumes(ctx, c.ID, true); err != nil && !errors.Is(err, engine.ErrNoSuchContainer) {
			errs = append(errs, fmt.Errorf("container %s: %w", c.Name, err))
		}
	}
	vols, err := k.Engine.Volumes(filter.Args{})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, v := range vols {
		if v.Labels[LabelPod] != pod || v.Labels[LabelPlay] == "" {
			continue
		}
		if err := k.Engine.RemoveVolume(v.Name, false); err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, fmt.Errorf("volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// DownReport is what down removed.
type DownReport struct {
	Pods []string
}

// Down removes the Pods of m that play made, their containers and own
// volumes, and the network play made once no Pod uses it.
func (k *Kube) Down(ctx context.Context, m *Manifest, opts PlayOptions) (*DownReport, error) {
	have, err := k.pods()
	if err != nil {
		return nil, err
	}
	rep := &DownReport{}
	var errs []error
	for _, w := range m.Workloads {
		for _, pod := range w.PodNames() {
			if len(have[pod]) == 0 {
				continue
			}
			if err := k.removePod(ctx, pod, have[pod]); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(have, pod)
			rep.Pods = append(rep.Pods, pod)
		}
	}
	name := networkOr(opts.Network)
	if in, err := k.Engine.InspectNetwork(name); err == nil && in.Labels[LabelNetwork] == "true" && !k.networkUsed(name) {
		if err := k.Engine.RemoveNetwork(name); err != nil && !errors.Is(err, engine.ErrNoSuchNetwork) {
			k.warnf("network %s: %v", name, err)
		}
	}
	return rep, errors.Join(errs...)
}

func (k *Kube) networkUsed(name string) bool {
	list, err := k.Engine.Containers()
	if err != nil {
		return true
	}
	for _, c := range list {
		if c.NetworkMode == name {
			return true
		}
	}
	return false
}

// AddConfigMaps adds the ConfigMaps of other (--configmap files) to m;
// other holds nothing else.
func (m *Manifest) AddConfigMaps(other *Manifest) error {
	if len(other.Workloads)+len(other.Secrets)+len(other.Claims)+len(other.Skipped) > 0 {
		return fmt.Errorf("a --configmap file holds ConfigMaps only")
	}
	for name, cm := range other.ConfigMaps {
		if _, dup := m.ConfigMaps[name]; dup {
			return fmt.Errorf("ConfigMap %q is defined twice", name)
		}
		m.ConfigMaps[name] = cm
	}
	return nil
}
