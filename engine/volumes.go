package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"

	"box/engine/flags"
	"box/engine/spec"
	"box/engine/volume"
	"box/storage/filter"
)

// volumeRequest is one volume a container asks for: named, or anonymous
// (Name empty), from -v, --mount, --volumes-from or the image's VOLUME.
type volumeRequest struct {
	Name        string
	Destination string
	ReadOnly    bool
	// NoCopy skips the copy of the image's files into an empty volume.
	NoCopy bool
	// Mode is the -v options as inspect shows them.
	Mode string
	// Options are mount propagation options.
	Options []string
	// Labels are given to the volume if this creates it.
	Labels map[string]string
}

// volumeMount is a volume in a container's record: what inspect shows and
// what rm -v and volume removal look for.
type volumeMount struct {
	Name        string `json:"name"`
	Destination string `json:"destination"`
	Anonymous   bool   `json:"anonymous,omitempty"`
	ReadOnly    bool   `json:"read_only,omitempty"`
	Mode        string `json:"mode,omitempty"`
}

// VolumeInUseError is a volume a container still uses.
type VolumeInUseError struct {
	Name       string
	Containers []string
}

func (e *VolumeInUseError) Error() string {
	return fmt.Sprintf("remove %s: volume is in use - [%s]", e.Name, strings.Join(e.Containers, ", "))
}

// VolumeCreateOptions are `volume create`'s choices.
type VolumeCreateOptions struct {
	// Name is generated (64 hex digits) when empty.
	Name string
	// Driver must be "local" or empty.
	Driver string
	Labels map[string]string
	// Options are the local driver's KEY=VALUE options: a bind of a
	// directory (volume.ParseOptions).
	Options []string
}

// VolumeInspect is a volume in the shape and with the field names of
// Docker's.
type VolumeInspect struct {
	CreatedAt  string            `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
	// InUse says whether a container uses the volume (not dangling); not
	// part of inspect's output.
	InUse bool `json:"-"`
}

func inspectOf(v *volume.Volume) *VolumeInspect {
	return &VolumeInspect{
		CreatedAt: v.CreatedAt.Local().Format(time.RFC3339), Driver: volume.Driver, Labels: v.Labels,
		Mountpoint: v.Mountpoint, Name: v.Name, Scope: "local", Options: v.Options,
	}
}

func (e *Engine) volumeStore() (*volume.Store, error) {
	return volume.Open(e.Store.Root())
}

// CreateVolume creates a volume, or returns the one of that name that
// exists already, as Docker does.
func (e *Engine) CreateVolume(opts VolumeCreateOptions) (*VolumeInspect, error) {
	if opts.Driver != "" && opts.Driver != volume.Driver {
		return nil, &UsageError{Msg: fmt.Sprintf("volume driver %q not found: box has the local driver only", opts.Driver)}
	}
	options, err := volume.ParseOptions(opts.Options)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	name := opts.Name
	if name == "" {
		name = volume.NewName()
	}
	vs, err := e.volumeStore()
	if err != nil {
		return nil, err
	}
	vs.RLock()
	defer vs.Unlock()
	v, created, err := vs.Create(name, opts.Labels, options)
	if err != nil {
		return nil, err
	}
	if created {
		e.volumeEvent("create", v.Name)
	}
	return inspectOf(v), nil
}

// InspectVolume describes a volume as Docker's volume inspect does.
func (e *Engine) InspectVolume(name string) (*VolumeInspect, error) {
	vs, err := e.volumeStore()
	if err != nil {
		return nil, err
	}
	vs.RLock()
	defer vs.Unlock()
	v, err := vs.Get(name)
	if err != nil {
		return nil, err
	}
	return inspectOf(v), nil
}

// Volumes lists the volumes that pass every filter, sorted by name:
// name=REGEXP, label=KEY or label=KEY=VALUE, dangling=true|false and
// driver=local, as Docker's volume ls takes them.
func (e *Engine) Volumes(filters filter.Args) ([]*VolumeInspect, error) {
	match, err := volumeFilter(filters)
	if err != nil {
		return nil, err
	}
	vs, err := e.volumeStore()
	if err != nil {
		return nil, err
	}
	// Shared: removals (and --rm containers going with their volumes)
	// finish before the listing.
	vs.RLock()
	defer vs.Unlock()
	list, err := vs.List()
	if err != nil {
		return nil, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return nil, err
	}
	var out []*VolumeInspect
	for _, v := range list {
		vi := inspectOf(v)
		vi.InUse = len(users[v.Name]) > 0
		if match(vi) {
			out = append(out, vi)
		}
	}
	return out, nil
}

// VolumeFilters are the --filter keys of volume ls.
var VolumeFilters = filter.Spec{Keys: []string{"name", "label", "dangling", "driver"}, Negatable: []string{"label"}}

// VolumePruneFilters are the --filter keys of volume prune.
var VolumePruneFilters = filter.Spec{Keys: []string{"label"}, Negatable: []string{"label"}}

// volumeFilter compiles filters into one predicate.
func volumeFilter(args filter.Args) (func(*VolumeInspect) bool, error) {
	names, err := args.Regexps("name")
	if err != nil {
		return nil, err
	}
	dangling, danglingSet, err := args.Bool("dangling")
	if err != nil {
		return nil, err
	}
	return func(v *VolumeInspect) bool {
		return (len(names) == 0 || slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(v.Name) })) &&
			args.Match("driver", func(d string) bool { return v.Driver == d }) &&
			args.MatchLabels(v.Labels) &&
			(!danglingSet || v.InUse != dangling)
	}, nil
}

// volumeUsers maps each volume to the ids of the containers whose records
// name it, running or not.
func (e *Engine) volumeUsers() (map[string][]string, error) {
	raw, err := e.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	users := map[string][]string{}
	for _, c := range raw {
		dir, err := e.Store.ContainerDir(c.ID)
		if err != nil {
			continue
		}
		rec, err := loadRecord(dir)
		if err != nil {
			continue
		}
		for _, v := range rec.Volumes {
			if !slices.Contains(users[v.Name], c.ID) {
				users[v.Name] = append(users[v.Name], c.ID)
			}
		}
	}
	for _, ids := range users {
		sort.Strings(ids)
	}
	return users, nil
}

// RemoveVolume removes a volume no container uses. With force, a volume
// that does not exist is not an error; one in use is refused all the
// same, as in Docker.
func (e *Engine) RemoveVolume(name string, force bool) error {
	vs, err := e.volumeStore()
	if err != nil {
		return err
	}
	vs.Lock()
	defer vs.Unlock()
	if _, err := vs.Get(name); err != nil {
		if force && errors.Is(err, volume.ErrNoSuchVolume) {
			return nil
		}
		return err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return err
	}
	if ids := users[name]; len(ids) > 0 {
		return &VolumeInUseError{Name: name, Containers: ids}
	}
	if err := vs.Remove(name); err != nil {
		return err
	}
	e.volumeEvent("destroy", name)
	return nil
}

// PruneVolumes removes the volumes no container uses: the anonymous ones,
// or with all every one, among those with the labels filters ask for
// (VolumePruneFilters). It returns their names and the bytes they held.
func (e *Engine) PruneVolumes(all bool, filters filter.Args) ([]string, int64, error) {
	match, err := volumeFilter(filters)
	if err != nil {
		return nil, 0, err
	}
	vs, err := e.volumeStore()
	if err != nil {
		return nil, 0, err
	}
	vs.Lock()
	defer vs.Unlock()
	_ = vs.RemoveLeftovers()
	list, err := vs.List()
	if err != nil {
		return nil, 0, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return nil, 0, err
	}
	var removed []string
	var reclaimed int64
	var errs []error
	for _, v := range list {
		if len(users[v.Name]) > 0 || !all && !v.Anonymous() || !match(inspectOf(v)) {
			continue
		}
		size := vs.Size(v)
		if err := vs.Remove(v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, v.Name)
		e.volumeEvent("destroy", v.Name)
		reclaimed += size
	}
	return removed, reclaimed, errors.Join(errs...)
}

// RemoveContainerAndVolumes is RemoveContainer (rm -v) that also removes
// the container's anonymous volumes which no other container uses.
func (e *Engine) RemoveContainerAndVolumes(ctx context.Context, nameOrID string, force bool) error {
	c, err := e.LookupContainer(nameOrID)
	if err != nil {
		return err
	}
	var vols []volumeMount
	if dir, err := e.Store.ContainerDir(c.ID); err == nil {
		if rec, err := loadRecord(dir); err == nil {
			vols = rec.Volumes
		}
	}
	if err := e.RemoveContainer(ctx, c.ID, force); err != nil {
		return err
	}
	return e.removeAnonymousVolumes(vols)
}

// removeAnonymousVolumes removes those of a removed container's volumes
// that are anonymous and that no other container uses, as Docker does for
// rm -v and run --rm.
func (e *Engine) removeAnonymousVolumes(vols []volumeMount) error {
	return e.deleteWithVolumes(nil, vols)
}

// deleteWithVolumes runs del (when not nil: the deletion of a container's
// storage) and then removes the container's anonymous volumes that no
// other container uses, all under the volume store's exclusive lock, so
// that `volume ls` never sees the container gone and its volumes still
// there (a detached --rm container ends on its own, while users watch).
func (e *Engine) deleteWithVolumes(del func(), vols []volumeMount) error {
	if !slices.ContainsFunc(vols, func(v volumeMount) bool { return v.Anonymous }) {
		if del != nil {
			del()
		}
		return nil
	}
	vs, err := e.volumeStore()
	if err != nil {
		if del != nil {
			del()
		}
		return err
	}
	vs.Lock()
	defer vs.Unlock()
	if del != nil {
		del()
	}
	users, err := e.volumeUsers()
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vols {
		if !v.Anonymous || len(users[v.Name]) > 0 {
			continue
		}
		if err := vs.Remove(v.Name); err != nil && !errors.Is(err, volume.ErrNoSuchVolume) {
			errs = append(errs, err)
		} else if err == nil {
			e.volumeEvent("destroy", v.Name)
		}
	}
	return errors.Join(errs...)
}

// volumeUse is the volumes and inherited binds of a container being set
// up. Its volumes exist and are held under the volume store's shared lock
// until release, which Run calls once the container's record names them.
type volumeUse struct {
	e      *Engine
	store  *volume.Store
	locked bool
	// mounts are bind mounts for the spec: volumes and --volumes-from binds.
	mounts  []spec.Mount
	volumes []volumeMount
}

// release lets removals of volumes go ahead. Safe on nil and repeated.
func (u *volumeUse) release() {
	if u != nil && u.locked {
		u.locked = false
		u.store.Unlock()
	}
}

// removeAnonymous undoes a container that never came to be, or one that
// ends under --rm: its anonymous volumes go. Named volumes stay, as in
// Docker. Safe on nil.
func (u *volumeUse) removeAnonymous() {
	if u == nil {
		return
	}
	u.release()
	_ = u.e.removeAnonymousVolumes(u.volumes)
}

// attachVolumes finds or creates every volume a new container mounts:
// those asked for, those of --volumes-from containers, and the image's
// VOLUMEs, in that order of precedence where they share a mount point
// (taken lists the points other mounts hold already). A volume that is
// empty gets the image's files at its mount point (rootfs, mounted),
// unless nocopy says not to. On error nothing new stays behind.
func (e *Engine) attachVolumes(rootfs string, reqs []volumeRequest, from []flags.VolumesFrom, imageVolumes map[string]struct{}, taken []spec.Mount) (*volumeUse, error) {
	u := &volumeUse{e: e}
	held := map[string]bool{}
	for _, m := range taken {
		held[path.Clean(m.Destination)] = true
	}
	for i := range reqs {
		reqs[i].Destination = path.Clean(reqs[i].Destination)
		held[reqs[i].Destination] = true
	}
	for _, f := range from {
		vols, binds, err := e.volumesFrom(f)
		if err != nil {
			return nil, err
		}
		for _, r := range vols {
			if !held[r.Destination] {
				held[r.Destination] = true
				reqs = append(reqs, r)
			}
		}
		for _, m := range binds {
			if !held[m.Destination] {
				held[m.Destination] = true
				u.mounts = append(u.mounts, m)
			}
		}
	}
	var imageDests []string
	for d := range imageVolumes {
		imageDests = append(imageDests, path.Clean(d))
	}
	sort.Strings(imageDests)
	for _, d := range imageDests {
		if path.IsAbs(d) && !held[d] {
			held[d] = true
			reqs = append(reqs, volumeRequest{Destination: d})
		}
	}
	if len(reqs) == 0 {
		return u, nil
	}

	vs, err := e.volumeStore()
	if err != nil {
		return nil, err
	}
	u.store = vs
	vs.RLock()
	u.locked = true
	for _, r := range reqs {
		name, labels := r.Name, r.Labels
		if name == "" {
			name = volume.NewName()
			labels = map[string]string{volume.AnonymousLabel: ""}
			maps.Copy(labels, r.Labels)
		}
		v, created, err := vs.Create(name, labels, nil)
		if err != nil {
			u.removeAnonymous()
			return nil, err
		}
		if created {
			e.volumeEvent("create", v.Name)
		}
		if st, err := os.Stat(v.Mountpoint); err != nil || !st.IsDir() {
			// A bind device removed since the volume was made.
			u.removeAnonymous()
			return nil, fmt.Errorf("volume %s: its device %s is not a directory any more", v.Name, v.Mountpoint)
		}
		// Recorded before the copy: a failed copy removes the volume too.
		u.volumes = append(u.volumes, volumeMount{Name: v.Name, Destination: r.Destination, Anonymous: v.Anonymous(), ReadOnly: r.ReadOnly, Mode: r.Mode})
		if !r.NoCopy {
			src, err := securejoin.SecureJoin(rootfs, r.Destination)
			if err == nil {
				_, err = vs.CopyUp(v, src)
			}
			if err != nil {
				u.removeAnonymous()
				return nil, err
			}
		}
		opts := slices.Clone(r.Options)
		if r.ReadOnly || v.ReadOnly() {
			opts = append(opts, "ro")
		}
		u.mounts = append(u.mounts, spec.Mount{Type: "bind", Source: v.Mountpoint, Destination: r.Destination, Options: opts})
	}
	return u, nil
}

// volumesFrom are --volumes-from's container's volumes, which copy
// nothing in, and its bind mounts, read-only or read-write as its mode
// says, else as they are there.
func (e *Engine) volumesFrom(from flags.VolumesFrom) ([]volumeRequest, []spec.Mount, error) {
	name, mode := from.Container, from.Mode
	c, err := e.LookupContainer(name)
	if err != nil {
		return nil, nil, err
	}
	dir, err := e.Store.ContainerDir(c.ID)
	if err != nil {
		return nil, nil, err
	}
	rec, err := loadRecord(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("volumes from %s: %w", name, err)
	}
	sp, err := loadSpec(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("volumes from %s: %w", name, err)
	}
	readOnly := func(was bool) bool {
		switch mode {
		case "ro":
			return true
		case "rw":
			return false
		}
		return was
	}
	var vols []volumeRequest
	isVolume := map[string]bool{}
	for _, v := range rec.Volumes {
		isVolume[v.Destination] = true
		ro := readOnly(v.ReadOnly)
		m := ""
		if ro {
			m = "ro"
		}
		vols = append(vols, volumeRequest{Name: v.Name, Destination: v.Destination, ReadOnly: ro, NoCopy: true, Mode: m})
	}
	var binds []spec.Mount
	for _, m := range sp.Mounts {
		if m.Type != "bind" || isVolume[m.Destination] || strings.HasPrefix(m.Source, dir) || m.Destination == "/sys" {
			continue
		}
		var opts []string
		ro := false
		for _, o := range m.Options {
			switch o {
			case "rbind", "bind":
			case "ro":
				ro = true
			case "rw":
			default:
				opts = append(opts, o)
			}
		}
		if readOnly(ro) {
			opts = append(opts, "ro")
		}
		binds = append(binds, spec.Mount{Type: "bind", Source: m.Source, Destination: m.Destination, Options: opts})
	}
	return vols, binds, nil
}

// volumeAt is the record's volume mounted at dst, if any.
func (r *record) volumeAt(dst string) *volumeMount {
	for i := range r.Volumes {
		if r.Volumes[i].Destination == dst {
			return &r.Volumes[i]
		}
	}
	return nil
}

// parseLabelList reads "key=value" (or "key") labels; nil for none.
// Only network create (usernet.go) still hands the engine label
// strings; its command can parse them with engine/flags instead.
func parseLabelList(list []string) (map[string]string, error) { return flags.ParseLabels(list) }
