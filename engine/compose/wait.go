package compose

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
)

// pollEvery is how often a wait reads the containers' records: health
// and exit are written there by the containers' monitors.
const pollEvery = 100 * time.Millisecond

// awaitDependencies returns once every service s depends on meets the
// condition s asks for: started (up started it already, in order),
// healthy, or completed successfully.
func (c *Compose) awaitDependencies(ctx context.Context, p *types.Project, s types.ServiceConfig) error {
	deps := make([]string, 0, len(s.DependsOn))
	for d := range s.DependsOn {
		deps = append(deps, d)
	}
	slices.Sort(deps)
	for _, d := range deps {
		cond := s.DependsOn[d]
		if _, ok := p.Services[d]; !ok {
			continue
		}
		have, err := c.containers(p.Name, false)
		if err != nil {
			return err
		}
		for _, ctr := range byService(have, d) {
			var err error
			switch cond.Condition {
			case types.ServiceConditionHealthy:
				err = c.awaitHealthy(ctx, d, ctr.Name)
			case types.ServiceConditionCompletedSuccessfully:
				err = c.awaitCompleted(ctx, d, ctr.Name)
			}
			if err != nil && cond.Required {
				return err
			}
			if err != nil {
				c.warnf("optional dependency %q of %q: %v", d, s.Name, err)
			}
		}
	}
	return nil
}

// awaitHealthy returns once the container's healthcheck says healthy,
// with an error when it says unhealthy, the container stops, or it has
// no healthcheck.
func (c *Compose) awaitHealthy(ctx context.Context, service, name string) error {
	c.progress("Container", name, "Waiting")
	for {
		ctr, err := c.Engine.LookupContainer(name)
		if err != nil {
			return err
		}
		switch {
		case ctr.State != engine.Running && ctr.State != engine.Restarting:
			return &DependencyError{Service: service, Container: name, Reason: fmt.Sprintf("exited (%d)", ctr.ExitCode)}
		case ctr.Health == nil && !c.hasHealthcheck(name):
			return &DependencyError{Service: service, Container: name, Reason: "has no healthcheck configured"}
		case ctr.Health != nil && ctr.Health.Status == "healthy":
			c.progress("Container", name, "Healthy")
			return nil
		case ctr.Health != nil && ctr.Health.Status == "unhealthy":
			return &DependencyError{Service: service, Container: name, Reason: "is unhealthy"}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// hasHealthcheck says whether the container has a check (its own or
// its image's): one that has not reported yet is given time.
func (c *Compose) hasHealthcheck(name string) bool {
	in, err := c.Engine.InspectContainer(name)
	if err != nil || in.Config.Healthcheck == nil {
		return false
	}
	t := in.Config.Healthcheck.Test
	return len(t) > 0 && t[0] != "NONE"
}

// awaitCompleted returns once the container exited 0, with an error
// for another code. Its exit counts once its record has it: finished
// after it last started (a container just started may not show as
// running yet, and one that ended at once may not have its code yet).
func (c *Compose) awaitCompleted(ctx context.Context, service, name string) error {
	c.progress("Container", name, "Waiting")
	notStarted := time.Now()
	for {
		ctr, err := c.Engine.LookupContainer(name)
		if err != nil {
			return err
		}
		switch {
		case ctr.State == engine.Exited && !ctr.FinishedAt.IsZero() && !ctr.FinishedAt.Before(ctr.StartedAt):
			if ctr.ExitCode != 0 {
				return fmt.Errorf("service %q didn't complete successfully: exit %d", service, ctr.ExitCode)
			}
			c.progress("Container", name, "Exited")
			return nil
		case ctr.State == engine.Running || ctr.State == engine.Restarting:
			if _, err := c.Engine.Wait(ctx, name); err != nil {
				return err
			}
			continue
		case ctr.State == engine.Created && time.Since(notStarted) > createdGrace:
			return &DependencyError{Service: service, Container: name, Reason: "was never started"}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// createdGrace is how long a container that should have been started may
// still show as created.
const createdGrace = 10 * time.Second

// wait is up --wait: every service's containers running, and healthy
// when they have a check. A service that others wait on to complete is
// awaited to complete instead.
func (c *Compose) wait(ctx context.Context, p *types.Project, order []string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	completes := map[string]bool{}
	for _, s := range p.Services {
		for d, cond := range s.DependsOn {
			if cond.Condition == types.ServiceConditionCompletedSuccessfully {
				completes[d] = true
			}
		}
	}
	have, err := c.containers(p.Name, false)
	if err != nil {
		return err
	}
	for _, name := range order {
		for _, ctr := range byService(have, name) {
			var err error
			switch {
			case completes[name]:
				err = c.awaitCompleted(ctx, name, ctr.Name)
			case c.hasHealthcheck(ctr.Name):
				err = c.awaitHealthy(ctx, name, ctr.Name)
			default:
				var now *engine.Container
				// A one-shot container that exited 0 did its job.
				if now, err = c.Engine.LookupContainer(ctr.ID); err == nil && now.State != engine.Running && now.State != engine.Restarting && now.ExitCode != 0 {
					err = fmt.Errorf("container %s exited (%d)", now.Name, now.ExitCode)
				}
			}
			if ctx.Err() != nil {
				return fmt.Errorf("timeout waiting for %s to be ready: %w", ctr.Name, ctx.Err())
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
