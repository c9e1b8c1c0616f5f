package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"go.podman.io/image/v5/docker/reference"

	"box/engine/usernet"
	"box/rootless"
)

// NameKind is the kind of object a shell completion asks names of.
type NameKind int

const (
	ContainerNames NameKind = iota
	// RunningContainerNames and StoppedContainerNames are the containers
	// that run and those that do not, for verbs that take only those.
	RunningContainerNames
	StoppedContainerNames
	ImageNames
	NetworkNames
	VolumeNames
)

// Names lists the names of one kind of object in the caller's store, for
// shell completion, sorted and without duplicates.
//
// It reads the store's files as they lie on disk, without opening the
// store, taking its locks or entering the user namespace: completion runs
// on every TAB and must answer in milliseconds, and a name a moment stale
// is harmless there. Files written inside the user namespace belong to
// the user outside it, so the user can read them from either side. It
// never writes; a missing or unreadable file is no names, not an error.
func Names(opts Options, kind NameKind) []string {
	root, runRoot, ok := completionPaths(opts)
	if !ok {
		return nil
	}
	var names []string
	switch kind {
	case ContainerNames, RunningContainerNames, StoppedContainerNames:
		// --rm containers are volatile: the store lists them apart (in the
		// run root in some versions), their directories beside the others.
		for _, f := range globFiles(filepath.Join(root, "*-containers", "*containers.json"),
			filepath.Join(runRoot, "*-containers", "volatile-containers.json")) {
			dir := filepath.Join(root, filepath.Base(filepath.Dir(f)))
			for _, r := range readNamed(f) {
				if kind == ContainerNames || (kind == RunningContainerNames) == running(dir, r.ID) {
					names = append(names, r.Names...)
				}
			}
		}
	case ImageNames:
		for _, f := range globFiles(filepath.Join(root, "*-images", "images.json")) {
			for _, r := range readNamed(f) {
				for _, n := range r.Names {
					if named, err := reference.ParseNormalizedNamed(n); err == nil {
						n = reference.FamiliarString(named)
					}
					names = append(names, n)
				}
			}
		}
	case NetworkNames:
		for _, b := range builtinNetworks {
			names = append(names, b.Name)
		}
		for _, r := range readNamed(filepath.Join(root, usernet.StoreFile)) {
			if !isBuiltinNetwork(r.Name) {
				names = append(names, r.Name)
			}
		}
	case VolumeNames:
		entries, _ := os.ReadDir(filepath.Join(root, "volumes"))
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(root, "volumes", e.Name(), "volume.json")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if n != "" && (i == 0 || n != names[i-1]) {
			out = append(out, n)
		}
	}
	return out
}

// completionPaths finds the store without the user namespace: there,
// rootless.Current cannot say who the caller is, but the effective uid
// can.
func completionPaths(opts Options) (root, runRoot string, ok bool) {
	id, err := rootless.Current()
	if err != nil {
		id = rootless.Identity{UID: os.Getuid(), Mode: rootless.Ranges}
	}
	root, runRoot, err = Paths(id, opts)
	return root, runRoot, err == nil
}

// running says whether the container id, kept under dir (the store's
// containers directory), runs, as its record and live monitor say.
func running(dir, id string) bool {
	rec, err := loadRecord(filepath.Join(dir, id, "userdata"))
	if err != nil {
		return false
	}
	var c Container
	c.stateFrom(rec)
	return c.State == Running
}

// namedRecord is what the store's containers.json and images.json and
// box's networks.json have in common: names.
type namedRecord struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Names []string `json:"names"`
}

func readNamed(path string) []namedRecord {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var list []namedRecord
	if json.Unmarshal(data, &list) != nil {
		return nil
	}
	return list
}

func globFiles(patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		out = append(out, m...)
	}
	return out
}
