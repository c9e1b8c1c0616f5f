package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"box/engine/network"
	"box/storage"
)

// record is box's own description of a container, kept beside the
// container's layer in the store so that later invocations can list and
// inspect it. It is written atomically (temp file and rename).
type record struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Image      string    `json:"image"`
	ImageID    string    `json:"image_id"`
	Created    time.Time `json:"created"`
	Path       string    `json:"path"`
	Args       []string  `json:"args"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	// OOMKilled: the kernel's OOM killer ended the last run.
	OOMKilled bool `json:"oom_killed,omitempty"`
	// Error is why the last start failed, for inspect's State.Error.
	Error string `json:"error,omitempty"`
	// Monitor names the process that owns the running container and Init
	// the container's first process as the host sees it, each with its
	// start time so that a reused pid is not mistaken for it.
	Monitor *processID `json:"monitor,omitempty"`
	Init    *processID `json:"init,omitempty"`
	// Remove is --rm: the monitor deletes the container when it ends.
	Remove bool `json:"remove,omitempty"`
	// BuildStep is a build's RUN container, which the build removes
	// once it has read its changes.
	BuildStep bool              `json:"build_step,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`

	// What the container was created with, for inspect: the resolved
	// Entrypoint and Cmd, and the options the spec does not keep.
	Entrypoint  []string `json:"entrypoint,omitempty"`
	Cmd         []string `json:"cmd,omitempty"`
	User        string   `json:"user,omitempty"`
	Interactive bool     `json:"interactive,omitempty"`
	NetworkMode string   `json:"network_mode,omitempty"`
	// Ports are the published ports, host ports chosen; DNSForward the
	// nameserver address pasta answers for the host's loopback ones.
	Ports      []network.Port `json:"ports,omitempty"`
	DNSForward string         `json:"dns_forward,omitempty"`
	// Address is the private network's address as the monitor found it
	// in the container's namespace at its last start, for inspect.
	Address    *network.Address `json:"address,omitempty"`
	Privileged bool             `json:"privileged,omitempty"`
	CapAdd     []string         `json:"cap_add,omitempty"`
	CapDrop    []string         `json:"cap_drop,omitempty"`
	// Log is the logging driver and its options; records from before
	// --log-driver have none, which is json-file without rotation.
	Log LogConfig `json:"log_config,omitzero"`
	// WithInit is --init: box's init is the container's PID 1.
	WithInit bool `json:"with_init,omitempty"`
	// Restart is --restart; RestartCount how often the monitor has
	// restarted the container, and Restarting that it waits to do so.
	Restart      RestartPolicy `json:"restart,omitzero"`
	RestartCount int           `json:"restart_count,omitempty"`
	Restarting   bool          `json:"restarting,omitempty"`
	// --dns, --dns-search, --dns-option and --add-host, for inspect.
	DNS        []string `json:"dns,omitempty"`
	DNSSearch  []string `json:"dns_search,omitempty"`
	DNSOptions []string `json:"dns_options,omitempty"`
	ExtraHosts []string `json:"extra_hosts,omitempty"`
	// Volumes are the volumes the container mounts (see volumes.go).
	Volumes []volumeMount `json:"volumes,omitempty"`
	// Healthcheck is the image's HEALTHCHECK with --health-* over it, as
	// Docker merges them; HealthShell the image's SHELL a CMD-SHELL check
	// runs with (none: /bin/sh -c). The check's state is in health.json
	// beside this record (health.go).
	Healthcheck *storage.HealthConfig `json:"healthcheck,omitempty"`
	HealthShell []string              `json:"health_shell,omitempty"`
	// ImageExposed is the image's EXPOSE list, for inspect.
	ImageExposed map[string]struct{} `json:"image_exposed,omitempty"`
	// Settings are the other container flags (settings.go).
	Settings Settings `json:"settings,omitzero"`
}

// processID tells one process from a later one that reuses its pid.
type processID struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // clock ticks since boot, /proc/PID/stat field 22
}

const recordFile = "box.json"

// save writes the record to dir, atomically. The restart policy, the
// limits and the name are other commands' to change (update and rename,
// through updateRecord): save keeps the ones on disk, so that a monitor writing
// its copy of the record (at each start and exit) never undoes a change
// made meanwhile. Writers take the record's lock: no two write at once.
func (r *record) save(dir string) error {
	unlock, err := lockRecord(dir)
	if err != nil {
		return fmt.Errorf("save container %s: %w", r.ID[:12], err)
	}
	defer unlock()
	if onDisk, err := loadRecord(dir); err == nil {
		r.Restart, r.Name, r.Settings.Resources = onDisk.Restart, onDisk.Name, onDisk.Settings.Resources
	}
	return r.write(dir)
}

// updateRecord changes the record in dir with change, under its lock.
func updateRecord(dir string, change func(*record) error) error {
	unlock, err := lockRecord(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := loadRecord(dir)
	if err != nil {
		return err
	}
	if err := change(r); err != nil {
		return err
	}
	return r.write(dir)
}

// lockRecord takes the lock of the record in dir: an flock on the
// directory itself, dropped by the kernel if the writer dies.
func lockRecord(dir string) (unlock func(), err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return func() { unix.Close(fd) }, nil
}

// write replaces the record in dir; the caller holds its lock.
func (r *record) write(dir string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, recordFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, syscall.ENOSPC) && overwrite(filepath.Join(dir, recordFile), data) == nil {
			return nil
		}
		return fmt.Errorf("save container %s: %w", r.ID[:12], err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, recordFile)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("save container %s: %w", r.ID[:12], err)
	}
	return nil
}

// overwrite rewrites an existing file in place: on a full disk (a
// container's log filled it) there is no room for a second copy, but the
// blocks the record already has are enough for its exit code, so the
// monitor can still say how the container ended. It is not atomic; only
// a full disk makes it worth that.
func overwrite(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	return errors.Join(err, f.Close())
}

func loadRecord(dir string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, recordFile), err)
	}
	return &r, nil
}
