// Package build turns a Dockerfile and its context into an image, step by
// step: RUN steps are containers that a StepRunner makes and runs (the
// engine's Build hands itself in; this package never imports it), COPY and ADD steps are layers written straight from the context,
// and each step that changes files becomes an image in the store that
// later builds reuse as their cache. It reports progress only to the
// Progress and the writer it is given, never to the terminal itself, and
// never tags an image unless the whole build succeeded.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"

	"box/engine/flags"
	"box/engine/spec"
	"box/storage"
)

// Options describe one build.
type Options struct {
	// ContextDir is the build context. ContextTar, when set instead, is
	// stdin (box build -): a tar stream of the context, unpacked once for
	// the build, or a Dockerfile and no context. ContextURL, when set
	// instead, is a Git repository (IsGitURL) or the URL of such a tar
	// archive or Dockerfile (IsURL). With either, a relative Dockerfile is
	// a path in the context.
	ContextDir string
	ContextTar io.Reader
	ContextURL string
	// Dockerfile is its path; "" looks for Dockerfile, then Containerfile,
	// in the context. Content, when not nil, is the Dockerfile itself
	// (-f -), and Dockerfile only names it in messages.
	Dockerfile string
	Content    []byte
	// Tags name the image once the build succeeded.
	Tags      []reference.Named
	BuildArgs map[string]string
	// Labels are added to the image's config.
	Labels map[string]string
	// Target is the last stage built; "" is the last one in the file.
	Target  string
	NoCache bool
	// Pull pulls every base image, even one in the store.
	Pull bool
	// DockerFormat makes the image's manifest Docker's schema 2 (--format
	// docker); the default is OCI.
	DockerFormat bool
	// Network is RUN's network (the zero value is box's default);
	// AddHosts are --add-host's entries for RUN's /etc/hosts.
	Network  flags.Network
	AddHosts []flags.Host
	// Progress is told the build's steps as they happen; Output gets the
	// RUN commands' output: an *os.File straight from the command, any
	// other writer through a pipe drained before the step ends. Either
	// may be nil to discard it.
	Progress Progress
	Output   io.Writer
}

// Report is what a successful build made.
type Report struct {
	ID string
}

// SyntaxError is a Dockerfile that cannot be parsed or has an instruction
// box does not know, with where it is.
type SyntaxError struct {
	File string
	Line int
	Err  error
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("dockerfile parse error on %s line %d: %v", e.File, e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// StepError is a RUN whose command exited non-zero.
type StepError struct {
	Step    int
	Command string
	Code    int
}

func (e *StepError) Error() string {
	return fmt.Sprintf("The command '%s' returned a non-zero code: %d", e.Command, e.Code)
}

// UnsupportedError is an instruction or flag that box does not build yet.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s is not supported by box build yet", e.What)
}

// state is a stage as its steps leave it.
type state struct {
	name  string
	image string // id of the last image with the stage's files; "" for none
	imageConfig
	history []v1.History
	key     string
	// imageKey is the key image was made or found under: while key is
	// still that, no step changed the config since, and image is the
	// stage's result as it stands.
	imageKey string
	args     map[string]*string // the stage's declared ARGs; nil value: no value
}

type builder struct {
	e        host
	ctx      context.Context
	opts     Options
	context  *tree
	lex      *shell.Lex
	metaArgs map[string]*string
	step     int
	total    int
	mounted  map[string]string
	out      Progress
	usedArgs map[string]bool
	// tmp is the build's working directory in the store (Store.WorkDir).
	tmp string
}

// useRemoteContext fetches a context given as a stream or URL into the
// build's working directory work (which the build removes whole), and
// points opts at it: its directory, and its Dockerfile or content.
func useRemoteContext(ctx context.Context, work string, opts *Options) error {
	if opts.ContextTar == nil && opts.ContextURL == "" {
		return nil
	}
	p, err := prepareContext(ctx, work, *opts)
	if err != nil {
		return err
	}
	opts.ContextDir = p.dir
	if p.content != nil {
		opts.Content = p.content
	} else if opts.Dockerfile != "" && opts.Dockerfile != "-" {
		opts.Dockerfile = filepath.Join(p.dir, filepath.Clean("/"+opts.Dockerfile))
	}
	return nil
}

// setMetaArgs takes the ARGs before the first FROM, over BuildKit's
// predefined platform ARGs (the build and the target are both the host),
// with --build-arg values over their defaults.
func (b *builder) setMetaArgs(metaArgs []instructions.ArgCommand) error {
	b.metaArgs = map[string]*string{}
	for k, v := range platformArgs() {
		b.metaArgs[k] = &v
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v := kv.Value
			if v != nil {
				x, err := b.expand(*v, b.metaEnv())
				if err != nil {
					return err
				}
				v = &x
			}
			if bv, ok := b.opts.BuildArgs[kv.Key]; ok {
				v = &bv
				b.usedArgs[kv.Key] = true
			}
			b.metaArgs[kv.Key] = v
		}
	}
	return nil
}

// Build runs the Dockerfile's steps and returns the image it made in
// store; steps runs its RUN steps. A failing RUN comes back as a
// *StepError, a bad Dockerfile as a *SyntaxError; intermediate
// containers are gone either way.
func Build(ctx context.Context, store *storage.Store, steps StepRunner, opts Options) (*Report, error) {
	e := host{Store: store, StepRunner: steps}
	b := &builder{e: e, ctx: ctx, opts: opts, mounted: map[string]string{}, out: opts.Progress, usedArgs: map[string]bool{}}
	if b.out == nil {
		b.out = Plain(io.Discard)
	}
	if opts.Output == nil {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer devnull.Close()
		b.opts.Output = devnull
	}
	defer b.unmountAll()
	// The build's temporaries (context, downloads, clones, heredocs) live
	// in one directory that a killed build leaves to the next box.
	work, release, err := store.WorkDir()
	if err != nil {
		return nil, err
	}
	defer release()
	b.tmp = work
	if err := useRemoteContext(ctx, work, &opts); err != nil {
		return nil, err
	}
	b.opts.ContextDir, b.opts.Dockerfile, b.opts.Content = opts.ContextDir, opts.Dockerfile, opts.Content
	name, content, err := readDockerfile(opts)
	if err != nil {
		return nil, err
	}
	if b.context, err = openContext(opts.ContextDir, name); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(content)) == 0 {
		return nil, &SyntaxError{File: filepath.Base(name), Err: fmt.Errorf("the Dockerfile (%s) cannot be empty", filepath.Base(name))}
	}
	res, err := parser.Parse(bytes.NewReader(content))
	if err != nil {
		return nil, syntaxError(name, err)
	}
	b.lex = shell.NewLex(res.EscapeToken)
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, syntaxError(name, err)
	}
	if len(stages) == 0 {
		return nil, &SyntaxError{File: filepath.Base(name), Err: errors.New("no FROM instruction")}
	}
	last := len(stages) - 1
	if opts.Target != "" {
		last = -1
		for i, s := range stages {
			if strings.EqualFold(s.Name, opts.Target) {
				last = i
			}
		}
		if last < 0 {
			return nil, fmt.Errorf("target stage %q could not be found", opts.Target)
		}
	}
	stages = stages[:last+1]
	for _, s := range stages {
		b.total += 1 + len(s.Commands)
	}

	if err := b.setMetaArgs(metaArgs); err != nil {
		return nil, err
	}

	var done []*state
	var st *state
	for i := range stages {
		if st, err = b.stage(&stages[i], done); err != nil {
			return nil, err
		}
		done = append(done, st)
	}

	// The result: the last stage's files with its whole config.
	cfg := st.config
	labelKeys := make([]string, 0, len(opts.Labels))
	for k := range opts.Labels {
		labelKeys = append(labelKeys, k)
	}
	sort.Strings(labelKeys)
	key := st.key
	for _, k := range labelKeys {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = opts.Labels[k]
		key = chain(key, "label", k, opts.Labels[k])
	}
	key = chain(key, "result", strconv.FormatBool(opts.DockerFormat))
	id, ok := "", false
	if st.image != "" && st.key == st.imageKey && len(labelKeys) == 0 && !opts.DockerFormat {
		// Nothing changed the last step's image (or the base image) since
		// it was made: it is the result, as Docker's is. Step images are
		// stored in OCI form, so --format docker still gets its own.
		if err := e.Store.MarkBuildResult(st.image); err != nil {
			return nil, fmt.Errorf("store the image: %w", err)
		}
		id, ok = st.image, true
	}
	if !ok && !opts.NoCache {
		id, ok = e.Store.BuildCache(key)
	}
	if !ok {
		if id, err = e.Store.PutStepImage(st.image, nil, storage.StepImage{
			Config: cfg, Shell: st.shell, Healthcheck: st.health, Author: st.author, OnBuild: st.onbuild,
			History: st.history, CacheKey: key, Created: time.Now().UTC(), DockerFormat: opts.DockerFormat,
		}); err != nil {
			return nil, fmt.Errorf("store the image: %w", err)
		}
	}
	var unused []string
	for k := range opts.BuildArgs {
		if !b.usedArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		b.out.Warning(fmt.Sprintf("One or more build-args %v were not consumed", unused))
	}
	b.out.Built(id)
	e.Store.ImageEvent("build", id, "")
	for _, t := range opts.Tags {
		if err := e.Store.Tag(id, t.String()); err != nil {
			return nil, fmt.Errorf("tag %s: %w", storage.FamiliarString(t), err)
		}
		b.out.Tagged(storage.FamiliarString(t))
	}
	return &Report{ID: id}, nil
}

// proxyArgs are the ARGs Docker predefines for proxies.
var proxyArgs = []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}

// platformArgs are the ARGs BuildKit predefines for the platforms.
func platformArgs() map[string]string {
	p := "linux/" + runtime.GOARCH
	args := map[string]string{}
	for _, side := range []string{"BUILD", "TARGET"} {
		args[side+"PLATFORM"] = p
		args[side+"OS"] = "linux"
		args[side+"ARCH"] = runtime.GOARCH
		args[side+"VARIANT"] = ""
	}
	return args
}

// readDockerfile finds and reads the Dockerfile.
func readDockerfile(opts Options) (string, []byte, error) {
	if opts.Content != nil {
		name := opts.Dockerfile
		if name == "" || name == "-" {
			name = "Dockerfile"
		}
		return name, opts.Content, nil
	}
	candidates := []string{opts.Dockerfile}
	if opts.Dockerfile == "" {
		candidates = []string{filepath.Join(opts.ContextDir, "Dockerfile"), filepath.Join(opts.ContextDir, "Containerfile")}
	}
	var firstErr error
	for _, p := range candidates {
		data, err := os.ReadFile(p)
		if err == nil {
			return p, data, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", nil, fmt.Errorf("cannot read the Dockerfile: %w", firstErr)
}

func syntaxError(name string, err error) error {
	se := &SyntaxError{File: filepath.Base(name), Err: err}
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 {
		se.Line = loc.Locations[0][0].Start.Line
		se.Err = loc.Unwrap()
	}
	var unknown *instructions.UnknownInstructionError
	if errors.As(err, &unknown) {
		se.Line, se.Err = unknown.Line, fmt.Errorf("unknown instruction: %s", unknown.Instruction)
	}
	return se
}

// chain is the cache key of a step: its parent's key and what the step is.
func chain(parent string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(parent))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (b *builder) metaEnv() []string {
	var env []string
	for k, v := range b.metaArgs {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return env
}

func (b *builder) expand(word string, env []string) (string, error) {
	s, _, err := b.lex.ProcessWord(word, shell.EnvsFromSlice(env))
	return s, err
}

// stepEnv is what variables in a step see: the ARGs, then ENV over them.
func (st *state) stepEnv() []string {
	var env []string
	names := make([]string, 0, len(st.args))
	for k := range st.args {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v := st.args[k]; v != nil && !spec.HasEnv(st.config.Env, k) {
			env = append(env, k+"="+*v)
		}
	}
	return append(env, st.config.Env...)
}

func (b *builder) stepLine(text string) {
	b.step++
	b.out.Step(b.step, b.total, text)
}

// stage builds one stage from its FROM.
func (b *builder) stage(s *instructions.Stage, done []*state) (*state, error) {
	b.stepLine(s.SourceCode)
	base, err := b.expand(s.BaseName, b.metaEnv())
	if err != nil {
		return nil, err
	}
	st := &state{name: s.Name, args: map[string]*string{}}
	switch {
	case strings.EqualFold(base, "scratch"):
		st.key = chain("", "scratch")
		b.out.Note(" ---> scratch")
	case findStage(done, base) != nil:
		prev := findStage(done, base)
		*st = *prev
		st.name, st.args, st.cmdSet = s.Name, map[string]*string{}, false
		st.history = append([]v1.History{}, prev.history...)
		b.out.Note(" ---> " + storage.ShortID(st.image))
	default:
		img, err := b.baseImage(base)
		if err != nil {
			return nil, err
		}
		st.image = img.ID
		st.config = img.Config.Config
		st.shell = img.Docker.Shell
		st.health = img.Docker.Healthcheck
		st.onbuild = img.Docker.OnBuild
		st.history = append([]v1.History{}, img.Config.History...)
		st.key = chain("", "image", img.ID)
		st.imageKey = st.key
		b.out.Note(" ---> " + storage.ShortID(img.ID))
	}
	if err := b.triggers(st, done); err != nil {
		return nil, err
	}
	for _, cmd := range s.Commands {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		b.stepLine(cmdText(cmd))
		if err := b.dispatch(st, cmd, done); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// triggers runs the base's ONBUILD instructions, as Docker does right
// after FROM; the new image does not inherit them.
func (b *builder) triggers(st *state, done []*state) error {
	list := st.onbuild
	st.onbuild = nil
	if len(list) == 0 {
		return nil
	}
	s := ""
	if len(list) > 1 {
		s = "s"
	}
	b.out.Note(fmt.Sprintf("# Executing %d build trigger%s", len(list), s))
	for _, expr := range list {
		res, err := parser.Parse(strings.NewReader(expr))
		if err != nil || len(res.AST.Children) != 1 {
			return fmt.Errorf("ONBUILD trigger %q of the base image: %v", expr, err)
		}
		cmd, err := instructions.ParseCommand(res.AST.Children[0])
		if err != nil {
			return fmt.Errorf("ONBUILD trigger %q of the base image: %w", expr, err)
		}
		if err := b.dispatch(st, cmd, done); err != nil {
			return err
		}
	}
	return nil
}

func cmdText(cmd instructions.Command) string {
	if s, ok := cmd.(fmt.Stringer); ok {
		return s.String()
	}
	return cmd.Name()
}

func findStage(done []*state, name string) *state {
	for i, s := range done {
		if s.name != "" && strings.EqualFold(s.name, name) || name == strconv.Itoa(i) {
			return s
		}
	}
	return nil
}

// baseImage finds a FROM image in the store or pulls it (always, with
// --pull).
func (b *builder) baseImage(name string) (*storage.Image, error) {
	if !b.opts.Pull {
		img, err := b.e.Store.LookupImage(name)
		if err == nil || !errors.Is(err, storage.ErrImageNotFound) {
			return img, err
		}
	}
	ref, err := storage.ParseReference(name)
	if err != nil {
		return nil, err
	}
	rep, err := b.e.Store.Pull(b.ctx, ref, storage.PullOptions{})
	if err != nil {
		return nil, err
	}
	return b.e.Store.LookupImage(rep.ID)
}

// mount gives the files of an image, mounted read-only until the build
// ends; "" for no image.
func (b *builder) mount(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if p, ok := b.mounted[id]; ok {
		return p, nil
	}
	p, err := b.e.Store.MountImage(id)
	if err != nil {
		return "", fmt.Errorf("mount image %s: %w", storage.ShortID(id), err)
	}
	b.mounted[id] = p
	return p, nil
}

func (b *builder) unmountAll() {
	for id := range b.mounted {
		_ = b.e.Store.UnmountImage(id)
	}
}

// metadata records a step that changes only the config.
func (b *builder) metadata(st *state, cmd instructions.Command, what ...string) {
	now := time.Now().UTC()
	st.history = append(st.history, v1.History{Created: &now, CreatedBy: cmdText(cmd), EmptyLayer: true})
	st.key = chain(st.key, append([]string{cmd.Name()}, what...)...)
}

func (b *builder) dispatch(st *state, cmd instructions.Command, done []*state) error {
	env := st.stepEnv()
	if _, isArg := cmd.(*instructions.ArgCommand); !isArg {
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
			if err := ex.Expand(func(w string) (string, error) { return b.expand(w, env) }); err != nil {
				return err
			}
		}
	}
	if err := expandHeredocs(cmd, env); err != nil {
		return err
	}
	parts, ok, err := st.imageConfig.apply(cmd, func(w string) (string, error) { return b.expand(w, env) })
	if err != nil {
		return err
	}
	if ok {
		b.metadata(st, cmd, parts...)
		return nil
	}
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		var parts []string
		for _, kv := range c.Args {
			var v *string
			if meta, ok := b.metaArgs[kv.Key]; ok {
				v = meta
			}
			if kv.Value != nil {
				x, err := b.expand(*kv.Value, env)
				if err != nil {
					return err
				}
				v = &x
			}
			if bv, ok := b.opts.BuildArgs[kv.Key]; ok {
				v = &bv
				b.usedArgs[kv.Key] = true
			}
			st.args[kv.Key] = v
			if v != nil {
				parts = append(parts, kv.Key+"="+*v)
			} else {
				parts = append(parts, kv.Key)
			}
		}
		b.metadata(st, cmd, parts...)
	case *instructions.WorkdirCommand:
		return b.workdir(st, c)
	case *instructions.RunCommand:
		return b.run(st, c)
	case *instructions.CopyCommand:
		if c.Parents || len(c.ExcludePatterns) > 0 {
			return &UnsupportedError{What: "COPY --parents and --exclude"}
		}
		return b.copy(st, cmd, c.SourcePaths, c.SourceContents, c.DestPath, c.From, c.Chown, c.Chmod, false, done)
	case *instructions.AddCommand:
		if len(c.ExcludePatterns) > 0 {
			return &UnsupportedError{What: "ADD --exclude"}
		}
		if len(c.SourcePaths) == 1 && IsGitURL(c.SourcePaths[0]) {
			return b.addGit(st, cmd, c)
		}
		remote := 0
		for _, s := range c.SourcePaths {
			switch {
			case IsGitURL(s):
				return &UnsupportedError{What: "ADD of a Git repository with other sources in one instruction"}
			case isURL(s):
				remote++
			case strings.Contains(s, "://") || strings.HasPrefix(s, "git@"):
				return &UnsupportedError{What: fmt.Sprintf("ADD from %s (remote sources other than http, https and Git)", s)}
			}
		}
		if remote > 0 {
			if remote != len(c.SourcePaths) || len(c.SourceContents) > 0 {
				return &UnsupportedError{What: "ADD of URLs and local files in one instruction"}
			}
			dir, names, err := download(b.ctx, b.tmp, c.SourcePaths, c.Checksum)
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			// Remote files are copied as they are, never unpacked.
			return b.copyFrom(st, cmd, &tree{root: dir, name: "download"}, names, c.SourcePaths, nil, c.DestPath, c.Chown, c.Chmod, false)
		}
		if c.Checksum != "" {
			return fmt.Errorf("ADD --checksum is for URL sources only")
		}
		unpack := c.Unpack == nil || *c.Unpack
		return b.copy(st, cmd, c.SourcePaths, c.SourceContents, c.DestPath, "", c.Chown, c.Chmod, unpack, done)
	default:
		return &UnsupportedError{What: strings.ToUpper(cmd.Name())}
	}
	return nil
}

// expandHeredocs expands the variables in the heredocs of a COPY or ADD
// whose delimiter is not quoted: as BuildKit, quotes stay as they are and
// the escape is the backslash whatever the Dockerfile's escape directive.
func expandHeredocs(cmd instructions.Command, env []string) error {
	ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw)
	if !ok {
		return nil
	}
	raw := shell.NewLex('\\')
	raw.SkipProcessQuotes = true
	return ex.ExpandRaw(func(w string) (string, error) {
		s, _, err := raw.ProcessWord(w, shell.EnvsFromSlice(env))
		return s, err
	})
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// cached takes a step's image from the cache, when a build made one under
// key before and --no-cache was not given.
func (b *builder) cached(st *state, key string) bool {
	if b.opts.NoCache {
		return false
	}
	id, ok := b.e.Store.BuildCache(key)
	if !ok {
		return false
	}
	st.image, st.key, st.imageKey = id, key, key
	b.out.Cached(id)
	return true
}

// commitLayer stores diff as the stage's next image.
func (b *builder) commitLayer(st *state, key, createdBy string, diff io.Reader) error {
	now := time.Now().UTC()
	history := append(append([]v1.History{}, st.history...), v1.History{Created: &now, CreatedBy: createdBy})
	id, err := b.e.Store.PutStepImage(st.image, diff, storage.StepImage{
		Config: st.config, Shell: st.shell, Healthcheck: st.health, Author: st.author, OnBuild: st.onbuild,
		History: history, CacheKey: key, Intermediate: true, Created: now,
	})
	if err != nil {
		return fmt.Errorf("store the step: %w", err)
	}
	st.image, st.key, st.imageKey = id, key, key
	b.out.Note(" ---> " + storage.ShortID(id))
	return nil
}

func (b *builder) run(st *state, c *instructions.RunCommand) error {
	cl := c.ShellDependantCmdLine
	var script string        // a heredoc script run by its #! line, for the cache key
	var mounts []flags.Mount // its file, bound into the step's container
	if len(c.Files) > 0 {
		// As BuildKit: one heredoc alone is the script the shell runs;
		// heredocs within a command line go to the shell as they were written.
		if len(cl.CmdLine) != 1 || !cl.PrependShell {
			return fmt.Errorf("RUN: a heredoc needs the shell form")
		}
		if parser.MustParseHeredoc(cl.CmdLine[0]) != nil {
			data := c.Files[0].Data
			if c.Files[0].Chomp {
				data = parser.ChompHeredocContent(data)
			}
			if strings.HasPrefix(data, "#!") {
				// As BuildKit: a script with its own interpreter is a
				// file, mode 0755, bound read-only at /dev/pipes/NAME
				// (outside the layer), that the shell runs by its path.
				name := c.Files[0].Name
				if name == "" || strings.ContainsAny(name, "/:,") || name == "." || name == ".." {
					return fmt.Errorf("RUN: heredoc name %q cannot name the script file: use a plain word such as EOF", name)
				}
				dir, err := b.scriptDir(name, data)
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				script = data
				mounts = []flags.Mount{{Type: flags.Bind, Source: filepath.Join(dir, name), Destination: "/dev/pipes/" + name, ReadOnly: true}}
				cl.CmdLine = []string{"/dev/pipes/" + name}
			} else {
				cl.CmdLine = []string{data}
			}
		} else {
			var sb strings.Builder
			sb.WriteString(cl.CmdLine[0])
			for _, f := range c.Files {
				sb.WriteString("\n" + f.Data + f.Name)
			}
			cl.CmdLine = []string{sb.String()}
		}
	}
	if len(c.FlagsUsed) > 0 {
		return &UnsupportedError{What: "RUN --" + strings.Join(c.FlagsUsed, ", --")}
	}
	if st.image == "" {
		return fmt.Errorf("RUN needs a base image with a command to run: this stage starts FROM scratch and has no files yet")
	}
	args := st.commandLine(cl)
	env := st.stepEnv()
	// Docker's predefined proxy ARGs reach RUN without an ARG, and stay
	// out of the image and the cache key.
	runEnv := env
	for _, k := range proxyArgs {
		if v, ok := b.opts.BuildArgs[k]; ok && !spec.HasEnv(env, k) {
			runEnv = append(runEnv, k+"="+v)
			b.usedArgs[k] = true
		}
	}
	createdBy := "RUN " + strings.Join(args, " ")
	jsonArgs, _ := json.Marshal(args)
	key := chain(st.key, "run", string(jsonArgs), strings.Join(env, "\x00"), st.config.User, st.config.WorkingDir, b.opts.Network.String())
	if script != "" {
		key = chain(key, "script", script)
	}
	if len(b.opts.AddHosts) > 0 {
		var given []string
		for _, h := range b.opts.AddHosts {
			given = append(given, h.Given)
		}
		key = chain(key, "add-host", strings.Join(given, "\x00"))
	}
	if b.cached(st, key) {
		b.addHistory(st, createdBy, false)
		return nil
	}
	out, finish, err := b.stepOutput()
	if err != nil {
		return err
	}
	diff, code, err := b.e.RunStep(b.ctx, Step{
		Image: st.image, Cmd: args, Env: runEnv, Workdir: st.config.WorkingDir, User: st.config.User,
		Network: b.opts.Network, AddHosts: b.opts.AddHosts, Mounts: mounts, Stdout: out, Stderr: out,
		Created: func(id string) { b.out.Note(" ---> Running in " + storage.ShortID(id)) },
	})
	finish()
	if diff != nil {
		defer os.Remove(diff.Name())
		defer diff.Close()
	}
	if ctxErr := b.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("RUN %s: %w", strings.Join(args, " "), ctxErr)
	}
	if err != nil {
		return fmt.Errorf("RUN %s: %w", strings.Join(args, " "), err)
	}
	if code != 0 {
		return &StepError{Step: b.step, Command: strings.Join(args, " "), Code: code}
	}
	if err := b.commitLayer(st, key, createdBy, diff); err != nil {
		return err
	}
	b.addHistory(st, createdBy, false)
	return nil
}

// scriptDir writes a RUN heredoc's script as dir/name, mode 0755, in a
// new directory in the build's working directory that the caller removes.
func (b *builder) scriptDir(name, data string) (string, error) {
	dir, err := os.MkdirTemp(b.tmp, "heredoc-")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	err = os.WriteFile(p, []byte(data), 0o755)
	if err == nil {
		// 0755 whatever the umask: the step's USER runs it.
		err = os.Chmod(p, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("write the RUN heredoc script: %w", err)
	}
	return dir, nil
}

func (b *builder) addHistory(st *state, createdBy string, empty bool) {
	now := time.Now().UTC()
	st.history = append(st.history, v1.History{Created: &now, CreatedBy: createdBy, EmptyLayer: empty})
}

// workdir sets the working directory and makes it when the image has none.
func (b *builder) workdir(st *state, c *instructions.WorkdirCommand) error {
	dir := c.Path
	if !path.IsAbs(dir) {
		dir = path.Join("/", st.config.WorkingDir, dir)
	}
	dir = path.Clean(dir)
	st.config.WorkingDir = dir
	rootfs, err := b.mount(st.image)
	if err != nil {
		return err
	}
	if rootfs != "" {
		if info, err := os.Stat(filepath.Join(rootfs, dir)); err == nil && info.IsDir() {
			b.metadata(st, c, dir)
			return nil
		}
	}
	key := chain(st.key, "workdir", dir)
	createdBy := "WORKDIR " + dir
	if b.cached(st, key) {
		b.addHistory(st, createdBy, false)
		return nil
	}
	now := time.Now()
	info := dirInfo{name: path.Base(dir), mod: now}
	pr, pw := io.Pipe()
	go func() {
		lw := &layerWriter{rootfs: rootfs}
		pw.CloseWithError(lw.write(pw, []entry{{dst: dir, info: info}}))
	}()
	if err := b.commitLayer(st, key, createdBy, pr); err != nil {
		pr.CloseWithError(err)
		return err
	}
	b.addHistory(st, createdBy, false)
	return nil
}

// copy runs a COPY or ADD step: a layer written from the context, a
// stage or an image, without a container.
func (b *builder) copy(st *state, cmd instructions.Command, sources []string, inline []instructions.SourceContent, dest, from, chown, chmod string, unpack bool, done []*state) error {
	src := b.context
	if from != "" {
		if prev := findStage(done, from); prev != nil {
			root, err := b.mount(prev.image)
			if err != nil {
				return err
			}
			if root == "" {
				root = emptyDir
			}
			src = &tree{root: root, name: "stage " + from}
		} else {
			img, err := b.baseImage(from)
			if err != nil {
				return err
			}
			root, err := b.mount(img.ID)
			if err != nil {
				return err
			}
			src = &tree{root: root, name: "image " + from}
		}
	}
	return b.copyFrom(st, cmd, src, sources, sources, inline, dest, chown, chmod, unpack)
}

// copyFrom writes the sources found in src, then the heredocs inline, as
// the step's layer; written are the sources as the Dockerfile gives
// them, for the cache key.
func (b *builder) copyFrom(st *state, cmd instructions.Command, src *tree, sources, written []string, inline []instructions.SourceContent, dest, chown, chmod string, unpack bool) error {
	rootfs, err := b.mount(st.image)
	if err != nil {
		return err
	}
	req := copyRequest{sources: sources, dest: dest, workdir: st.config.WorkingDir, unpack: unpack}
	if len(inline) > 0 {
		dir, names, err := b.inlineFiles(inline)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.ToUpper(cmd.Name()), err)
		}
		defer os.RemoveAll(dir)
		req.inline, req.inlineDir = names, dir
		// The content itself is in the key through contentKey.
		written = append([]string{}, written...)
		for _, n := range names {
			written = append(written, "<<"+n)
		}
	}
	if chown != "" {
		if req.uid, req.gid, err = resolveOwner(rootfs, chown); err != nil {
			return err
		}
		req.chown = true
	}
	if chmod != "" {
		m, err := strconv.ParseUint(chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return fmt.Errorf("invalid --chmod %q: want an octal mode such as 755", chmod)
		}
		mode := uint32(m)
		req.mode = &mode
	}
	isDir := func(p string) bool {
		if rootfs == "" {
			return false
		}
		info, err := os.Stat(filepath.Join(rootfs, p))
		return err == nil && info.IsDir()
	}
	entries, err := plan(src, req, isDir)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.ToUpper(cmd.Name()), err)
	}
	content, err := contentKey(req, entries)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.ToUpper(cmd.Name()), err)
	}
	createdBy := cmdText(cmd)
	key := chain(st.key, cmd.Name(), strings.Join(written, "\x00"), dest, chown, chmod, st.config.WorkingDir, content)
	if b.cached(st, key) {
		b.addHistory(st, createdBy, false)
		return nil
	}
	pr, pw := io.Pipe()
	go func() {
		lw := &layerWriter{req: req, rootfs: rootfs}
		pw.CloseWithError(lw.write(pw, entries))
	}()
	if err := b.commitLayer(st, key, createdBy, pr); err != nil {
		pr.CloseWithError(err)
		return err
	}
	b.addHistory(st, createdBy, false)
	return nil
}

// inlineFiles writes COPY's and ADD's heredocs as files named after
// their delimiters, mode 0644 as BuildKit makes them, in a new directory
// in the build's working directory that the caller removes.
func (b *builder) inlineFiles(inline []instructions.SourceContent) (string, []string, error) {
	dir, err := os.MkdirTemp(b.tmp, "heredoc-")
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, c := range inline {
		name := c.Path
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("heredoc name %q cannot name a file: use a plain word such as file.txt", name)
		}
		p := filepath.Join(dir, name)
		err := os.WriteFile(p, []byte(c.Data), 0o644)
		if err == nil {
			err = os.Chmod(p, 0o644)
		}
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("write heredoc %s: %w", name, err)
		}
		names = append(names, name)
	}
	return dir, names, nil
}
