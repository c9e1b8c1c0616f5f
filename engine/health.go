package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/monitor"
	"box/engine/spec"
	"box/storage"
)

// Healthchecks, as Docker runs them (moby's daemon/health.go), but in the
// container's monitor: it lives exactly as long as the container, so the
// check starts and stops with each run (and each restart) without a
// daemon. The state goes to health.json beside the container's record,
// written by the monitor alone, so that ps, inspect and a compose wait
// read it without asking the monitor; keeping it out of box.json means
// the monitor's other writes of the record never race with it.

// Health statuses, Docker's words; none is what ps --filter calls a
// container with no healthcheck.
const (
	HealthStarting = "starting"
	Healthy        = "healthy"
	Unhealthy      = "unhealthy"
	NoHealthcheck  = "none"
)

// Docker's defaults and limits (daemon/health.go, daemon/container.go).
const (
	defaultHealthInterval      = 30 * time.Second
	defaultHealthTimeout       = 30 * time.Second
	defaultHealthStartInterval = 5 * time.Second
	defaultHealthRetries       = 3
	// healthLogEntries is how many results the state keeps, the latest last.
	healthLogEntries = 5
	// healthOutputLimit is the most of a check's output a result keeps.
	healthOutputLimit = 4096
	minHealthDuration = time.Millisecond
)

const healthFile = "health.json"

// Health is a container's health as Docker's inspect shows it (State.Health).
type Health struct {
	Status        string         `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}

// HealthResult is one run of the check. ExitCode is the check's (0
// healthy, anything else a failure), or -1 when it timed out or could
// not be run.
type HealthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// Label is the health as ps's STATUS column shows it: "health: starting",
// "healthy" or "unhealthy".
func (h *Health) Label() string {
	if h.Status == HealthStarting {
		return "health: starting"
	}
	return h.Status
}

// HealthOptions are run's --health-* flags and --no-healthcheck. Zero
// values leave the image's setting as it is, field by field.
type HealthOptions struct {
	// Cmd is --health-cmd, run with the container's shell (CMD-SHELL).
	Cmd                                           string
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
	// Disable is --no-healthcheck: not even the image's check runs.
	Disable bool
}

// config is the container's own healthcheck as Docker's CLI makes it of
// the flags: nil when none is given.
func (o HealthOptions) config() (*storage.HealthConfig, error) {
	set := o.Cmd != "" || o.Interval != 0 || o.Timeout != 0 || o.StartPeriod != 0 || o.Retries != 0 || o.StartInterval != 0
	if o.Disable {
		if set {
			return nil, &UsageError{Msg: "--no-healthcheck conflicts with --health-* options"}
		}
		return &storage.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !set {
		return nil, nil
	}
	for _, c := range []struct {
		flag     string
		negative bool
	}{
		{"--health-interval", o.Interval < 0}, {"--health-timeout", o.Timeout < 0}, {"--health-retries", o.Retries < 0},
		{"--health-start-period", o.StartPeriod < 0}, {"--health-start-interval", o.StartInterval < 0},
	} {
		if c.negative {
			return nil, &UsageError{Msg: c.flag + " cannot be negative"}
		}
	}
	cfg := &storage.HealthConfig{Interval: o.Interval, Timeout: o.Timeout, StartPeriod: o.StartPeriod, StartInterval: o.StartInterval, Retries: o.Retries}
	if o.Cmd != "" {
		cfg.Test = []string{"CMD-SHELL", o.Cmd}
	}
	return cfg, nil
}

// mergeHealth is the container's healthcheck over the image's, field by
// field, as Docker merges a container's config with its image's.
func mergeHealth(user, image *storage.HealthConfig) *storage.HealthConfig {
	if image == nil {
		return user
	}
	if user == nil {
		c := *image
		return &c
	}
	c := *user
	if len(c.Test) == 0 {
		c.Test = image.Test
	}
	if c.Interval == 0 {
		c.Interval = image.Interval
	}
	if c.Timeout == 0 {
		c.Timeout = image.Timeout
	}
	if c.StartPeriod == 0 {
		c.StartPeriod = image.StartPeriod
	}
	if c.StartInterval == 0 {
		c.StartInterval = image.StartInterval
	}
	if c.Retries == 0 {
		c.Retries = image.Retries
	}
	return &c
}

// validateHealth refuses what Docker's daemon refuses, in its words.
func validateHealth(c *storage.HealthConfig) error {
	if c == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", c.Interval}, {"Timeout", c.Timeout}, {"StartPeriod", c.StartPeriod}, {"StartInterval", c.StartInterval}} {
		if d.v != 0 && d.v < minHealthDuration {
			return &UsageError{Msg: fmt.Sprintf("%s in Healthcheck cannot be less than %s", d.name, minHealthDuration)}
		}
	}
	if c.Retries < 0 {
		return &UsageError{Msg: "Retries in Healthcheck cannot be negative"}
	}
	return nil
}

// healthPlan is a healthcheck ready to run: its command and its
// settings with Docker's defaults filled in.
type healthPlan struct {
	args                                          []string
	interval, timeout, startPeriod, startInterval time.Duration
	retries                                       int
}

// planHealth makes the plan for a container's healthcheck; nil when it
// has none (no config, NONE, or a test Docker does not know).
func planHealth(c *storage.HealthConfig, shell []string) *healthPlan {
	if c == nil || len(c.Test) == 0 {
		return nil
	}
	var args []string
	switch c.Test[0] {
	case "CMD":
		args = c.Test[1:]
	case "CMD-SHELL":
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		args = append(append([]string{}, shell...), c.Test[1:]...)
	default:
		return nil
	}
	or := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	p := &healthPlan{
		args:          args,
		interval:      or(c.Interval, defaultHealthInterval),
		timeout:       or(c.Timeout, defaultHealthTimeout),
		startPeriod:   c.StartPeriod,
		startInterval: or(c.StartInterval, defaultHealthStartInterval),
		retries:       c.Retries,
	}
	if p.retries <= 0 {
		p.retries = defaultHealthRetries
	}
	return p
}

// next is how long to wait before the next check, elapsed after the
// container started: the start interval while it is starting within its
// start period, but never past the period's end; the interval after it.
func (p *healthPlan) next(elapsed time.Duration, status string) time.Duration {
	if elapsed >= p.startPeriod {
		return p.interval
	}
	remaining := p.startPeriod - elapsed
	if remaining < p.interval {
		return remaining
	}
	if status == HealthStarting {
		return p.startInterval
	}
	return p.interval
}

// apply is h after the check's result r, for a container that started
// at started: a pass makes it healthy; failures count, except while it
// is starting within its start period, and retries of them in a row make
// it unhealthy. The log keeps the latest results.
func (p *healthPlan) apply(h Health, r HealthResult, started time.Time) Health {
	h.Log = append(append([]HealthResult{}, h.Log...), r)
	if len(h.Log) > healthLogEntries {
		h.Log = h.Log[len(h.Log)-healthLogEntries:]
	}
	if r.ExitCode == 0 {
		h.FailingStreak, h.Status = 0, Healthy
		return h
	}
	if h.Status == HealthStarting && r.Start.Sub(started) < p.startPeriod {
		return h
	}
	h.FailingStreak++
	if h.FailingStreak >= p.retries {
		h.Status = Unhealthy
	}
	return h
}

// saveHealth writes the container's health state beside its record,
// atomically. Only the container's monitor writes it.
func saveHealth(dir string, h Health) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, healthFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, healthFile))
}

// loadHealth reads the container's health state; nil when no check has
// ever run for it.
func loadHealth(dir string) *Health {
	data, err := os.ReadFile(filepath.Join(dir, healthFile))
	if err != nil {
		return nil
	}
	var h Health
	if json.Unmarshal(data, &h) != nil || h.Status == "" {
		return nil
	}
	return &h
}

// checkProcess is one run of the check, started.
type checkProcess interface {
	// Wait reaps it and gives its exit code.
	Wait() (int, error)
	// Kill ends it and whatever it started.
	Kill()
}

// runCheck runs one check: start begins it with out as its stdout and
// stderr. A check that has not ended within timeout, or when ctx ends,
// is killed and counts as failed. The result's Start is the caller's.
func runCheck(ctx context.Context, timeout time.Duration, start func(out *os.File) (checkProcess, error)) HealthResult {
	pr, pw, err := os.Pipe()
	if err != nil {
		return HealthResult{ExitCode: -1, Output: err.Error(), End: time.Now()}
	}
	defer pr.Close()
	p, err := start(pw)
	pw.Close()
	if err != nil {
		return HealthResult{ExitCode: -1, Output: err.Error(), End: time.Now()}
	}
	var out limitedBuffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&out, pr)
	}()
	type exit struct {
		code int
		err  error
	}
	exited := make(chan exit, 1)
	go func() {
		code, err := p.Wait()
		exited <- exit{code, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := false
	var x exit
	select {
	case x = <-exited:
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
		timedOut = true
	}
	if timedOut {
		p.Kill()
		x = <-exited
	}
	// What the check wrote before it ended is in the pipe; a process it
	// left behind may hold the pipe open, so the rest is not waited for.
	_ = pr.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	<-read
	r := HealthResult{ExitCode: x.code, Output: out.String(), End: time.Now()}
	switch {
	case timedOut:
		r.ExitCode, r.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", timeout)
		if s := out.String(); s != "" {
			r.Output += ": " + s
		}
	case x.err != nil:
		r.ExitCode, r.Output = -1, x.err.Error()
	}
	return r
}

// limitedBuffer keeps the first healthOutputLimit bytes written to it;
// String marks with "..." that more was dropped, as Docker does.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(healthOutputLimit-b.buf.Len(), len(p))
	if keep > 0 {
		b.buf.Write(p[:keep])
	}
	if keep < len(p) {
		b.truncated = true
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "..."
	}
	return b.buf.String()
}

// healthMonitor runs a container's check on the plan's schedule until
// stopped, telling save each new state.
type healthMonitor struct {
	plan    *healthPlan
	started time.Time
	// probe runs the check once; paused says the container is frozen,
	// when no check runs (Docker stops checking a paused container).
	probe  func(context.Context) HealthResult
	paused func() bool
	save   func(Health)
	// changed hears of each status a check result brings (not of the
	// unhealthy that stop leaves: Docker's event log has none then).
	changed func(status string)

	health Health
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// startHealthMonitor begins checking with the state h (the log of an
// earlier run stays, as Docker keeps it), saved at once.
func startHealthMonitor(m *healthMonitor, h Health) *healthMonitor {
	m.health = h
	m.save(h)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go m.run(ctx)
	return m
}

func (m *healthMonitor) run(ctx context.Context) {
	defer close(m.done)
	timer := time.NewTimer(m.plan.next(time.Since(m.started), m.health.Status))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if m.paused == nil || !m.paused() {
			begun := time.Now()
			r := m.probe(ctx)
			if ctx.Err() != nil {
				return // stopped while checking: the result does not count
			}
			r.Start = begun
			was := m.health.Status
			m.health = m.plan.apply(m.health, r, m.started)
			m.save(m.health)
			if m.health.Status != was && m.changed != nil {
				m.changed(m.health.Status)
			}
		}
		timer.Reset(m.plan.next(time.Since(m.started), m.health.Status))
	}
}

// stop ends the checks, killing one that runs, and leaves the state
// unhealthy, as Docker does once it stops checking a container. It can
// be called more than once.
func (m *healthMonitor) stop() {
	if m == nil {
		return
	}
	m.once.Do(func() {
		m.cancel()
		<-m.done
		m.health.Status = Unhealthy
		m.save(m.health)
	})
}

// startHealth starts the healthcheck of a container that runs as r
// under this monitor, if it has one; the result stops it.
func startHealth(rec *record, dir string, sp *specs.Spec, r *monitor.Running, changed func(status string)) *healthMonitor {
	plan := planHealth(rec.Healthcheck, rec.HealthShell)
	if plan == nil {
		return nil
	}
	h := Health{Status: HealthStarting}
	if old := loadHealth(dir); old != nil {
		h.Log = old.Log
	}
	id := rec.ID
	m := &healthMonitor{
		plan: plan, started: rec.StartedAt,
		probe: func(ctx context.Context) HealthResult {
			return runCheck(ctx, plan.timeout, func(out *os.File) (checkProcess, error) {
				x, err := startExec(sp, r, spec.ExecOptions{Args: plan.args}, nil, out, out)
				if err != nil {
					return nil, err
				}
				return execCheck{x}, nil
			})
		},
		paused:  func() bool { return frozen(id) },
		save:    func(h Health) { _ = saveHealth(dir, h) },
		changed: changed,
	}
	return startHealthMonitor(m, h)
}

// execCheck is a check started in the container as `box exec` starts
// a process there.
type execCheck struct{ x *monitor.Exec }

func (c execCheck) Wait() (int, error) {
	st, err := c.x.Wait()
	return st.ExitCode, err
}

// Kill ends the check's process group: the process is the leader of a
// session of its own (runc's setsid), so a shell's children go with it.
func (c execCheck) Kill() {
	if err := unix.Kill(-c.x.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		_ = c.x.Signal(unix.SIGKILL)
	}
}
