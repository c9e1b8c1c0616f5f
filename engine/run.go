package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage/pkg/stringid"

	"box/engine/flags"
	"box/engine/health"
	"box/engine/monitor"
	"box/engine/network"
	"box/engine/spec"
	"box/engine/usernet"
	"box/storage"
)

// PullPolicy says when run pulls its image.
type PullPolicy string

const (
	PullMissing PullPolicy = "missing"
	PullAlways  PullPolicy = "always"
	PullNever   PullPolicy = "never"
)

// RunOptions are `box run`'s choices, typed: the CLI parses Docker's
// flag syntax with engine/flags before the engine sees them.
type RunOptions struct {
	Image    string
	Pull     PullPolicy
	Platform string
	Name     string
	Remove   bool
	// Detach leaves the container to a monitor process of its own and
	// returns once the container runs.
	Detach bool
	// NoSigProxy is --sig-proxy=false: a foreground run without -t passes
	// no signal on, and its end leaves the container running
	// (run_attached.go).
	NoSigProxy bool
	// CreateOnly prepares the container without starting it (box create).
	CreateOnly bool
	// Labels are the container's, over the image's.
	Labels map[string]string

	Interactive, TTY bool
	// Cmd replaces the image's Cmd when non-nil.
	Cmd []string
	// Entrypoint replaces the image's when non-nil ("" clears it).
	Entrypoint *string

	// Env is KEY=VALUE, or KEY for the caller's value of KEY.
	Env      []string
	Workdir  string
	User     string
	Hostname string

	// Mounts are -v, --mount and --tmpfs, and mounts box itself makes
	// for the container (a build step's heredoc script).
	Mounts   []flags.Mount
	ReadOnly bool
	Network  flags.Network
	// Networks are further user networks the container joins besides
	// Network (several --network flags).
	Networks []string
	// IP is the container's address on its (first) user network, --ip.
	IP string
	// NetworkAliases are names the container answers to on its user
	// network, besides its name and short id.
	NetworkAliases []string
	// NetworkAliasesOn are the aliases on each of Networks, by name.
	NetworkAliasesOn map[string][]string
	// Publish are the ports -p publishes (host port 0: any free one);
	// PublishAll (-P) publishes the image's EXPOSE list on random host
	// ports.
	Publish    []network.Port
	PublishAll bool
	// Names are --dns, --dns-search, --dns-option and --add-host.
	Names flags.NameOptions

	// CapAdd and CapDrop are CAP_NAME or ALL (flags.ParseCapabilities).
	CapAdd, CapDrop []string
	Security        flags.SecurityOptions
	Privileged      bool

	// Log is --log-driver and --log-opt; the zero value is json-file
	// with no rotation.
	Log flags.LogConfig

	// Init runs box's own init as PID 1, which reaps orphans and passes
	// signals to the command (Docker's --init).
	Init bool

	// Restart is --restart; the monitor of a detached container applies
	// it.
	Restart flags.RestartPolicy
	// VolumesFrom mount all volumes and binds of other containers.
	VolumesFrom []flags.VolumesFrom
	// Health is --health-* and --no-healthcheck, over the image's
	// HEALTHCHECK field by field.
	Health HealthOptions

	// Settings are the rest of Docker's container flags: --domainname,
	// --group-add, --annotation, --expose, --stop-signal, --stop-timeout,
	// --ulimit, --shm-size, --sysctl, --pid/--ipc/--uts/--cgroupns,
	// the resource limits, --cgroup-parent and --oom-score-adj.
	Settings Settings
	// Warn, when set, is told of options box takes but cannot apply
	// here (limits on a rootless container without a delegated cgroup).
	Warn func(string) `json:"-"`

	// Puller, when set, is told about an implicit pull.
	Puller Puller `json:"-"`
	// Created, when set, is told the container's id once it exists.
	Created func(id string) `json:"-"`

	// userNetwork says Network names a user network (usernet_join.go);
	// publishOnUser that its ports are published from there.
	userNetwork, publishOnUser bool
	// buildStep marks a build's RUN container (RunStep).
	buildStep bool
}

// Puller follows the pull `run` makes when the image is missing or
// --pull always says so: Start before it (Docker prints "Unable to find
// image"), Event for each blob, Done once the image is stored or failed.
type Puller interface {
	Start(ref string, missing bool)
	Event(storage.Progress)
	Done()
}

// IO is the container's standard streams. Stdin is used only with
// Interactive; with TTY, Stdin and Stdout should be the caller's terminal.
type IO struct {
	Stdin, Stdout, Stderr *os.File
}

// ExitError is a container that ran and exited non-zero (or was killed).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("container exited with code %d", e.Code) }

// CommandError is a container command that could not be run: not found
// (127) or not executable (126). Its words are those of Go's exec.LookPath
// in runc's init, which Docker passes on: a bare name is "executable file
// not found in $PATH", a path "stat PATH: no such file or directory".
type CommandError struct {
	Path     string
	NotFound bool
	// Err is fs.ErrNotExist, fs.ErrPermission or syscall.EISDIR.
	Err error
}

func (e *CommandError) Error() string {
	switch {
	case e.NotFound && !strings.Contains(e.Path, "/"):
		return fmt.Sprintf("exec: %q: executable file not found in $PATH", e.Path)
	case e.NotFound:
		return fmt.Sprintf("exec: %q: stat %s: no such file or directory", e.Path, e.Path)
	case errors.Is(e.Err, syscall.EISDIR):
		return fmt.Sprintf("exec: %q: is a directory", e.Path)
	}
	return fmt.Sprintf("exec: %q: permission denied", e.Path)
}

func (e *CommandError) Unwrap() error { return e.Err }

// NameConflictError is a --name already taken by another container.
type NameConflictError struct{ Name, ID string }

func (e *NameConflictError) Error() string {
	return fmt.Sprintf("the container name %q is already in use by container %q; remove (or rename) that container to be able to reuse that name", "/"+e.Name, e.ID)
}

// UsageError is a run option box cannot accept; nothing was created.
type UsageError = spec.UsageError

// Run creates a container from opts.Image and runs it: in the foreground
// as its monitor, attached to io, or with Detach under a monitor process
// of its own, returning once it runs. It returns the container's id, and
// an *ExitError when a foreground container exits non-zero; other errors
// mean box could not start it (nothing is left behind then).
//
// It goes in three steps: planRun checks and resolves the options and
// makes nothing; prepare makes the container (its layer, mount, volumes,
// record and spec) and owns undoing that until the container is handed
// over; start runs it, as its monitor or under one.
func (e *Engine) Run(ctx context.Context, opts RunOptions, io IO) (string, error) {
	un, err := e.userNetworksOf(&opts)
	if err != nil {
		return "", err
	}
	// The holder's connection is kept open until the run is done (the
	// holder lives while it is); a holder this run starts gets ready
	// while the container is prepared.
	var holder func() (*net.UnixConn, error)
	if un != nil && !opts.CreateOnly {
		wait, guest, err := e.reachHolder()
		if err != nil {
			return "", err
		}
		defer func() {
			if c, err := wait(); err == nil {
				c.Close()
			}
		}()
		if guest {
			c, err := wait()
			if err != nil {
				return "", err
			}
			return e.runThroughHolder(ctx, c, opts, io)
		}
		holder = wait
	}
	if err := validate(&opts); err != nil {
		return "", err
	}
	owner, err := e.networkOwner(&opts)
	if err != nil {
		return "", err
	}
	nsOwner, err := e.nsOwner(&opts, owner)
	if err != nil {
		return "", err
	}
	if nsOwner != nil && owner == nil && !opts.CreateOnly && e.joinsThroughOwner(nsOwner.ID) {
		return e.runAsGuest(ctx, nsOwner.ID, opts, io)
	}
	if owner != nil && !opts.CreateOnly && e.joinsThroughOwner(owner.ID) {
		return e.runAsGuest(ctx, owner.ID, opts, io)
	}
	plan, err := e.planRun(ctx, opts, owner)
	if err != nil {
		return "", err
	}
	plan.userNetworks = un
	c, err := e.prepare(plan)
	if err != nil {
		return "", err
	}
	defer c.release()
	if holder != nil {
		if _, err := holder(); err != nil {
			return "", err
		}
	}
	return e.start(ctx, c, io)
}

// runPlan is a run's options checked and resolved, before anything is
// made.
type runPlan struct {
	opts         RunOptions
	owner        *Container         // whose network it shares, or nil
	userNetworks []*usernet.Network // the user networks it joins, or none
	img          *storage.Image
	log          LogConfig
	names        nameOptions
	restart      RestartPolicy
	healthcheck  *storage.HealthConfig
	mounts       []spec.Mount
	volumes      []volumeRequest
	env          []string
	labels       map[string]string
	ports        []network.Port
	// shared are the namespaces the container shares (spec.Options),
	// cgroupsPath its cgroup's path less its id ("" for the default:
	// /box/ID as root, none rootless), and resources its
	// limits as applied (none for a rootless run without a cgroup).
	shared      map[specs.LinuxNamespaceType]string
	cgroupsPath string
	resources   *specs.LinuxResources
	rlimits     []specs.POSIXRlimit
	devices     []specs.LinuxDevice
	deviceRules []specs.LinuxDeviceCgroup
	// uidMap and gidMap replace the container's one-for-one mappings
	// (--userns keep-id).
	uidMap, gidMap []specs.LinuxIDMapping
	// userNSPath is the user namespace of the container a rootless one
	// shares its PID or IPC namespace with, which it joins too.
	userNSPath string
}

// planRun checks opts and resolves the image (pulling it when the policy
// says so); it claims the host ports it will publish, and makes nothing
// else.
func (e *Engine) planRun(ctx context.Context, opts RunOptions, owner *Container) (*runPlan, error) {
	p := &runPlan{opts: opts, owner: owner, log: LogConfig(opts.Log), restart: RestartPolicy(opts.Restart)}
	if p.log.Type == "" {
		p.log = LogConfig{Type: LogJSONFile, Config: map[string]string{}}
	}
	p.names = nameOptions{DNS: opts.Names.DNS, Search: opts.Names.Search, Options: opts.Names.Options, Hosts: opts.Names.Hosts}
	if p.restart.Name == "" {
		p.restart.Name = "no"
	}
	if p.restart.active() && opts.Remove {
		return nil, &UsageError{Msg: "conflicting options: --restart and --rm"}
	}
	if p.restart.active() && !opts.Detach && !opts.CreateOnly {
		// Docker would attach to a container its daemon restarts; here the
		// restarts are the monitor's, which a foreground run does not have.
		return nil, &UsageError{Msg: "--restart needs -d: a detached container's monitor restarts it, a foreground run has none"}
	}
	userHealth, err := opts.Health.config()
	if err != nil {
		return nil, err
	}
	if p.img, err = e.resolveImage(ctx, opts); err != nil {
		return nil, err
	}
	p.healthcheck = health.Merge(userHealth, p.img.Docker.Healthcheck)
	if err := health.Validate(p.healthcheck); err != nil {
		return nil, err
	}
	if p.mounts, p.volumes, err = mountsOf(opts.Mounts); err != nil {
		return nil, err
	}
	p.env = opts.Env
	p.labels = containerLabels(p.img.Config.Config.Labels, opts.Labels)
	p.ports = slices.Clone(opts.Publish)
	if opts.PublishAll {
		p.ports = append(p.ports, flags.ExposedPorts(exposedPorts(p.img.Config.Config.ExposedPorts, opts.Settings.Expose))...)
	}
	mode := opts.Network.String()
	if !isPrivate(mode) && !opts.publishOnUser {
		// The host's network, none, or only internal user networks:
		// nothing to publish (see Warnings).
		p.ports = nil
	}
	if err := claimHostPorts(p.ports, e.Identity.Rootless()); err != nil {
		return nil, err
	}
	if isPrivate(mode) {
		privateNameOptions(mode, &p.names)
	} else if mode == defaultBridge {
		bridgeNameOptions(&p.names)
	}
	if err := e.planSettings(p); err != nil {
		return nil, err
	}
	if err := checkRoom(e.Store.Root()); err != nil {
		return nil, err
	}
	return p, nil
}

// prepared is a container made and ready to start. Until start hands it
// over (to its monitor, or as created, or once a foreground run ended),
// release undoes everything prepare made: it is the one owner of cleanup.
type prepared struct {
	e    *Engine
	plan *runPlan
	id   string
	dir  string
	rec  *record
	sp   *specs.Spec
	mon  *monitorProcess // a detached run's monitor, not yet started
	// lock is the container's mount lock, held from before its mount
	// until release (a detached run's monitor holds its own copy).
	lock *os.File
	vols *volumeUse
	// kept: the container outlives this call (created, or handed to its
	// monitor); detached: its mount is the monitor's to release.
	kept, detached bool
}

// release undoes what was not handed over; it is idempotent.
func (c *prepared) release() {
	if c.mon != nil {
		c.mon.cancel()
		c.mon = nil
	}
	c.vols.release()
	if lock := c.lock; lock != nil {
		c.lock = nil
		defer lock.Close()
		if c.id == "" {
			_ = os.Remove(lock.Name()) // no container was made
		}
	}
	if c.detached || c.id == "" {
		return
	}
	_ = c.e.Store.UnmountContainer(c.id)
	if !c.kept {
		_ = c.e.Store.DeleteContainer(c.id)
		c.e.recordEvent("destroy", c.rec)
		c.e.removeMountLock(c.id)
		if c.plan.userNetworks != nil {
			c.e.releaseNetworks(c.id)
		}
		c.vols.removeAnonymous()
	}
	c.id = ""
}

// prepare makes the container plan describes: its layer and name, its
// rootfs mount (in this process's mount namespace), its volumes, /etc
// files, record and runtime spec. On failure nothing it made remains.
func (e *Engine) prepare(plan *runPlan) (_ *prepared, err error) {
	opts, img := plan.opts, plan.img
	c := &prepared{e: e, plan: plan}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	name := opts.Name
	if name == "" {
		name = generateName(e.Store)
	}
	id := stringid.GenerateRandomID()
	// Its mount lock (see mountLockPath), taken before the container
	// exists, so that a detached run's monitor, spawned now, inherits it.
	if c.lock, err = e.tryLockMount(id); err == nil && c.lock == nil {
		err = fmt.Errorf("mount lock of new container %s: held by another process", storage.ShortID(id))
	}
	if err != nil {
		return nil, err
	}
	if opts.Detach || attachedDetached(opts) {
		// The monitor gets ready while the container is prepared.
		if c.mon, err = e.spawnMonitor(id, c.lock, !opts.Detach); err != nil {
			return nil, err
		}
	}
	// A --rm container's layer and record never need to survive a crash:
	// volatile ones are written without fdatasync (13 -> 7 per run; run
	// --rm busybox true 103 -> 91 ms here), as Podman does for --rm.
	ctr, err := e.Store.CreateContainer(id, name, img.ID, storage.ContainerOptions{Volatile: opts.Remove, Creator: creatorTag()})
	for tries := 0; errors.Is(err, storage.ErrNameInUse) && opts.Name == "" && tries < 10; tries++ {
		// Another box took the generated name since it was found free.
		name = generateName(e.Store)
		ctr, err = e.Store.CreateContainer(id, name, img.ID, storage.ContainerOptions{Volatile: opts.Remove, Creator: creatorTag()})
	}
	if errors.Is(err, storage.ErrNameInUse) && opts.Name != "" {
		// The holder may be a container abandoned half-made, which a
		// listing removes (dropHalfMade).
		if _, lerr := e.Containers(); lerr == nil {
			ctr, err = e.Store.CreateContainer(id, name, img.ID, storage.ContainerOptions{Volatile: opts.Remove, Creator: creatorTag()})
		}
	}
	if inUse := (*storage.NameInUseError)(nil); errors.As(err, &inUse) {
		return nil, &NameConflictError{Name: name, ID: inUse.ID}
	}
	if err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	c.id = ctr.ID
	if opts.Created != nil {
		opts.Created(ctr.ID)
	}
	// The rootfs mount lives only in this process's mount namespace and
	// goes with it.
	rootfs, err := e.Store.MountContainer(ctr.ID)
	if err != nil {
		return nil, fmt.Errorf("mount container %s: %w", storage.ShortID(ctr.ID), err)
	}
	if c.vols, err = e.attachVolumes(rootfs, plan.volumes, opts.VolumesFrom, img.Config.Config.Volumes, plan.mounts); err != nil {
		return nil, err
	}
	mounts := append(plan.mounts, c.vols.mounts...)

	so, err := e.specOptions(plan, rootfs, mounts, ctr.ID)
	if err != nil {
		return nil, err
	}
	if c.dir, err = e.Store.ContainerDir(ctr.ID); err != nil {
		return nil, fmt.Errorf("container directory: %w", err)
	}
	names := plan.names
	gateway := names.Gateway
	if gateway == "" {
		gateway = loopbackGateway
	}
	var linkHosts []flags.Host
	if opts.Settings.Links, so.LinkEnv, linkHosts, err = e.planLinks(opts, name, gateway); err != nil {
		return nil, err
	}
	if len(linkHosts) > 0 {
		names.Hosts = append(slices.Clone(names.Hosts), linkHosts...)
	}
	if plan.owner != nil {
		so.JoinNetwork = true
		if so.EtcFiles, so.Hostname, err = e.ownerEtcFiles(plan.owner.ID); err != nil {
			return nil, err
		}
	} else if err := e.userNetworkNames(plan.userNetworks, ctr.ID, name, so.Hostname, opts, &names); err != nil {
		return nil, err
	} else if so.EtcFiles, err = writeEtcFiles(c.dir, so.Hostname, spec.Network(opts.Network.String()), names); err != nil {
		return nil, err
	}
	if c.sp, err = spec.Generate(so); err != nil {
		return nil, err
	}
	if plan.cgroupsPath != "" {
		c.sp.Linux.CgroupsPath = plan.cgroupsPath + ctr.ID
	}
	if !opts.CreateOnly {
		// Docker's create takes any command; its start finds it missing.
		if err := checkCommand(rootfs, c.sp, mounts); err != nil {
			return nil, err
		}
	}
	c.rec = &record{
		ID: ctr.ID, Name: name, Image: opts.Image, ImageID: img.ID,
		Created: time.Now().UTC(), Path: c.sp.Process.Args[0], Args: c.sp.Process.Args[1:],
		Remove: opts.Remove, BuildStep: opts.buildStep, Labels: plan.labels,
		Entrypoint: img.Config.Config.Entrypoint, Cmd: img.Config.Config.Cmd,
		User: so.User, Interactive: opts.Interactive, NetworkMode: opts.Network.String(),
		Privileged: opts.Privileged, CapAdd: opts.CapAdd, CapDrop: opts.CapDrop,
		Log: plan.log, WithInit: opts.Init, Restart: plan.restart,
		DNS: names.DNS, DNSSearch: names.Search, DNSOptions: names.Options, ExtraHosts: extraHosts(opts.Names.Hosts),
		Ports: plan.ports, DNSForward: names.DNSForward,
		Volumes: c.vols.volumes, Settings: opts.Settings, ImageExposed: img.Config.Config.ExposedPorts,
	}
	c.rec.Healthcheck, c.rec.HealthShell = plan.healthcheck, img.Docker.Shell
	if so.Entrypoint != nil {
		c.rec.Entrypoint, c.rec.Cmd = so.Entrypoint, nil
	}
	if opts.Cmd != nil {
		c.rec.Cmd = opts.Cmd
	}
	if opts.Init {
		// After the record took the user's command for Path and Args.
		if err := withInit(c.sp); err != nil {
			return nil, err
		}
	}
	if err := saveSpec(c.dir, c.sp); err != nil {
		return nil, err
	}
	// The record last: a container is whole once it has one (see
	// dropHalfMade in containers.go).
	if err := c.rec.save(c.dir); err != nil {
		return nil, err
	}
	e.recordEvent("create", c.rec)
	// The record names the container's volumes now: they are safe from
	// removal without the lock.
	c.vols.release()
	return c, nil
}

// specOptions are the runtime spec's inputs for plan's container id, its
// root at rootfs with mounts.
func (e *Engine) specOptions(plan *runPlan, rootfs string, mounts []spec.Mount, id string) (spec.Options, error) {
	opts, img := plan.opts, plan.img
	so := spec.Options{
		Rootfs:      rootfs,
		Image:       img.Config.Config,
		ImageArch:   img.Config.Architecture,
		Cmd:         opts.Cmd,
		Env:         plan.env,
		OSEnv:       os.LookupEnv,
		WorkingDir:  opts.Workdir,
		User:        opts.User,
		Hostname:    opts.Hostname,
		TTY:         opts.TTY,
		Mounts:      mounts,
		ReadOnly:    opts.ReadOnly,
		Network:     specNetwork(opts.Network.String()),
		CapAdd:      opts.CapAdd,
		CapDrop:     opts.CapDrop,
		Privileged:  opts.Privileged,
		Rootless:    e.Identity.Rootless(),
		UIDMappings: nestedMappings(e.Identity.UIDMap),
		GIDMappings: nestedMappings(e.Identity.GIDMap),
		Domainname:  opts.Settings.Domainname,
		GroupAdd:    opts.Settings.GroupAdd,
		Annotations: opts.Settings.Annotations,
		Rlimits:     plan.rlimits,
		ShmSize:     opts.Settings.ShmSize,
		NoShm:       opts.Settings.IPC.Mode == "none",
		Sysctls:     opts.Settings.Sysctls,
		Shared:      plan.shared,
		Resources:   plan.resources,
		OOMScoreAdj: opts.Settings.OOMScoreAdj,
		Devices:     plan.devices,
		DeviceRules: plan.deviceRules,
	}
	if plan.uidMap != nil {
		so.UIDMappings, so.GIDMappings = plan.uidMap, plan.gidMap
	}
	so.UserNSPath = plan.userNSPath

	if opts.Entrypoint != nil {
		so.Entrypoint = []string{}
		if *opts.Entrypoint != "" {
			so.Entrypoint = []string{*opts.Entrypoint}
		}
	}
	so.NoNewPrivileges, so.Seccomp = opts.Security.NoNewPrivileges, opts.Security.Seccomp
	if so.Hostname == "" {
		if so.Network == spec.NetworkHost || opts.Settings.UTS.Host() {
			so.Hostname, _ = os.Hostname()
		} else {
			so.Hostname = id[:12]
		}
	}
	return so, nil
}

// start runs a prepared container: a created one is only kept, a
// detached one is handed to its monitor, and a foreground one is run
// here, this process its monitor, attached to io.
func (e *Engine) start(ctx context.Context, c *prepared, io IO) (string, error) {
	opts := c.plan.opts
	if opts.CreateOnly {
		c.kept = true
		return c.id, nil
	}
	if opts.Detach {
		m := c.mon
		c.mon = nil
		if err := m.start(); err != nil {
			return "", err
		}
		// The container and its rootfs mount are the monitor's now.
		c.kept, c.detached = true, true
		return c.id, nil
	}
	if attachedDetached(opts) {
		return e.runAttachedDetached(ctx, c, io)
	}
	mio := monitor.Config{
		ID:        c.id,
		StateRoot: e.stateRoot(),
		Spec:      c.sp,
		Rootless:  e.Identity.Rootless(),
		Stdout:    io.Stdout,
		Stderr:    io.Stderr,
	}
	if opts.Interactive {
		// Without -i (even with -t) the keyboard is not passed on.
		mio.Stdin = io.Stdin
	}
	finishLog, err := logAttached(c.rec, c.dir, &mio)
	if err != nil {
		return "", err
	}
	st, err := e.supervise(ctx, c.rec, c.dir, mio, nil, nil)
	finishLog()
	if err != nil {
		return "", err
	}
	// It ran: a --rm container goes with release, any other stays.
	c.kept = !opts.Remove
	id := c.id
	if st.ExitCode != 0 {
		return id, &ExitError{Code: st.ExitCode}
	}
	return id, nil
}

// supervise runs a prepared container as its monitor, in this process,
// and records when it started and how it ended. While it runs, ctl
// serves exec (and attach, given a hub) for it; nil makes one for this
// run alone. restart, when set, says whether the monitor will start the
// container again after it ended with a code: then it is recorded as
// restarting, never as exited in between.
func (e *Engine) supervise(ctx context.Context, rec *record, dir string, mio monitor.Config, ctl *controlServer, restart func(code int) bool) (monitor.Status, error) {
	if ctl == nil {
		var err error
		if ctl, err = e.serveControl(rec.ID, mio.Spec, nil); err != nil {
			return monitor.Status{}, &monitor.StartError{Err: err}
		}
		defer ctl.close()
	}
	e.logEvents(ctl, rec, dir)
	if err := e.joinOwnerNetwork(rec, mio.Spec); err != nil {
		return monitor.Status{}, &monitor.StartError{Err: err}
	}
	if err := e.joinOwnerNamespaces(rec, mio.Spec); err != nil {
		return monitor.Status{}, &monitor.StartError{Err: err}
	}
	// Claimed before the start: a monitor killed while the container
	// starts leaves a container that shows as exited (255), not created.
	startedBefore := rec.StartedAt
	rec.Monitor, rec.StartedAt = currentProcess(), time.Now().UTC()
	_ = rec.save(dir)
	hook, ready, stopNetwork := networkHook(rec)
	if isUserNetworkMode(rec.NetworkMode) {
		hook, ready, stopNetwork = e.userNetworkHook(rec)
	}
	var holder *namespaceHolder
	if hook != nil {
		// The network is set up in namespaces made for the container
		// before it is, while runc creates it.
		var err error
		if holder, mio.Spec, err = holdNamespaces(mio.Spec); err != nil {
			return monitor.Status{}, e.startFailed(rec, dir, startedBefore, &monitor.StartError{Err: err})
		}
		defer holder.release()
		if err := hook(holder.pid()); err != nil {
			stopNetwork()
			return monitor.Status{}, e.startFailed(rec, dir, startedBefore, &monitor.StartError{Err: err})
		}
		mio.Ready = ready
	}
	then := mio.Started
	// The healthcheck runs while the container does: from its start
	// until its init has ended.
	var checks *health.Monitor
	mio.Started = func(r *monitor.Running) {
		holder.release()
		rec.StartedAt, rec.Monitor, rec.Init = time.Now().UTC(), currentProcess(), processOf(r.Pid)
		rec.ExitCode, rec.FinishedAt, rec.Restarting, rec.Error, rec.OOMKilled = nil, time.Time{}, false, "", false
		_ = rec.save(dir)
		// Docker's order: the daemon connects the container's networks
		// before it starts it (daemon/start.go, initializeNetworking).
		e.networkEvent("connect", rec)
		e.recordEvent("start", rec)
		ctl.setRunning(r)
		checks = startHealth(rec, dir, ctl.sp, r, func(status string) { e.recordEvent("health_status: "+status, rec) })
		if then != nil {
			then(r)
		}
	}
	networkDone := make(chan struct{})
	var stopOnce sync.Once
	endNetwork := func() {
		stopOnce.Do(func() {
			go func() {
				if stopNetwork != nil {
					stopNetwork()
				}
				close(networkDone)
			}()
		})
	}
	// The network ends while the container is torn down (pasta takes
	// some 20 ms to exit)...
	mio.Exited = func() {
		checks.Stop()
		endNetwork()
	}
	st, err := monitor.Run(ctx, mio)
	checks.Stop()
	// ...and has ended, its ports closed, before the container's end is
	// recorded: a stopped container has none open.
	endNetwork()
	<-networkDone
	ctl.setRunning(nil)
	if err != nil {
		return st, e.startFailed(rec, dir, startedBefore, err)
	}
	rec.FinishedAt, rec.ExitCode, rec.Monitor, rec.Init = time.Now().UTC(), &st.ExitCode, nil, nil
	rec.OOMKilled = st.OOMKilled
	e.networkEvent("disconnect", rec)
	e.dieEvent(rec, st.ExitCode)
	if restart != nil && restart(st.ExitCode) {
		rec.Restarting, rec.Monitor = true, currentProcess()
	}
	if !rec.Remove {
		// `box rm -f` from elsewhere may have removed the container meanwhile.
		if err := rec.save(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return st, err
		}
	}
	return st, nil
}

// startFailed records that rec did not start after all (it last started
// at startedBefore) and returns err.
func (e *Engine) startFailed(rec *record, dir string, startedBefore time.Time, err error) error {
	rec.Monitor, rec.StartedAt = nil, startedBefore
	if !rec.Remove {
		_ = rec.save(dir)
	}
	return err
}

func validate(opts *RunOptions) error {
	if opts.Image == "" {
		return &UsageError{Msg: "an image name is required"}
	}
	switch opts.Pull {
	case "":
		opts.Pull = PullMissing
	case PullMissing, PullAlways, PullNever:
	default:
		return &UsageError{Msg: fmt.Sprintf("invalid pull policy %q: want always, missing or never", opts.Pull)}
	}
	if !opts.userNetwork {
		n, err := resolveNetwork(opts.Network, len(opts.Publish) > 0 || opts.PublishAll)
		if err != nil {
			return err
		}
		opts.Network = n
	}
	if opts.Network.Mode == flags.NetworkHost && opts.Hostname != "" {
		return &UsageError{Msg: "conflicting options: hostname and the network mode host"}
	}
	if opts.Network.Mode == flags.NetworkContainer {
		switch {
		case opts.Hostname != "":
			return &UsageError{Msg: "conflicting options: hostname and the network mode"}
		case len(opts.Names.DNS) > 0 || len(opts.Names.Search) > 0 || len(opts.Names.Options) > 0:
			return &UsageError{Msg: "conflicting options: dns and the network mode"}
		case len(opts.Names.Hosts) > 0:
			return &UsageError{Msg: "conflicting options: custom host-to-IP mapping and the network mode"}
		}
	}
	if opts.Name != "" && !validName(opts.Name) {
		return &UsageError{Msg: fmt.Sprintf("invalid container name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", opts.Name)}
	}
	return nil
}

func validName(n string) bool {
	for i, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i > 0 {
			ok = ok || c == '_' || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return n != ""
}

// resolveImage finds the image locally and pulls it as the policy says.
func (e *Engine) resolveImage(ctx context.Context, opts RunOptions) (*storage.Image, error) {
	if opts.Pull != PullAlways {
		img, err := e.Store.LookupImage(opts.Image)
		if err == nil || !errors.Is(err, storage.ErrImageNotFound) || opts.Pull == PullNever {
			return img, err
		}
	}
	ref, err := storage.ParseReference(opts.Image)
	if err != nil {
		return nil, err
	}
	popts := storage.PullOptions{Platform: opts.Platform}
	if p := opts.Puller; p != nil {
		p.Start(storage.FamiliarString(ref), opts.Pull == PullMissing)
		popts.Progress = p.Event
		defer p.Done()
	}
	rep, err := e.Store.Pull(ctx, ref, popts)
	if err != nil {
		return nil, err
	}
	return e.Store.LookupImage(rep.ID)
}

// nestedMappings gives each container its own user namespace that maps
// box's namespace one for one. Owning its namespaces this way lets a later
// box invocation, in a fresh namespace of its own, still join and signal
// the container (see DESIGN.md: a fresh namespace cannot setns into one
// made by another). Each range is kept separate: one merged range fails.
// Rootful containers get none, as with Docker.
func nestedMappings(outer []specs.LinuxIDMapping) []specs.LinuxIDMapping {
	var m []specs.LinuxIDMapping
	for _, r := range outer {
		m = append(m, specs.LinuxIDMapping{ContainerID: r.ContainerID, HostID: r.ContainerID, Size: r.Size})
	}
	return m
}
