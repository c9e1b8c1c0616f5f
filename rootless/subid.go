package rootless

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// subIDRanges returns the ranges /etc/subuid or /etc/subgid grant to the
// user, who may be named by name or by numeric id (shadow-utils accepts
// both). A missing file means no ranges.
func subIDRanges(path, name string, id int) ([]specs.LinuxIDMapping, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSubID(bufio.NewScanner(f), name, strconv.Itoa(id))
}

func parseSubID(sc *bufio.Scanner, name, id string) ([]specs.LinuxIDMapping, error) {
	var ranges []specs.LinuxIDMapping
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != id) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		ranges = append(ranges, specs.LinuxIDMapping{HostID: uint32(start), Size: uint32(count)})
	}
	return ranges, sc.Err()
}

// namespaceMap maps the user to 0 and the ranges after it, one after
// another, as Podman does: inside ids 1.. are the subordinate ids.
func namespaceMap(self int, ranges []specs.LinuxIDMapping) []specs.LinuxIDMapping {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(self), Size: 1}}
	next := uint32(1)
	for _, r := range ranges {
		m = append(m, specs.LinuxIDMapping{ContainerID: next, HostID: r.HostID, Size: r.Size})
		next += r.Size
	}
	return m
}
