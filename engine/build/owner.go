package build

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/user"
)

// emptyDir stands for the files of a stage that has none (FROM scratch
// with no step yet): every source is missing there.
const emptyDir = "/nonexistent/box-build-empty"

// dirInfo is a directory a step makes (WORKDIR).
type dirInfo struct {
	name string
	mod  time.Time
}

func (d dirInfo) Name() string       { return d.name }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return d.mod }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

// resolveOwner turns --chown's USER[:GROUP] into ids: numbers as they
// are, names through the image's /etc/passwd and /etc/group. A user
// without a group gets the user's primary group (a number: the same
// number, as Docker does).
func resolveOwner(rootfs, spec string) (int, int, error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(u); err == nil {
		uid, gid = n, n
	} else {
		users, err := readUsers(rootfs, func(x user.User) bool { return x.Name == u })
		if err != nil || len(users) == 0 {
			return 0, 0, fmt.Errorf("invalid --chown %q: no user %q in the image's /etc/passwd", spec, u)
		}
		uid, gid = users[0].Uid, users[0].Gid
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else {
			groups, err := readGroups(rootfs, func(x user.Group) bool { return x.Name == g })
			if err != nil || len(groups) == 0 {
				return 0, 0, fmt.Errorf("invalid --chown %q: no group %q in the image's /etc/group", spec, g)
			}
			gid = groups[0].Gid
		}
	}
	return uid, gid, nil
}

func readUsers(rootfs string, filter func(user.User) bool) ([]user.User, error) {
	if rootfs == "" {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(filepath.Join(rootfs, "etc/passwd"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return user.ParsePasswdFilter(f, filter)
}

func readGroups(rootfs string, filter func(user.Group) bool) ([]user.Group, error) {
	if rootfs == "" {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(filepath.Join(rootfs, "etc/group"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return user.ParseGroupFilter(f, filter)
}
