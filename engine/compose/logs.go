package compose

import (
	"context"
	"errors"
	"io"
	"sync"

	"box/engine"
)

// LogSink gives the writers one container's output goes to; done is
// called once its log ended (to flush a last partial line).
type LogSink func(ctr *engine.Container) (stdout, stderr io.Writer, done func())

// Logs writes the containers' logs to the sink's writers, all at once.
// With opts.Follow it keeps writing until every container stopped or
// ctx ends; ended, when set, is told of each container whose log ended
// because it stopped, with its state then (its exit code).
func (c *Compose) Logs(ctx context.Context, list []*engine.Container, opts engine.LogOptions, sink LogSink, ended func(*engine.Container)) error {
	var wg sync.WaitGroup
	errs := make([]error, len(list))
	for i, ctr := range list {
		stdout, stderr, done := sink(ctr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Engine.Logs(ctx, ctr.ID, opts, stdout, stderr)
			done()
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return
			}
			errs[i] = err
			if err == nil && opts.Follow && ended != nil {
				if now, err := c.Engine.LookupContainer(ctr.ID); err == nil {
					ended(now)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
