package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// boxTimeout bounds every box invocation made through Box, BoxIn and MustBox.
const boxTimeout = 2 * time.Minute

// cleanPath is the PATH every box invocation gets.
const cleanPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Set up once by TestMain, read-only afterwards.
var (
	repoRoot       string // the directory holding go.mod
	sharedTestdata string // <repo>/../shared/testdata: the real images the suite uses
	tempDir        string // this run's scratch tree, world-traversable, removed at the end
	boxBin         string // the box binary every user runs
	registryAddr   string // 127.0.0.1:PORT of the local registry, the mirror of docker.io
	registriesConf string // the registries.conf every box invocation reads
	inCI           bool   // CI=true: a test that cannot run its real path fails, never skips

	// Rootless is the main identity: an unprivileged user with a subuid/subgid range (the
	// user "boxtest" when the suite runs as root, else the user running it).
	Rootless *User
	// NoRange is an unprivileged user without any subuid/subgid range ("boxnorange"); nil
	// unless the suite runs as root.
	NoRange *User
	// Root runs box rootful, with its store under tempDir; nil unless the suite runs as root.
	Root *User

	testRegistry *registry
	teardownOnce sync.Once
)

// User is an identity box runs as, with its own fresh store and runtime directory.
type User struct {
	Mode       string // "rootless", "norange" or "root": the subtest name in forEachUser
	Name       string
	UID, GID   uint32
	Groups     []uint32 // supplementary groups
	Home       string
	DataDir    string // XDG_DATA_HOME: box keeps its store in DataDir/box/storage
	RuntimeDir string // XDG_RUNTIME_DIR, mode 0700, owned by the user
	ConfigDir  string // XDG_CONFIG_HOME
	// StoreRoot and StoreRunRoot are passed as --root and --runroot, for Root only, so that
	// tests never touch /var/lib/box and /run/box.
	StoreRoot, StoreRunRoot string
}

// Result is what one box invocation did. Code is the exit code, or 128+N when box was
// killed by signal N (as a shell reports it).
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s\n--- stderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// RunOpts adjusts one box invocation made with BoxWith.
type RunOpts struct {
	Stdin   string        // fed to box's stdin; empty means /dev/null
	Env     []string      // "KEY=value" entries added to the user's environment, overriding it
	Timeout time.Duration // 0 means boxTimeout
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	start := time.Now()
	// An interrupted run still stops the registry and removes the scratch tree.
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-interrupted
		fmt.Fprintf(os.Stderr, "e2e: %v, cleaning up\n", sig)
		teardownOnce.Do(teardown)
		os.Exit(130)
	}()
	err := setup()
	defer teardownOnce.Do(teardown)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		return 1
	}
	var names []string
	for _, u := range []*User{Rootless, NoRange, Root} {
		if u != nil {
			names = append(names, u.Mode+"="+u.Name)
		}
	}
	fmt.Fprintf(os.Stderr, "e2e: ready in %.1fs: box %s, registry %s, users %s, scratch %s\n",
		time.Since(start).Seconds(), boxBin, registryAddr, strings.Join(names, " "), tempDir)
	return m.Run()
}

// setup finds the binary and the test images, creates the users, starts the registry and
// pushes the test images. On error, teardown still cleans up whatever was made.
func setup() error {
	inCI = os.Getenv("CI") != "" && os.Getenv("CI") != "false"
	var err error
	if repoRoot, err = findRepoRoot(); err != nil {
		return err
	}
	sharedTestdata = filepath.Clean(filepath.Join(repoRoot, "..", "shared", "testdata"))
	for _, p := range []string{
		"alpine-3.20.3/alpine-minirootfs-3.20.3-x86_64.tar.gz",
		"busybox-1.38.0-musl-amd64-oci/index.json",
		"busybox-1.38.0-glibc-amd64-oci/index.json",
	} {
		if _, err := os.Stat(filepath.Join(sharedTestdata, p)); err != nil {
			return fmt.Errorf("shared test images: %w (the suite needs ../shared/testdata beside the repository)", err)
		}
	}
	if err := makeTempDir(); err != nil {
		return err
	}
	if err := findBox(); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := setupRootUsers(); err != nil {
			return err
		}
		// pasta, rootless, opens /dev/net/tun: a desktop's udev makes it
		// 0666; machines without udev leave it 0600.
		if fi, err := os.Stat("/dev/net/tun"); err == nil && fi.Mode().Perm() != 0o666 {
			if err := os.Chmod("/dev/net/tun", 0o666); err != nil {
				return err
			}
		}
	} else if err := setupCurrentUser(); err != nil {
		return err
	}

	if testRegistry, err = startRegistry(filepath.Join(tempDir, "registry")); err != nil {
		return err
	}
	registryAddr = testRegistry.addr
	if err := writeRegistriesConf(); err != nil {
		return err
	}
	if NoRange != nil {
		// The single-id warning comes once per boot (TestSingleIDFallback
		// asks for it again); said here, it is not the first line of
		// whichever test happens to run first, alone or in the suite.
		if out, err := NoRange.BoxCmd("info").CombinedOutput(); err != nil {
			return fmt.Errorf("box info as %s: %v\n%s", NoRange.Name, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := pushTestImages(ctx, filepath.Join(tempDir, "images")); err != nil {
		return fmt.Errorf("%w\nregistry log: %s", err, tail(testRegistry.log))
	}
	return nil
}

// teardown stops the registry and removes the scratch tree. Files that box created in a
// user namespace belong to subordinate IDs, which only that namespace (or root) can remove,
// so each rootless user first empties its own directories through `box unshare`.
func teardown() {
	testRegistry.stop()
	if tempDir == "" {
		return
	}
	if os.Getenv("BOX_E2E_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "e2e: BOX_E2E_KEEP set, scratch tree kept in %s\n", tempDir)
		return
	}
	for _, u := range []*User{Rootless, NoRange} {
		if u == nil || u.UID == 0 || boxBin == "" {
			continue
		}
		cmd := u.BoxCmd("unshare", "rm", "-rf", u.DataDir, u.RuntimeDir, u.ConfigDir)
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err == nil {
			timer := time.AfterFunc(30*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			cmd.Wait()
			timer.Stop()
		}
	}
	if os.Geteuid() == 0 {
		unmountUnder(tempDir)
	}
	if err := os.RemoveAll(tempDir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cleanup left files behind: %v\n", err)
	}
}

// findRepoRoot walks up from the working directory (the package directory under go test)
// to the directory holding go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run the tests inside the box repository")
		}
		dir = parent
	}
}

// makeTempDir creates tempDir. Other users must reach their directories inside it, so it
// is 0755 and its parents must be searchable by everyone.
func makeTempDir() error {
	base := os.TempDir()
	if os.Geteuid() == 0 && !searchableByAll(base) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "box-e2e-")
	if err != nil {
		return err
	}
	tempDir = dir
	return os.Chmod(tempDir, 0o755)
}

// findBox sets boxBin: BOX_BIN, else <repo>/bin/box, built with scripts/build when missing
// (outside CI only: CI must test the binary scripts/test built). When the binary sits where
// the test users cannot reach it (a repository under /root), they run a copy in tempDir.
func findBox() error {
	bin := os.Getenv("BOX_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot, "bin", "box")
		if _, err := os.Stat(bin); errors.Is(err, os.ErrNotExist) {
			if inCI {
				return fmt.Errorf("box binary %s missing: in CI, scripts/test builds it first and sets BOX_BIN", bin)
			}
			fmt.Fprintf(os.Stderr, "e2e: %s missing, running scripts/build\n", bin)
			build := exec.Command(filepath.Join(repoRoot, "scripts", "build"))
			build.Stdout, build.Stderr = os.Stderr, os.Stderr
			if err := build.Run(); err != nil {
				return fmt.Errorf("scripts/build: %w", err)
			}
		}
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("box binary: %w (set BOX_BIN or run scripts/build)", err)
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o100 == 0 {
		return fmt.Errorf("box binary %s is not an executable file", bin)
	}
	boxBin = bin
	if os.Geteuid() != 0 || searchableByAll(filepath.Dir(bin)) && info.Mode().Perm()&0o005 == 0o005 {
		return nil
	}
	dir := filepath.Join(tempDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	boxBin = filepath.Join(dir, "box")
	return copyFile(bin, boxBin, 0o755)
}

// searchableByAll reports whether every directory from / down to dir lets others search it.
func searchableByAll(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// setupRootUsers makes the three identities of a run as root: boxtest (created with a
// subuid/subgid range if absent), boxnorange (created if absent, any range removed) and root.
func setupRootUsers() error {
	var err error
	if Rootless, err = ensureUser("rootless", "boxtest", true); err != nil {
		return err
	}
	if NoRange, err = ensureUser("norange", "boxnorange", false); err != nil {
		return err
	}
	rootUser, err := user.LookupId("0")
	if err != nil {
		return err
	}
	if Root, err = newUser("root", rootUser); err != nil {
		return err
	}
	Root.StoreRoot = filepath.Join(tempDir, "root-store")
	Root.StoreRunRoot = filepath.Join(tempDir, "root-run")
	if err := Root.makeDirs(); err != nil {
		return err
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			return fmt.Errorf("%s not found: install Debian's uidmap package", tool)
		}
		if info, err := os.Stat(path); err != nil || info.Mode()&(os.ModeSetuid) == 0 && !hasFileCaps(path) {
			return fmt.Errorf("%s is neither setuid nor has file capabilities: reinstall Debian's uidmap package", path)
		}
	}
	return nil
}

// hasFileCaps reports whether path carries file capabilities (how some distributions ship
// newuidmap instead of setuid).
func hasFileCaps(path string) bool {
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(path, "security.capability", buf)
	return err == nil && n > 0
}

// setupCurrentUser makes the one identity of a run as an unprivileged user: that user.
func setupCurrentUser() error {
	cur, err := user.Current()
	if err != nil {
		return err
	}
	u, err := newUser("rootless", cur)
	if err != nil {
		return err
	}
	Rootless = u
	if !hasSubIDs("/etc/subuid", cur) || !hasSubIDs("/etc/subgid", cur) {
		fmt.Fprintf(os.Stderr, "e2e: warning: %s has no range in /etc/subuid or /etc/subgid; rootless tests will run without one\n", cur.Username)
	}
	return u.makeDirs()
}

// ensureUser returns the user name, creating it (with a home directory) when absent, and
// gives it a subuid/subgid range when withRange, or removes its ranges when not.
func ensureUser(mode, name string, withRange bool) (*User, error) {
	u, err := user.Lookup(name)
	if errors.As(err, new(user.UnknownUserError)) {
		useradd, lookErr := exec.LookPath("useradd")
		if lookErr != nil {
			useradd = "/usr/sbin/useradd"
		}
		out, addErr := exec.Command(useradd, "-m", "-s", "/bin/bash", name).CombinedOutput()
		if addErr != nil {
			return nil, fmt.Errorf("useradd %s: %w: %s", name, addErr, out)
		}
		u, err = user.Lookup(name)
	}
	if err != nil {
		return nil, fmt.Errorf("test user %s: %w", name, err)
	}
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		if err := ensureSubIDs(file, u, withRange); err != nil {
			return nil, err
		}
	}
	tu, err := newUser(mode, u)
	if err != nil {
		return nil, err
	}
	return tu, tu.makeDirs()
}

func newUser(mode string, u *user.User) (*User, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	tu := &User{Mode: mode, Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", u.Username, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, err
		}
		tu.Groups = append(tu.Groups, uint32(n))
	}
	return tu, nil
}

// makeDirs creates the user's XDG directories (and for Root its store) under tempDir,
// owned by the user.
func (u *User) makeDirs() error {
	u.DataDir = filepath.Join(tempDir, "data-"+u.Name)
	u.RuntimeDir = filepath.Join(tempDir, "run-"+u.Name)
	u.ConfigDir = filepath.Join(tempDir, "config-"+u.Name)
	for _, dir := range []string{u.DataDir, u.RuntimeDir, u.ConfigDir, u.StoreRoot, u.StoreRunRoot} {
		if dir == "" {
			continue
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chown(dir, int(u.UID), int(u.GID)); err != nil {
			return err
		}
	}
	return nil
}

// subIDEntry is one line of /etc/subuid or /etc/subgid: "user:start:count", where user is a
// name or a numeric UID.
type subIDEntry struct {
	owner        string
	start, count uint64
}

func readSubIDs(file string) ([]string, []subIDEntry, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var lines []string
	var entries []subIDEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		f := strings.Split(line, ":")
		if len(f) != 3 {
			entries = append(entries, subIDEntry{})
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 64)
		count, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			entries = append(entries, subIDEntry{})
			continue
		}
		entries = append(entries, subIDEntry{owner: f[0], start: start, count: count})
	}
	return lines, entries, sc.Err()
}

func hasSubIDs(file string, u *user.User) bool {
	_, entries, err := readSubIDs(file)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.count > 0 && (e.owner == u.Username || e.owner == u.Uid) {
			return true
		}
	}
	return false
}

// ensureSubIDs gives u a range of 65536 IDs in file (after every range already there) when
// want and it has none, or removes all of u's ranges when !want.
func ensureSubIDs(file string, u *user.User, want bool) error {
	lines, entries, err := readSubIDs(file)
	if err != nil {
		return err
	}
	mine := func(e subIDEntry) bool { return e.owner != "" && (e.owner == u.Username || e.owner == u.Uid) }
	if want {
		next := uint64(200000)
		for _, e := range entries {
			if mine(e) && e.count > 0 {
				return nil
			}
			if end := e.start + e.count; end > next {
				next = end
			}
		}
		lines = append(lines, fmt.Sprintf("%s:%d:65536", u.Username, next))
	} else {
		var kept []string
		for i, line := range lines {
			if !mine(entries[i]) {
				kept = append(kept, line)
			}
		}
		if len(kept) == len(lines) {
			return nil
		}
		lines = kept
	}
	out := strings.Join(lines, "\n")
	if out != "" {
		out += "\n"
	}
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		return fmt.Errorf("update %s for %s: %w", file, u.Username, err)
	}
	return nil
}

// writeRegistriesConf writes the registries.conf every box invocation gets: short names
// resolve to docker.io, and docker.io is mirrored by the local registry.
func writeRegistriesConf() error {
	dir := filepath.Join(tempDir, "etc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	registriesConf = filepath.Join(dir, "registries.conf")
	conf := fmt.Sprintf(`unqualified-search-registries = ["docker.io"]
short-name-mode = "disabled"

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = %[1]q
insecure = true

[[registry]]
location = %[1]q
insecure = true
`, registryAddr)
	return os.WriteFile(registriesConf, []byte(conf), 0o644)
}

// unmountUnder detaches every mount below dir (rootful box mounts in the host's namespace;
// a test that failed midway may leave one behind), deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := unescapeMountPath(f[4])
		if strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Env is the whole environment box gets when run as u: nothing leaks in from the test
// process.
func (u *User) Env() []string {
	return []string{
		"HOME=" + u.Home,
		"USER=" + u.Name,
		"LOGNAME=" + u.Name,
		cleanPath,
		"XDG_DATA_HOME=" + u.DataDir,
		"XDG_RUNTIME_DIR=" + u.RuntimeDir,
		"XDG_CONFIG_HOME=" + u.ConfigDir,
		"CONTAINERS_REGISTRIES_CONF=" + registriesConf,
	}
}

// Cmd returns a command that runs name as u, with u's environment, in u's home directory,
// in a process group of its own. Nothing is started.
func (u *User) Cmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = u.Env()
	cmd.Dir = u.Home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if int(u.UID) != os.Getuid() {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}
	}
	return cmd
}

// BoxCmd returns a command that runs box as u with args (after --root/--runroot for Root),
// for tests that handle the process themselves: signals, ptys, detached runs. The caller
// starts, waits for and if need be kills it; no timeout applies. Like Cmd, it sets
// SysProcAttr.Setpgid (and Credential for another user): a test that gives box a
// controlling terminal (Setsid, Setctty) must clear Setpgid, or the exec fails with EPERM.
func (u *User) BoxCmd(args ...string) *exec.Cmd {
	var all []string
	if u.StoreRoot != "" {
		all = append(all, "--root", u.StoreRoot, "--runroot", u.StoreRunRoot)
	}
	return u.Cmd(boxBin, append(all, args...)...)
}

// Box runs box as u with args and no stdin, and returns what it did. It fails the test if
// box cannot be started or runs longer than boxTimeout.
func (u *User) Box(t *testing.T, args ...string) Result {
	t.Helper()
	return u.BoxWith(t, RunOpts{}, args...)
}

// BoxIn is Box with stdin fed to box.
func (u *User) BoxIn(t *testing.T, stdin string, args ...string) Result {
	t.Helper()
	return u.BoxWith(t, RunOpts{Stdin: stdin}, args...)
}

// MustBox is Box that also fails the test, showing both streams, unless box exits 0.
func (u *User) MustBox(t *testing.T, args ...string) Result {
	t.Helper()
	r := u.BoxWith(t, RunOpts{}, args...)
	if r.Code != 0 {
		t.Fatalf("%s: box %s: %s", u.Name, quoteArgs(args), r)
	}
	return r
}

// BoxWith runs box as u with args and opts. A box that outlives its timeout is killed
// with its whole process group and fails the test. A box that exits while a process it
// started still holds its stdout or stderr fails the test too (`id=$(box run -d ...)` would
// hang in a shell); the result is still returned.
func (u *User) BoxWith(t *testing.T, opts RunOpts, args ...string) Result {
	t.Helper()
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = boxTimeout
	}
	cmd := u.BoxCmd(args...)
	cmd.Env = append(cmd.Env, opts.Env...)
	if opts.Stdin != "" {
		cmd.Stdin = strings.NewReader(opts.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start box %s: %v", u.Name, quoteArgs(args), err)
	}
	var timedOut atomic.Bool
	var evidence string
	timer := time.AfterFunc(timeout, func() {
		evidence = hangEvidence(u, cmd.Process.Pid)
		timedOut.Store(true)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	err := cmd.Wait()
	timer.Stop()
	elapsed := time.Since(start)

	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.Code = 128 + int(ws.Signal())
	} else {
		r.Code = cmd.ProcessState.ExitCode()
	}
	t.Logf("%s$ box %s => exit %d (%.2fs)", u.Mode, quoteArgs(args), r.Code, elapsed.Seconds())
	if r.Code != 0 && r.Stderr != "" {
		t.Logf("  stderr: %s", truncate(strings.TrimSpace(r.Stderr), 2000))
	}
	switch {
	case timedOut.Load():
		t.Fatalf("%s: box %s did not finish within %s and was killed: %s\n%s\nits stderr in full (goroutines at SIGABRT):\n%s",
			u.Name, quoteArgs(args), timeout, r, evidence, r.Stderr)
	case errors.Is(err, exec.ErrWaitDelay):
		t.Errorf("%s: box %s exited but a process it started kept its stdout/stderr open for %s", u.Name, quoteArgs(args), cmd.WaitDelay)
	case err != nil && !errors.As(err, new(*exec.ExitError)):
		t.Fatalf("%s: box %s: %v", u.Name, quoteArgs(args), err)
	}
	return r
}

// hangEvidence is what a box (pid) that outlived its timeout leaves to
// go on, gathered before it is killed: every process working for u's
// store (user namespace, state, kernel stack, open files); then the
// goroutines of the hung box and of the network holder, which Go prints
// on SIGABRT (the box's to its stderr, the holder's to its log).
func hangEvidence(u *User, pid int) string {
	var b strings.Builder
	procs := storeProcesses(u)
	if !slices.Contains(procs, pid) {
		procs = append([]int{pid}, procs...)
	}
	fmt.Fprintf(&b, "processes of the store when box %d was found hung:\n", pid)
	for _, d := range describeProcesses(procs, true) {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	abort := func(p int) {
		if syscall.Kill(p, syscall.SIGABRT) != nil {
			return
		}
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/cmdline", p)); err != nil {
				return
			}
			if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); strings.Contains(string(st), ") Z ") {
				return
			}
		}
	}
	abort(pid)
	if tree := holderTree(u); len(tree) > 0 {
		abort(tree[0])
		runRoot := u.StoreRunRoot
		if runRoot == "" {
			runRoot = u.RuntimeDir
		}
		log, _ := os.ReadFile(filepath.Join(runRoot, "netholder.log"))
		fmt.Fprintf(&b, "the network holder %d's log after SIGABRT:\n%s\n", tree[0], log)
	}
	return b.String()
}

// describeProcesses tells each of pids' kind: its command line, parent,
// state and where it sleeps, its user namespace and what it holds open;
// with stacks, also its kernel stack (readable as root).
func describeProcesses(pids []int, stacks bool) []string {
	var desc []string
	for _, p := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		var st []string
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "State:") || strings.HasPrefix(l, "PPid:") || strings.HasPrefix(l, "Threads:") {
				st = append(st, strings.Join(strings.Fields(l), " "))
			}
		}
		wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", p))
		userNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", p))
		var fds []string
		entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		for _, e := range entries {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p, e.Name()))
			fds = append(fds, e.Name()+"->"+l)
		}
		d := fmt.Sprintf("%d %q [%s, wchan %s, %s, fds %s]", p, strings.ReplaceAll(string(cmd), "\x00", " "), strings.Join(st, ", "), wchan, userNS, strings.Join(fds, " "))
		if stacks {
			// Every thread's: a Go program's blocked call is on one of them.
			tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
			for _, task := range tasks {
				stack, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stack", p, task.Name()))
				if s := strings.TrimSpace(string(stack)); s != "" {
					d += fmt.Sprintf("\n    thread %s: %s", task.Name(), strings.ReplaceAll(s, "\n", " | "))
				}
			}
		}
		desc = append(desc, d)
	}
	return desc
}

// forEachUser runs f as a subtest (named after the mode) for every identity: Rootless,
// NoRange and Root. A mode that this run cannot cover (not root) fails in CI and skips
// elsewhere.
func forEachUser(t *testing.T, f func(t *testing.T, u *User)) {
	t.Helper()
	for _, m := range []struct {
		mode string
		user *User
	}{{"rootless", Rootless}, {"norange", NoRange}, {"root", Root}} {
		t.Run(m.mode, func(t *testing.T) {
			f(t, requireUser(t, m.user, m.mode))
		})
	}
}

// requireRoot returns Root, or fails (in CI) or skips the test when not running as root.
func requireRoot(t *testing.T) *User {
	t.Helper()
	return requireUser(t, Root, "root")
}

// requireNoRange returns NoRange, or fails (in CI) or skips the test when not running as root.
func requireNoRange(t *testing.T) *User {
	t.Helper()
	return requireUser(t, NoRange, "norange")
}

func requireUser(t *testing.T, u *User, mode string) *User {
	t.Helper()
	if u != nil {
		return u
	}
	msg := fmt.Sprintf("the %s mode needs the suite to run as root (it creates the test users then)", mode)
	if inCI {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

// regRef names an image in the local registry directly, bypassing the docker.io mirror:
// regRef("library/alpine:latest") = "127.0.0.1:PORT/library/alpine:latest".
func regRef(repoTag string) string {
	return registryAddr + "/" + repoTag
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`|&;<>()*?[]{}~#!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
