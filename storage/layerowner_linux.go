package storage

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Which owners a layer's files may have.
//
// Rootless, the store runs as root of a user namespace that maps the
// user's /etc/subuid and /etc/subgid ranges; a file owned by an id beyond
// them cannot be made (chown says EINVAL), and the store's unpacker says
// so in words of its own that send the user to `podman system migrate`,
// through a child process whose output is all that comes back. So the
// entries are checked against the namespace's maps before the store sees
// them, and a refusal names the entry and the fix. With only the user
// mapped (no range), the store is told to ignore chown errors and takes
// every owner as the user: nothing to check then.

// idRange is one line of /proc/self/uid_map or gid_map: ids first to
// first+size-1 inside.
type idRange struct{ first, size uint64 }

var nsIDs struct {
	once     sync.Once
	uid, gid []idRange
}

// namespaceIDs returns this process's uid and gid maps, or nil ones when
// every owner can be made (outside a user namespace) or none is refused
// (only one id mapped: the store ignores chown errors then).
func namespaceIDs() (uid, gid []idRange) {
	nsIDs.once.Do(func() {
		nsIDs.uid = readIDMap("/proc/self/uid_map")
		nsIDs.gid = readIDMap("/proc/self/gid_map")
	})
	return nsIDs.uid, nsIDs.gid
}

func readIDMap(path string) []idRange {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []idRange
	var total uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		first, err1 := strconv.ParseUint(fields[0], 10, 32)
		size, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, idRange{first, size})
		total += size
	}
	if total <= 1 || total >= 1<<32-1 {
		return nil
	}
	return out
}

func idMapped(m []idRange, id int) bool {
	if m == nil {
		return true
	}
	for _, r := range m {
		if uint64(id) >= r.first && uint64(id) < r.first+r.size {
			return true
		}
	}
	return false
}

// highest is one past the largest id m maps.
func highest(m []idRange) uint64 {
	var top uint64
	for _, r := range m {
		top = max(top, r.first+r.size)
	}
	return top
}

// CheckLayerOwner refuses, with a *LayerEntryError that says how to give
// the user enough ids, a file of a layer about to be stored (entry) owned
// by uid:gid that this process's user namespace cannot make.
func CheckLayerOwner(entry string, uid, gid int) error { return checkOwner("", entry, uid, gid) }

// checkOwner is CheckLayerOwner for an entry of layer.
func checkOwner(layer, entry string, uid, gid int) error {
	uids, gids := namespaceIDs()
	if idMapped(uids, uid) && idMapped(gids, gid) {
		return nil
	}
	user := os.Getenv("USER")
	if user == "" || user == "root" {
		user = "your user"
	}
	// Ids above 0 come from the subordinate range, in order.
	need := max(uid, gid)
	return &LayerEntryError{
		Layer: layer, Entry: entry,
		Reason: fmt.Sprintf("is owned by %d:%d, beyond the ids this user's namespace maps (0 to %d)", uid, gid, min(highest(uids), highest(gids))-1),
		Fix: fmt.Sprintf("give %s at least %d subordinate ids in both /etc/subuid and /etc/subgid (e.g. the line \"%s:100000:%d\" in each), then run the command again",
			user, need, user, max(need, 65536)),
	}
}
