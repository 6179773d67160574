// Package lifecycle runs the long-lived parts of a service (consumer, outbox relay, HTTP
// server) together: they start together and stop together.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Part is one long-lived piece of a service. It runs until ctx is cancelled, then returns nil,
// or returns an error when it cannot go on.
type Part func(ctx context.Context) error

// Run runs every part until ctx is cancelled or one part returns; then it cancels the others,
// waits for all of them, and returns their errors, each prefixed with the part's name. A
// service is never left half running: a dead consumer behind a live HTTP server would accept
// orders it never processes.
func Run(ctx context.Context, parts map[string]Part) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for name, run := range parts {
		wg.Go(func() {
			defer cancel()
			if err := run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
