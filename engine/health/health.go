// Package health runs healthchecks as Docker does (moby's
// daemon/health.go), in the container's monitor: it lives exactly as long
// as the container, so the check starts and stops with each run (and each
// restart) without a daemon. The state goes to health.json beside the
// container's record, written by the monitor alone, so that ps, inspect
// and a compose wait read it without asking the monitor; keeping it out of
// the record means the monitor's other writes of it never race with it.
//
// The package owns the schedule, the state machine, the state file and one
// check's run; the engine says how a check starts in the container.
package health

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"box/engine/spec"
	"box/storage"
)

// Health statuses, Docker's words; none is what ps --filter calls a
// container with no healthcheck.
const (
	Starting  = "starting"
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
	None      = "none"
)

// Docker's defaults and limits (daemon/health.go, daemon/container.go).
const (
	defaultInterval      = 30 * time.Second
	defaultTimeout       = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultRetries       = 3
	// logEntries is how many results the state keeps, the latest last.
	logEntries = 5
	// outputLimit is the most of a check's output a result keeps.
	outputLimit = 4096
	minDuration = time.Millisecond
)

const stateFile = "health.json"

// State is a container's health as Docker's inspect shows it (State.Health).
type State struct {
	Status        string   `json:"Status"`
	FailingStreak int      `json:"FailingStreak"`
	Log           []Result `json:"Log"`
}

// Result is one run of the check. ExitCode is the check's (0
// healthy, anything else a failure), or -1 when it timed out or could
// not be run.
type Result struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// Label is the health as ps's STATUS column shows it: "health: starting",
// "healthy" or "unhealthy".
func (h *State) Label() string {
	if h.Status == Starting {
		return "health: starting"
	}
	return h.Status
}

// Merge is the container's healthcheck over the image's, field by
// field, as Docker merges a container's config with its image's.
func Merge(user, image *storage.HealthConfig) *storage.HealthConfig {
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

// Validate refuses what Docker's daemon refuses, in its words.
func Validate(c *storage.HealthConfig) error {
	if c == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", c.Interval}, {"Timeout", c.Timeout}, {"StartPeriod", c.StartPeriod}, {"StartInterval", c.StartInterval}} {
		if d.v != 0 && d.v < minDuration {
			return &spec.UsageError{Msg: fmt.Sprintf("%s in Healthcheck cannot be less than %s", d.name, minDuration)}
		}
	}
	if c.Retries < 0 {
		return &spec.UsageError{Msg: "Retries in Healthcheck cannot be negative"}
	}
	return nil
}

// Plan is a healthcheck ready to run: its command and its
// settings with Docker's defaults filled in.
type Plan struct {
	// Args is the check's command line in the container; Timeout how
	// long one check may run.
	Args                                 []string
	Timeout                              time.Duration
	interval, startPeriod, startInterval time.Duration
	retries                              int
}

// NewPlan makes the plan for a container's healthcheck; nil when it
// has none (no config, NONE, or a test Docker does not know).
func NewPlan(c *storage.HealthConfig, shell []string) *Plan {
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
	p := &Plan{
		Args:          args,
		interval:      or(c.Interval, defaultInterval),
		Timeout:       or(c.Timeout, defaultTimeout),
		startPeriod:   c.StartPeriod,
		startInterval: or(c.StartInterval, defaultStartInterval),
		retries:       c.Retries,
	}
	if p.retries <= 0 {
		p.retries = defaultRetries
	}
	return p
}

// next is how long to wait before the next check, elapsed after the
// container started: the start interval while it is starting within its
// start period, but never past the period's end; the interval after it.
func (p *Plan) next(elapsed time.Duration, status string) time.Duration {
	if elapsed >= p.startPeriod {
		return p.interval
	}
	remaining := p.startPeriod - elapsed
	if remaining < p.interval {
		return remaining
	}
	if status == Starting {
		return p.startInterval
	}
	return p.interval
}

// apply is h after the check's result r, for a container that started
// at started: a pass makes it healthy; failures count, except while it
// is starting within its start period, and retries of them in a row make
// it unhealthy. The log keeps the latest results.
func (p *Plan) apply(h State, r Result, started time.Time) State {
	h.Log = append(append([]Result{}, h.Log...), r)
	if len(h.Log) > logEntries {
		h.Log = h.Log[len(h.Log)-logEntries:]
	}
	if r.ExitCode == 0 {
		h.FailingStreak, h.Status = 0, Healthy
		return h
	}
	if h.Status == Starting && r.Start.Sub(started) < p.startPeriod {
		return h
	}
	h.FailingStreak++
	if h.FailingStreak >= p.retries {
		h.Status = Unhealthy
	}
	return h
}

// Save writes the container's health state beside its record,
// atomically. Only the container's monitor writes it.
func Save(dir string, h State) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}

// Load reads the container's health state; nil when no check has
// ever run for it.
func Load(dir string) *State {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil
	}
	var h State
	if json.Unmarshal(data, &h) != nil || h.Status == "" {
		return nil
	}
	return &h
}

// Process is one run of the check, started.
type Process interface {
	// Wait reaps it and gives its exit code.
	Wait() (int, error)
	// Kill ends it and whatever it started.
	Kill()
}

// RunCheck runs one check: start begins it with out as its stdout and
// stderr. A check that has not ended within timeout, or when ctx ends,
// is killed and counts as failed. The result's Start is the caller's.
func RunCheck(ctx context.Context, timeout time.Duration, start func(out *os.File) (Process, error)) Result {
	pr, pw, err := os.Pipe()
	if err != nil {
		return Result{ExitCode: -1, Output: err.Error(), End: time.Now()}
	}
	defer pr.Close()
	p, err := start(pw)
	pw.Close()
	if err != nil {
		return Result{ExitCode: -1, Output: err.Error(), End: time.Now()}
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
	r := Result{ExitCode: x.code, Output: out.String(), End: time.Now()}
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

// limitedBuffer keeps the first outputLimit bytes written to it;
// String marks with "..." that more was dropped, as Docker does.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(outputLimit-b.buf.Len(), len(p))
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

// Monitor runs a container's check on the plan's schedule until
// stopped, telling save each new state.
type Monitor struct {
	Plan    *Plan
	Started time.Time
	// Probe runs the check once; Paused says the container is frozen,
	// when no check runs (Docker stops checking a paused container).
	Probe  func(context.Context) Result
	Paused func() bool
	Save   func(State)
	// Changed hears of each status a check result brings (not of the
	// unhealthy that stop leaves: Docker's event log has none then).
	Changed func(status string)

	health State
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Start begins checking with the state h (the log of an
// earlier run stays, as Docker keeps it), saved at once.
func Start(m *Monitor, h State) *Monitor {
	m.health = h
	m.Save(h)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go m.run(ctx)
	return m
}

func (m *Monitor) run(ctx context.Context) {
	defer close(m.done)
	timer := time.NewTimer(m.Plan.next(time.Since(m.Started), m.health.Status))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if m.Paused == nil || !m.Paused() {
			begun := time.Now()
			r := m.Probe(ctx)
			if ctx.Err() != nil {
				return // stopped while checking: the result does not count
			}
			r.Start = begun
			was := m.health.Status
			m.health = m.Plan.apply(m.health, r, m.Started)
			m.Save(m.health)
			if m.health.Status != was && m.Changed != nil {
				m.Changed(m.health.Status)
			}
		}
		timer.Reset(m.Plan.next(time.Since(m.Started), m.health.Status))
	}
}

// Stop ends the checks, killing one that runs, and leaves the state
// unhealthy, as Docker does once it stops checking a container. It can
// be called more than once.
func (m *Monitor) Stop() {
	if m == nil {
		return
	}
	m.once.Do(func() {
		m.cancel()
		<-m.done
		m.health.Status = Unhealthy
		m.Save(m.health)
	})
}
