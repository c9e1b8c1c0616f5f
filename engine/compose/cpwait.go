package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"box/engine"
)

// CopyTargets are the containers `compose cp` copies with for service:
// container number index when given (> 0); else, copying from the
// service, its first container, and copying to it, all of them, as
// Docker Compose does. Stopped containers count; one-off ones do not.
func (c *Compose) CopyTargets(p *types.Project, service string, index int, from bool) ([]*engine.Container, error) {
	if index > 0 {
		ctr, err := c.ServiceContainer(p, service, index, true)
		if err != nil {
			return nil, err
		}
		return []*engine.Container{ctr}, nil
	}
	list, err := c.Containers(p, []string{service}, true)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no container found for service %q", service)
	}
	if from {
		return list[:1], nil
	}
	return list, nil
}

// ErrNoContainers is a wait on a project none of whose containers run.
var ErrNoContainers = errors.New("no containers for project")

// Wait blocks until every running container of the services (all when
// none), one-off ones too, has stopped, telling exited of each as it
// does, and returns the exit code of the last one to stop.
func (c *Compose) Wait(ctx context.Context, p *types.Project, services []string, exited func(ctr *engine.Container, code int)) (int, error) {
	if err := checkServices(p, services); err != nil {
		return 0, err
	}
	have, err := c.containers(p.Name, true)
	if err != nil {
		return 0, err
	}
	var list []*engine.Container
	for _, ctr := range have {
		if (len(services) == 0 || slices.Contains(services, ctr.Labels[LabelService])) && (ctr.State == engine.Running || ctr.State == engine.Restarting) {
			list = append(list, ctr)
		}
	}
	if len(list) == 0 {
		return 0, fmt.Errorf("%w %q", ErrNoContainers, p.Name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		last  int
		first error
	)
	for _, ctr := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := c.Engine.WaitFor(ctx, ctr.ID, engine.WaitNotRunning)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				cancel()
				return
			}
			last = code
			exited(ctr, code)
		}()
	}
	wg.Wait()
	return last, first
}
