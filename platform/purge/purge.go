// Package purge deletes what a service no longer needs to remember (processed-event records,
// idempotency keys) on a schedule, so what a store holds, and what it costs to use it, stops
// growing with the number of orders ever placed.
package purge

import (
	"context"
	"log/slog"
	"time"
)

// Interval is how often Loop purges.
const Interval = time.Minute

// Func deletes the records older than age and reports how many it deleted.
type Func func(ctx context.Context, age time.Duration) (int, error)

// Loop runs purge for records older than age at once and then every Interval, until ctx is
// cancelled; it then returns nil. A failed purge is logged and tried again next time.
func Loop(ctx context.Context, log *slog.Logger, what string, age time.Duration, purge Func) error {
	for {
		n, err := purge(ctx, age)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("purge", "what", what, "error", err)
		case n > 0:
			log.Info("purged", "what", what, "rows", n, "olderThan", age.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(Interval):
		}
	}
}
