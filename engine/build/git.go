package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"box/rootless"
)

// Git sources (a build context or an ADD source) are fetched with the git
// command, as Docker does: it honours the user's credential helpers, SSH
// setup and proxies, and keeps a Git library out of the binary and out of
// every other verb's start-up.

// gitSource is a Git URL taken apart: "remote#ref:subdir".
type gitSource struct {
	remote string
	ref    string // "" for the remote's default branch (HEAD)
	subdir string
}

// parseGitURL splits a Git URL as Docker does (a "github.com/…" path is
// https). An empty ref is the remote's HEAD, as BuildKit takes it (the
// classic builder assumed "master").
func parseGitURL(s string) (gitSource, error) {
	if strings.HasPrefix(s, "github.com/") {
		s = "https://" + s
	}
	var src gitSource
	var fragment string
	if strings.HasPrefix(s, "git@") {
		// scp-like, no URL to parse.
		src.remote, fragment, _ = strings.Cut(s, "#")
	} else {
		u, err := url.Parse(s)
		if err != nil {
			return src, err
		}
		fragment, u.Fragment, u.RawFragment = u.Fragment, "", ""
		src.remote = u.String()
	}
	src.ref, src.subdir, _ = strings.Cut(fragment, ":")
	if strings.HasPrefix(src.ref, "-") {
		return src, fmt.Errorf("invalid ref %q", src.ref)
	}
	return src, nil
}

// commitish says whether ref may be an abbreviated or full commit id:
// 7 to 64 lowercase hex digits.
func commitish(ref string) bool {
	if len(ref) < 7 || len(ref) > 64 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// clonedRepo is a checked-out repository: dir is the context (the
// subdirectory when one was asked for), remove the clone to remove.
type clonedRepo struct {
	dir    string
	remove string
}

// cloneGit fetches the ref of a Git URL (shallow where the server allows
// it), checks it out with its submodules into a new directory under tmp
// and drops .git unless keepGitDir.
func cloneGit(ctx context.Context, tmp, raw string, keepGitDir bool) (*clonedRepo, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("building from a Git repository needs the git command, which is not installed")
	}
	src, err := parseGitURL(raw)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(tmp, "build-git-")
	if err != nil {
		return nil, err
	}
	repo, err := checkout(ctx, root, src, keepGitDir)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return repo, nil
}

func checkout(ctx context.Context, root string, src gitSource, keepGitDir bool) (*clonedRepo, error) {
	g := &gitCmd{dir: root, env: gitEnv(), timeout: contextTimeout()}
	if err := g.run(ctx, false, "init", "-q"); err != nil {
		return nil, err
	}
	if err := g.run(ctx, false, "remote", "add", "origin", rootlessRemote(src.remote)); err != nil {
		return nil, err
	}
	ref := src.ref
	if ref == "" {
		ref = "HEAD"
	}
	target := "FETCH_HEAD"
	err := g.run(ctx, true, "fetch", "--progress", "--depth", "1", "origin", "--", ref)
	if err != nil && strings.Contains(err.Error(), "shallow") {
		// A "dumb" HTTP server cannot give a shallow history.
		err = g.run(ctx, true, "fetch", "--progress", "origin", "--", ref)
	}
	if err != nil && commitish(ref) {
		// A commit the server will not hand out by its id (or an
		// abbreviated one): fetch everything and look for it.
		if g.run(ctx, true, "fetch", "--progress", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*") == nil &&
			g.run(ctx, false, "rev-parse", "--verify", "--quiet", ref+"^{commit}") == nil {
			err, target = nil, ref
		} else {
			err = fmt.Errorf("no branch, tag or commit %s in the repository", ref)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := g.run(ctx, false, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", target); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, ".gitmodules")); err == nil {
		err := g.run(ctx, true, "submodule", "update", "--progress", "--init", "--recursive", "--depth", "1")
		if err != nil {
			err = g.run(ctx, true, "submodule", "update", "--progress", "--init", "--recursive")
		}
		if err != nil {
			return nil, fmt.Errorf("submodules: %w", err)
		}
	}
	if !keepGitDir {
		// No tracked path is ever named .git: every one is the
		// repository's or a submodule's.
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Name() == ".git" {
				if err := os.RemoveAll(p); err != nil {
					return err
				}
				if d.IsDir() {
					return filepath.SkipDir
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	dir := root
	if src.subdir != "" {
		p, err := securejoin.SecureJoin(root, src.subdir)
		if err != nil {
			return nil, err
		}
		if info, err := os.Stat(p); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("no directory %s in the repository", src.subdir)
		}
		dir = p
	}
	return &clonedRepo{dir: dir, remove: root}, nil
}

// gitCmd runs git in a directory with an environment.
type gitCmd struct {
	dir     string
	env     []string
	timeout time.Duration
}

// run runs git with args. A network command is stopped once it has
// printed nothing for the timeout (its --progress keeps talking while
// data flows). The error is git's own last word on what went wrong.
func (g *gitCmd) run(ctx context.Context, network bool, args ...string) error {
	sub := args[0]
	// As Docker: a repository may not pull submodules from this machine.
	args = append([]string{"-c", "protocol.file.allow=never"}, args...)
	var idle *idleTimer
	if network {
		var stop func()
		ctx, idle, stop = newIdleTimer(ctx, g.timeout)
		defer stop()
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Env = g.dir, g.env
	out := &gitOutput{idle: idle}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	msg := out.reason()
	// curl's low-speed limit (gitEnv) and the idle timer measure the same
	// silence: whichever stops git first, the user reads the same words.
	if errors.Is(context.Cause(ctx), errIdle) || strings.Contains(msg, "Operation too slow") {
		return fmt.Errorf("timed out: nothing received for %s", g.timeout)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if msg != "" {
		return errors.New(msg)
	}
	return fmt.Errorf("git %s: %w", sub, err)
}

// gitOutput keeps git's output and kicks the idle timer as it comes.
type gitOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	idle *idleTimer
}

func (o *gitOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.idle != nil {
		o.idle.kick()
	}
	if o.buf.Len() < 1<<20 {
		o.buf.Write(p)
	}
	return len(p), nil
}

// reason is the last "fatal:" or "error:" line git printed, or else its
// last line. When that line only says that the remote could not be read,
// the line before it, what ssh said, is the reason.
func (o *gitOutput) reason() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := strings.FieldsFunc(o.buf.String(), func(r rune) bool { return r == '\n' || r == '\r' })
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		for _, prefix := range []string{"fatal: ", "error: "} {
			if !strings.HasPrefix(l, prefix) {
				continue
			}
			l = strings.TrimPrefix(l, prefix)
			if strings.HasPrefix(l, "Could not read from remote repository") && i > 0 {
				if before := strings.TrimSpace(lines[i-1]); before != "" {
					return before
				}
			}
			return l
		}
		if last == "" {
			last = l
		}
	}
	return last
}

// gitEnv is the user's environment for git, less what would point it at
// another repository, with Docker's ban on protocols a user must allow
// (file://, ext::), a low-speed limit for http(s) that matches box's
// timeout, and, inside box's user namespace, an ssh that still finds the
// user's keys and known hosts.
func gitEnv() []string {
	var env []string
	set := map[string]bool{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES":
			continue
		}
		set[k] = true
		env = append(env, kv)
	}
	env = append(env, "GIT_PROTOCOL_FROM_USER=0")
	if !set["GIT_HTTP_LOW_SPEED_LIMIT"] && !set["GIT_HTTP_LOW_SPEED_TIME"] {
		secs := int(contextTimeout().Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		env = append(env, "GIT_HTTP_LOW_SPEED_LIMIT=1", "GIT_HTTP_LOW_SPEED_TIME="+strconv.Itoa(secs))
	}
	if rootless.InNamespace() && !set["GIT_SSH_COMMAND"] && !set["GIT_SSH"] {
		if home := os.Getenv("HOME"); home != "" {
			env = append(env, "GIT_SSH_COMMAND="+sshCommand(home))
		}
	}
	return env
}

// sshCommand is ssh told where the user's files are. Inside box's user
// namespace the user is uid 0, and OpenSSH finds ~/.ssh through the
// password entry of its uid (root's), not through $HOME: without this,
// it would look for keys, known hosts and its config in /root/.ssh.
func sshCommand(home string) string {
	dir := filepath.Join(home, ".ssh")
	args := []string{"ssh"}
	if _, err := os.Stat(filepath.Join(dir, "config")); err == nil {
		args = append(args, "-F", shellQuote(filepath.Join(dir, "config")))
	}
	args = append(args, "-o", shellQuote("UserKnownHostsFile="+filepath.Join(dir, "known_hosts")+" "+filepath.Join(dir, "known_hosts2")))
	for _, key := range []string{"id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_dsa"} {
		if _, err := os.Stat(filepath.Join(dir, key)); err == nil {
			args = append(args, "-o", shellQuote("IdentityFile="+filepath.Join(dir, key)))
		}
	}
	return strings.Join(args, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// rootlessRemote gives an ssh:// URL with no user the invoking user's
// name inside box's user namespace, where ssh would otherwise log in as
// root (the name of uid 0 there).
func rootlessRemote(remote string) string {
	if !strings.HasPrefix(remote, "ssh://") || !rootless.InNamespace() {
		return remote
	}
	u, err := url.Parse(remote)
	if err != nil || u.User != nil {
		return remote
	}
	id, err := rootless.Current()
	if err != nil || id.Username == "" {
		return remote
	}
	u.User = url.User(id.Username)
	return u.String()
}

// addGit runs ADD of a Git repository, as BuildKit does: the checkout of
// the ref (or of its subdirectory) goes into the destination directory,
// without .git unless --keep-git-dir=true.
func (b *builder) addGit(st *state, cmd instructions.Command, c *instructions.AddCommand) error {
	if c.Checksum != "" {
		return &UnsupportedError{What: "ADD --checksum of a Git repository"}
	}
	keep := c.KeepGitDir != nil && *c.KeepGitDir
	repo, err := cloneGit(b.ctx, b.tmp, c.SourcePaths[0], keep)
	if err != nil {
		return fmt.Errorf("ADD %s: %w", c.SourcePaths[0], err)
	}
	defer os.RemoveAll(repo.remove)
	return b.copyFrom(st, cmd, &tree{root: repo.dir, name: "Git repository"}, []string{"."}, c.SourcePaths, nil, c.DestPath, c.Chown, c.Chmod, false)
}
