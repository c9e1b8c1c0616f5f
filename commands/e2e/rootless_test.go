package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestRootlessMapping(t *testing.T) {
	r := Rootless.MustBox(t, "info", "--format", "{{.Rootless}} {{.IDMode}}")
	wantOut(t, r, "true subordinate-ranges")
	// Inside box's namespace the user is root, and its subordinate ids exist.
	r = Rootless.MustBox(t, "unshare", "sh", "-c", "id -u; wc -l < /proc/self/uid_map")
	wantOut(t, r, "0\n2")
	// Files owned by subordinate ids (alpine's /etc/shadow is gid 42) are
	// visible to the user only through `box unshare`. A fresh store holds
	// alpine's layer alone.
	Rootless.MustBox(t, "system", "reset", "-f")
	Rootless.MustBox(t, "pull", "-q", "alpine")
	r = Rootless.MustBox(t, "unshare", "sh", "-c", `find "$BOX_STORAGE_ROOT/overlay" -path '*/diff/etc/shadow' -exec stat -c %g {} \; | head -1`)
	wantOut(t, r, "42")
	// Containers see the image's owners, not the user's.
	r = Rootless.MustBox(t, "run", "--rm", "alpine", "stat", "-c", "%U:%G", "/etc/shadow")
	wantOut(t, r, "root:shadow")
	r = Rootless.Box(t, "unshare", "nosuchcommand-box")
	wantCode(t, r, 127)
}

func TestSingleIDFallback(t *testing.T) {
	u := requireNoRange(t)
	marker := filepath.Join(u.RuntimeDir, "box", "single-id-warned")
	_ = os.Remove(marker)
	r := u.MustBox(t, "info", "--format", "{{.IDMode}}")
	wantOut(t, r, "single-id")
	if n := strings.Count(r.Stderr, "warning:"); n != 1 || !strings.Contains(r.Stderr, "usermod --add-subuids") {
		t.Fatalf("want one warning with the fix, got %s", r)
	}
	r = u.MustBox(t, "info", "--format", "{{.IDMode}}")
	if strings.Contains(r.Stderr, "warning") {
		t.Fatalf("the warning came again: %s", r)
	}
	// Images whose files belong to other ids still pull and run.
	r = u.MustBox(t, "run", "--rm", "alpine", "cat", "/etc/alpine-release")
	wantOut(t, r, "3.20.3")
}

func TestSystemReset(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		u.MustBox(t, "run", "--name", "reset-me", "busybox", "true")
		u.MustBox(t, "system", "reset", "-f")
		r := u.MustBox(t, "info", "--format", "{{.Images}} {{.Containers}}")
		wantOut(t, r, "0 0")
		root := filepath.Join(u.DataDir, "box", "storage")
		if u.StoreRoot != "" {
			root = u.StoreRoot
		}
		entries, _ := os.ReadDir(root)
		var left []string
		for _, e := range entries {
			left = append(left, e.Name())
		}
		// A fresh store is recreated by the info above; nothing of the old remains.
		r = u.MustBox(t, "run", "--rm", "busybox", "true")
		if !strings.Contains(r.Stderr, "Unable to find image") {
			t.Fatalf("after reset the image was still there (%v): %s", left, r)
		}
		// Without -f, anything but yes keeps everything.
		r = u.BoxIn(t, "n\n", "system", "reset")
		wantCode(t, r, 0)
		r = u.MustBox(t, "info", "--format", "{{.Images}}")
		wantOut(t, r, "1")
	})
}

// TestUserNamespacesDisabled runs box as the rootless user inside a user
// namespace whose user.max_user_namespaces is 0, which is how a machine
// with user namespaces switched off looks to box: exit 125, one line
// naming the cause and the fix.
func TestUserNamespacesDisabled(t *testing.T) {
	requireRoot(t)
	r := boxWithUserNamespacesOff(t, "images")
	wantCode(t, r, 125)
	wantOneLineError(t, r, "user namespaces are disabled", "max_user_namespaces", "sysctl -w")
}

// boxWithUserNamespacesOff runs box with args as the rootless user inside
// a user namespace of the test's own whose user.max_user_namespaces is 0.
func boxWithUserNamespacesOff(t *testing.T, args ...string) Result {
	t.Helper()
	script := `echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid "$BOX_UID" --regid "$BOX_GID" --clear-groups "$@"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh", boxBin}, args...)...)
	cmd.Env = append(Rootless.Env(), "BOX_UID="+itoa(Rootless.UID), "BOX_GID="+itoa(Rootless.GID))
	cmd.Dir = Rootless.Home
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1 << 20}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1 << 20}},
		GidMappingsEnableSetgroups: true,
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
