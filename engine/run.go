package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/stringid"

	"box/engine/monitor"
	"box/engine/spec"
	"box/storage"
)

// PullPolicy says when run pulls its image.
type PullPolicy string

const (
	PullMissing PullPolicy = "missing"
	PullAlways  PullPolicy = "always"
	PullNever   PullPolicy = "never"
)

// RunOptions are `box run`'s choices, as the user gave them.
type RunOptions struct {
	Image    string
	Pull     PullPolicy
	Platform string
	Name     string
	Remove   bool
	// Detach leaves the container to a monitor process of its own and
	// returns once the container runs.
	Detach bool
	// CreateOnly prepares the container without starting it (box create).
	CreateOnly bool
	// Labels ("key=value" or "key") and files of them, one per line.
	Labels, LabelFiles []string

	Interactive, TTY bool
	// Cmd replaces the image's Cmd when non-nil.
	Cmd []string
	// Entrypoint replaces the image's when non-nil ("" clears it).
	Entrypoint *string

	Env, EnvFiles []string
	Workdir       string
	User          string
	Hostname      string

	Volumes, Mounts, Tmpfs []string
	ReadOnly               bool
	Network                string
	// NetworkAliases are names the container answers to on its user
	// network, besides its name and short id.
	NetworkAliases []string
	// Publish are -p specs; PublishAll (-P) publishes the image's
	// EXPOSE list on random host ports.
	Publish    []string
	PublishAll bool
	// DNS, DNSSearch and DNSOptions replace those of the host's
	// resolv.conf; AddHosts are NAME:IP lines for /etc/hosts (IP may be
	// host-gateway).
	DNS, DNSSearch, DNSOptions, AddHosts []string

	CapAdd, CapDrop []string
	SecurityOpt     []string
	Privileged      bool

	// LogDriver is json-file (the default) or none; LogOpts its
	// KEY=VALUE options (max-size, max-file).
	LogDriver string
	LogOpts   []string

	// Init runs box's own init as PID 1, which reaps orphans and passes
	// signals to the command (Docker's --init).
	Init bool

	// Restart is --restart: no, always, unless-stopped or
	// on-failure[:N]. The monitor of a detached container applies it.
	Restart string
	// VolumesFrom are CONTAINER[:ro|:rw]: mount all of its volumes and binds.
	VolumesFrom []string

	// Puller, when set, is told about an implicit pull.
	Puller Puller `json:"-"`
	// Created, when set, is told the container's id once it exists.
	Created func(id string) `json:"-"`

	// userNetwork says Network names a user network (usernet_join.go).
	userNetwork bool
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
func (e *Engine) Run(ctx context.Context, opts RunOptions, io IO) (string, error) {
	un, err := e.userNetworkOf(opts.Network)
	if err != nil {
		return "", err
	}
	if un != nil {
		if err := refuseOnUserNetwork(&opts, un); err != nil {
			return "", err
		}
		if !opts.CreateOnly {
			c, guest, err := e.holderGuest()
			if err != nil {
				return "", err
			}
			defer c.Close()
			if guest {
				return e.runThroughHolder(ctx, c, opts, io)
			}
		}
	}
	if un == nil && len(opts.NetworkAliases) > 0 {
		return "", &UsageError{Msg: "network-scoped alias is supported only for containers in user defined networks"}
	}
	if err := validate(&opts); err != nil {
		return "", err
	}
	owner, err := e.networkOwner(&opts)
	if err != nil {
		return "", err
	}
	if owner != nil && !opts.CreateOnly && e.joinsThroughOwner(owner.ID) {
		return e.runAsGuest(ctx, owner.ID, opts, io)
	}
	logConfig, err := parseLogConfig(opts.LogDriver, opts.LogOpts)
	if err != nil {
		return "", err
	}
	names, err := parseNameOptions(opts.DNS, opts.DNSSearch, opts.DNSOptions, opts.AddHosts)
	if err != nil {
		return "", err
	}
	restart, err := ParseRestartPolicy(opts.Restart)
	if err != nil {
		return "", err
	}
	if restart.active() && opts.Remove {
		return "", &UsageError{Msg: "conflicting options: --restart and --rm"}
	}
	if restart.active() && !opts.Detach && !opts.CreateOnly {
		// Docker would attach to a container its daemon restarts; here the
		// restarts are the monitor's, which a foreground run does not have.
		return "", &UsageError{Msg: "--restart needs -d: a detached container's monitor restarts it, a foreground run has none"}
	}
	img, err := e.resolveImage(ctx, opts)
	if err != nil {
		return "", err
	}
	mounts, volReqs, err := parseMounts(opts.Volumes, opts.Mounts, opts.Tmpfs)
	if err != nil {
		return "", err
	}
	env, err := readEnvFiles(opts.EnvFiles)
	if err != nil {
		return "", err
	}
	env = append(env, opts.Env...)
	labels, err := containerLabels(img.Config.Config.Labels, opts.Labels, opts.LabelFiles)
	if err != nil {
		return "", err
	}

	ports, err := parsePorts(opts.Publish, opts.PublishAll, img.Config.Config.ExposedPorts)
	if err != nil {
		return "", err
	}
	if !isPrivate(opts.Network) {
		// The host's network or none: nothing to publish (see Warnings).
		ports = nil
	}
	if err := claimHostPorts(ports, e.Identity.Rootless()); err != nil {
		return "", err
	}
	if isPrivate(opts.Network) {
		privateNameOptions(opts.Network, &names)
	}

	if err := checkRoom(e.Store.Root()); err != nil {
		return "", err
	}
	name := opts.Name
	if name == "" {
		name = generateName(e.Store.Backing())
	}
	id := stringid.GenerateRandomID()
	var mon *monitorProcess
	if opts.Detach {
		// The monitor gets ready while the container is prepared.
		if mon, err = e.spawnMonitor(id); err != nil {
			return "", err
		}
		defer func() {
			if mon != nil {
				mon.cancel()
			}
		}()
	}
	// A --rm container's layer and record never need to survive a crash:
	// volatile ones are written without fdatasync (13 -> 7 per run; run
	// --rm busybox true 103 -> 91 ms here), as Podman does for --rm.
	ctr, err := e.Store.Backing().CreateContainer(id, []string{name}, img.ID, "", "", &cstorage.ContainerOptions{Volatile: opts.Remove})
	for tries := 0; errors.Is(err, cstorage.ErrDuplicateName) && opts.Name == "" && tries < 10; tries++ {
		// Another box took the generated name since it was found free.
		name = generateName(e.Store.Backing())
		ctr, err = e.Store.Backing().CreateContainer(id, []string{name}, img.ID, "", "", &cstorage.ContainerOptions{Volatile: opts.Remove})
	}
	if errors.Is(err, cstorage.ErrDuplicateName) {
		other := ""
		if c, _ := e.Store.Backing().Container(name); c != nil {
			other = c.ID
		}
		return "", &NameConflictError{Name: name, ID: other}
	}
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	if opts.Created != nil {
		opts.Created(ctr.ID)
	}
	// The rootfs mount lives only in this process's mount namespace and
	// goes with it; until the container has started, every failure
	// removes the container again.
	started, detached, removeAtEnd := false, false, opts.Remove
	var vols *volumeUse
	defer func() {
		if detached {
			return
		}
		_, _ = e.Store.Backing().Unmount(ctr.ID, true)
		if !started || removeAtEnd {
			_ = e.Store.Backing().DeleteContainer(ctr.ID)
			if un != nil {
				e.releaseNetworks(ctr.ID)
			}
			vols.removeAnonymous()
		}
	}()

	rootfs, err := e.Store.Backing().Mount(ctr.ID, "")
	if err != nil {
		return "", fmt.Errorf("mount container %s: %w", storage.ShortID(ctr.ID), err)
	}
	if vols, err = e.attachVolumes(rootfs, volReqs, opts.VolumesFrom, img.Config.Config.Volumes, mounts); err != nil {
		return "", err
	}
	defer vols.release()
	mounts = append(mounts, vols.mounts...)

	so := spec.Options{
		Rootfs:      rootfs,
		Image:       img.Config.Config,
		ImageArch:   img.Config.Architecture,
		Cmd:         opts.Cmd,
		Env:         env,
		OSEnv:       os.LookupEnv,
		WorkingDir:  opts.Workdir,
		User:        opts.User,
		Hostname:    opts.Hostname,
		TTY:         opts.TTY,
		Mounts:      mounts,
		ReadOnly:    opts.ReadOnly,
		Network:     specNetwork(opts.Network),
		CapAdd:      opts.CapAdd,
		CapDrop:     opts.CapDrop,
		Privileged:  opts.Privileged,
		Rootless:    e.Identity.Rootless(),
		UIDMappings: nestedMappings(e.Identity.UIDMap),
		GIDMappings: nestedMappings(e.Identity.GIDMap),
	}
	if opts.Entrypoint != nil {
		so.Entrypoint = []string{}
		if *opts.Entrypoint != "" {
			so.Entrypoint = []string{*opts.Entrypoint}
		}
	}
	if err := applySecurityOpts(&so, opts.SecurityOpt); err != nil {
		return "", err
	}
	if so.Hostname == "" {
		if so.Network == spec.NetworkHost {
			so.Hostname, _ = os.Hostname()
		} else {
			so.Hostname = ctr.ID[:12]
		}
	}
	dir, err := e.Store.Backing().ContainerDirectory(ctr.ID)
	if err != nil {
		return "", fmt.Errorf("container directory: %w", err)
	}
	if owner != nil {
		so.JoinNetwork = true
		if so.EtcFiles, so.Hostname, err = e.ownerEtcFiles(owner.ID); err != nil {
			return "", err
		}
	} else if err := e.userNetworkNames(un, ctr.ID, name, so.Hostname, opts.NetworkAliases, &names); err != nil {
		return "", err
	} else if so.EtcFiles, err = writeEtcFiles(dir, so.Hostname, spec.Network(opts.Network), names); err != nil {
		return "", err
	}
	sp, err := spec.Generate(so)
	if err != nil {
		return "", err
	}
	if !opts.CreateOnly {
		// Docker's create takes any command; its start finds it missing.
		if err := checkCommand(rootfs, sp, mounts); err != nil {
			return "", err
		}
	}
	rec := &record{
		ID: ctr.ID, Name: name, Image: opts.Image, ImageID: img.ID,
		Created: time.Now().UTC(), Path: sp.Process.Args[0], Args: sp.Process.Args[1:],
		Remove: opts.Remove, Labels: labels,
		Entrypoint: img.Config.Config.Entrypoint, Cmd: img.Config.Config.Cmd,
		User: so.User, Interactive: opts.Interactive, NetworkMode: opts.Network,
		Privileged: opts.Privileged, CapAdd: opts.CapAdd, CapDrop: opts.CapDrop,
		Log: logConfig, WithInit: opts.Init, Restart: restart,
		DNS: names.DNS, DNSSearch: names.Search, DNSOptions: names.Options, ExtraHosts: opts.AddHosts,
		Ports: ports, DNSForward: names.DNSForward,
		Volumes: vols.volumes,
	}
	if so.Entrypoint != nil {
		rec.Entrypoint, rec.Cmd = so.Entrypoint, nil
	}
	if opts.Cmd != nil {
		rec.Cmd = opts.Cmd
	}
	if err := rec.save(dir); err != nil {
		return "", err
	}
	if opts.Init {
		// After the record took the user's command for Path and Args.
		if err := withInit(sp); err != nil {
			return "", err
		}
	}
	// The record names the container's volumes now: they are safe from
	// removal without the lock.
	vols.release()
	if err := saveSpec(dir, sp); err != nil {
		return "", err
	}
	if opts.CreateOnly {
		started, removeAtEnd = true, false
		return ctr.ID, nil
	}
	if opts.Detach {
		m := mon
		mon = nil
		if err := m.start(); err != nil {
			return "", err
		}
		// The container and its rootfs mount are the monitor's now.
		started, detached = true, true
		return ctr.ID, nil
	}

	mio := monitor.Config{
		ID:        ctr.ID,
		StateRoot: e.stateRoot(),
		Spec:      sp,
		Rootless:  e.Identity.Rootless(),
		Stdout:    io.Stdout,
		Stderr:    io.Stderr,
	}
	if opts.Interactive {
		// Without -i (even with -t) the keyboard is not passed on.
		mio.Stdin = io.Stdin
	}
	finishLog, err := logAttached(rec, dir, &mio)
	if err != nil {
		return "", err
	}
	st, err := e.supervise(ctx, rec, dir, mio, nil, nil)
	finishLog()
	if err != nil {
		return "", err
	}
	started = true
	if st.ExitCode != 0 {
		return ctr.ID, &ExitError{Code: st.ExitCode}
	}
	return ctr.ID, nil
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
	if err := e.joinOwnerNetwork(rec, mio.Spec); err != nil {
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
	mio.Started = func(r *monitor.Running) {
		holder.release()
		rec.StartedAt, rec.Monitor, rec.Init = time.Now().UTC(), currentProcess(), processOf(r.Pid)
		rec.ExitCode, rec.FinishedAt, rec.Restarting, rec.Error = nil, time.Time{}, false, ""
		_ = rec.save(dir)
		ctl.setRunning(r)
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
	mio.Exited = endNetwork
	st, err := monitor.Run(ctx, mio)
	// ...and has ended, its ports closed, before the container's end is
	// recorded: a stopped container has none open.
	endNetwork()
	<-networkDone
	ctl.setRunning(nil)
	if err != nil {
		return st, e.startFailed(rec, dir, startedBefore, err)
	}
	rec.FinishedAt, rec.ExitCode, rec.Monitor, rec.Init = time.Now().UTC(), &st.ExitCode, nil, nil
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
		mode, err := resolveNetwork(opts.Network, len(opts.Publish) > 0 || opts.PublishAll)
		if err != nil {
			return err
		}
		opts.Network = mode
	}
	if opts.Network == string(spec.NetworkHost) && opts.Hostname != "" {
		return &UsageError{Msg: "conflicting options: hostname and the network mode host"}
	}
	if networkOwnerName(opts.Network) != "" {
		switch {
		case opts.Hostname != "":
			return &UsageError{Msg: "conflicting options: hostname and the network mode"}
		case len(opts.DNS) > 0 || len(opts.DNSSearch) > 0 || len(opts.DNSOptions) > 0:
			return &UsageError{Msg: "conflicting options: dns and the network mode"}
		case len(opts.AddHosts) > 0:
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

func applySecurityOpts(so *spec.Options, opts []string) error {
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if !strings.Contains(o, "=") {
			k, v, _ = strings.Cut(o, ":")
		}
		switch k {
		case "no-new-privileges":
			switch v {
			case "", "true":
				so.NoNewPrivileges = true
			case "false":
				so.NoNewPrivileges = false
			default:
				return &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: no-new-privileges takes true or false", o)}
			}
		case "seccomp":
			switch v {
			case "unconfined":
				so.Seccomp = "unconfined"
			case "":
				return &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: seccomp takes unconfined or a profile path", o)}
			default:
				data, err := os.ReadFile(v)
				if err != nil {
					return &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: %v", o, err)}
				}
				so.Seccomp = string(data)
			}
		case "label", "apparmor":
			// No SELinux or AppArmor confinement is applied by box; accepting
			// these keeps Docker scripts working.
		default:
			return &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: box knows no-new-privileges, seccomp=unconfined|PROFILE, label and apparmor", o)}
		}
	}
	return nil
}
