package engine

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"box/engine/health"
	"box/engine/monitor"
	"box/engine/spec"
	"box/storage"
)

// Healthchecks run in the container's monitor (package health); these are
// the container's side of them: run's flags, and the check started in the
// container as exec starts a process.

// Health statuses, Docker's words; none is what ps --filter calls a
// container with no healthcheck.
const (
	HealthStarting = health.Starting
	Healthy        = health.Healthy
	Unhealthy      = health.Unhealthy
	NoHealthcheck  = health.None
)

// Health is a container's health as Docker's inspect shows it
// (State.Health); HealthResult one run of its check.
type (
	Health       = health.State
	HealthResult = health.Result
)

// HealthOptions are run's --health-* flags and --no-healthcheck. Zero
// values leave the image's setting as it is, field by field.
type HealthOptions struct {
	// Cmd is --health-cmd, run with the container's shell (CMD-SHELL).
	Cmd string
	// Exec is a check run without a shell (CMD), as a compose file's
	// exec form gives it; it excludes Cmd.
	Exec                                          []string
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
	// Disable is --no-healthcheck: not even the image's check runs.
	Disable bool
}

// config is the container's own healthcheck as Docker's CLI makes it of
// the flags: nil when none is given.
func (o HealthOptions) config() (*storage.HealthConfig, error) {
	set := o.Cmd != "" || len(o.Exec) > 0 || o.Interval != 0 || o.Timeout != 0 || o.StartPeriod != 0 || o.Retries != 0 || o.StartInterval != 0
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
	switch {
	case o.Cmd != "" && len(o.Exec) > 0:
		return nil, &UsageError{Msg: "a healthcheck is either a shell command or an exec form, not both"}
	case o.Cmd != "":
		cfg.Test = []string{"CMD-SHELL", o.Cmd}
	case len(o.Exec) > 0:
		cfg.Test = append([]string{"CMD"}, o.Exec...)
	}
	return cfg, nil
}

// startHealth starts the healthcheck of a container that runs as r
// under this monitor, if it has one; the result stops it.
func startHealth(rec *record, dir string, sp *specs.Spec, r *monitor.Running, changed func(status string)) *health.Monitor {
	plan := health.NewPlan(rec.Healthcheck, rec.HealthShell)
	if plan == nil {
		return nil
	}
	h := Health{Status: HealthStarting}
	if old := health.Load(dir); old != nil {
		h.Log = old.Log
	}
	id := rec.ID
	m := &health.Monitor{
		Plan: plan, Started: rec.StartedAt,
		Probe: func(ctx context.Context) HealthResult {
			return health.RunCheck(ctx, plan.Timeout, func(out *os.File) (health.Process, error) {
				x, err := startExec(sp, r, spec.ExecOptions{Args: plan.Args}, nil, out, out)
				if err != nil {
					return nil, err
				}
				return execCheck{x}, nil
			})
		},
		Paused:  func() bool { return frozen(id) },
		Save:    func(h Health) { _ = health.Save(dir, h) },
		Changed: changed,
	}
	return health.Start(m, h)
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
