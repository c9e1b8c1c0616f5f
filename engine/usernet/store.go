package usernet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"go.podman.io/storage/pkg/ioutils"
	"go.podman.io/storage/pkg/lockfile"
)

// A user-defined network (`box network create`) is a record in one file,
// networks.json under the store's root, rewritten whole and atomically
// (a temporary file renamed into place) under networks.lock. Readers take
// the lock shared, writers exclusive; a command that allocates an address
// holds it from reading the file to writing it back, so two runs never
// take the same address. The built-in networks (bridge, host, none) are
// never recorded: they always exist.

const (
	StoreFile    = "networks.json"
	networksLock = "networks.lock"
)

// Network is one user-defined network as its record keeps it.
type Network struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Subnet, Gateway and IPRange are in CIDR and address notation;
	// IPRange, when set, is where addresses are handed out from.
	Subnet   string `json:"subnet"`
	Gateway  string `json:"gateway"`
	IPRange  string `json:"ip_range,omitempty"`
	Internal bool   `json:"internal,omitempty"`
	// Default marks the record of the default network, Docker's
	// "bridge", made on first use: it is listed and inspected as that
	// built-in network, never as one of the user's, and its containers
	// do not answer each other's names (as on Docker's default bridge).
	Default bool              `json:"default,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Options map[string]string `json:"options,omitempty"`
	// Endpoints are the containers attached, by container id. An entry
	// whose container no longer exists is stale: the next command that
	// allocates on this network drops it.
	Endpoints map[string]*Endpoint `json:"endpoints,omitempty"`
}

// Endpoint is one container's attachment to a user network.
type Endpoint struct {
	// Name is the container's name when it was attached.
	Name    string   `json:"name"`
	IP      string   `json:"ip"`
	MAC     string   `json:"mac"`
	Aliases []string `json:"aliases,omitempty"`
	// Static says the address was asked for with --ip.
	Static bool `json:"static,omitempty"`
	// Attached orders a container's networks: its first is eth0.
	Attached time.Time `json:"attached,omitempty"`
}

// Store is the user networks of one box store.
type Store struct {
	path string
	lock *lockfile.LockFile
}

func OpenStore(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("networks: %w", err)
	}
	l, err := lockfile.GetLockFile(filepath.Join(root, networksLock))
	if err != nil {
		return nil, fmt.Errorf("networks: %w", err)
	}
	return &Store{path: filepath.Join(root, StoreFile), lock: l}, nil
}

// load reads every record; the caller holds the lock.
func (s *Store) load() ([]*Network, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("networks: %w", err)
	}
	var list []*Network
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("networks: %s: %w", s.path, err)
	}
	return list, nil
}

// save replaces every record at once; the caller holds the lock exclusively.
func (s *Store) save(list []*Network) error {
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := ioutils.AtomicWriteFile(s.path, data, 0o600); err != nil {
		return fmt.Errorf("networks: %w", err)
	}
	return nil
}

// Read calls f with the records under the shared lock.
func (s *Store) Read(f func([]*Network) error) error {
	s.lock.RLock()
	defer s.lock.Unlock()
	list, err := s.load()
	if err != nil {
		return err
	}
	return f(list)
}

// Update calls f with the records under the exclusive lock and saves
// what it returns, unless it fails: then nothing changes.
func (s *Store) Update(f func([]*Network) ([]*Network, error)) error {
	s.lock.Lock()
	defer s.lock.Unlock()
	list, err := s.load()
	if err != nil {
		return err
	}
	out, err := f(list)
	if err != nil {
		return err
	}
	return s.save(out)
}
