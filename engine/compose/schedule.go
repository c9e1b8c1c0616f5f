package compose

import (
	"context"
	"slices"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
)

// bringUp converges every service in order's set, each as soon as the
// services it depends on are done and meet their condition, so that
// independent services are made and started side by side, as Docker
// Compose's graph walk does. The first error stops what has not begun
// and is the one returned; a service whose dependency failed is left
// alone. A service that depends on another with restart: true has its
// running containers restarted when up remade that dependency's.
func (c *Compose) bringUp(ctx context.Context, p *types.Project, order []string, existing []*engine.Container, opts UpOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(map[string]chan struct{}, len(order))
	for _, name := range order {
		done[name] = make(chan struct{})
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		remade = map[string]bool{}
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for _, name := range order {
		s := p.Services[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[name])
			deps := dependencies(p, s)
			for _, d := range deps {
				select {
				case <-done[d]:
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil {
				return
			}
			if !opts.CreateOnly {
				if err := c.awaitDependencies(ctx, p, s); err != nil {
					fail(err)
					return
				}
			}
			running, made, err := c.converge(ctx, p, s, byService(existing, name), opts)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			remade[name] = made
			restart := false
			for _, d := range deps {
				restart = restart || remade[d] && s.DependsOn[d].Restart
			}
			mu.Unlock()
			if restart && !opts.CreateOnly {
				if err := c.restartContainers(ctx, s, running); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// dependencies are the services in p that s depends on, sorted; the
// loader has already added those that network_mode, volumes_from, links
// and the namespace keys name.
func dependencies(p *types.Project, s types.ServiceConfig) []string {
	var out []string
	for d := range s.DependsOn {
		if _, ok := p.Services[d]; ok {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// restartContainers stops and starts the named containers of s.
func (c *Compose) restartContainers(ctx context.Context, s types.ServiceConfig, names []string) error {
	for _, name := range names {
		c.progress("Container", name, "Restarting")
		if err := c.Engine.Stop(ctx, name, stopTimeout(s), stopSignal(s)); err != nil {
			return err
		}
		if err := c.start(ctx, name); err != nil {
			return err
		}
	}
	return nil
}
