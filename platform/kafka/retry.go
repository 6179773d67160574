package kafka

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
)

// Backoff is exponential backoff with equal jitter: the n-th wait (from 0) is half of
// min(Max, Initial·2ⁿ) plus a random share of the other half. The random half spreads the
// retries of many consumers hitting the same store after an outage, so they do not come back in
// lockstep; the fixed half keeps a failing call from being retried at once.
type Backoff struct {
	Initial time.Duration // first ceiling; default 50 ms
	Max     time.Duration // ceiling of every wait; default 2 s
}

// DefaultBackoff is the consumer's backoff between attempts of a transiently failing event.
var DefaultBackoff = Backoff{Initial: 50 * time.Millisecond, Max: 2 * time.Second}

// Delay is the wait before retry n (from 0), with r in [0, 1) choosing within the jitter.
func (b Backoff) Delay(n int, r float64) time.Duration {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	ceil := b.Initial
	for i := 0; i < n && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	half := ceil / 2
	return half + time.Duration(r*float64(ceil-half))
}

// Retry is the middleware that retries a handler's transient failures in place, waiting
// b.Delay between attempts, for at most retryFor. It never turns a transient error into a dead
// letter: it returns nil, an error wrapping event.ErrInvalid as the handler returned it, or
// the last transient error once retryFor is spent (the consumer then rewinds the partition to
// the event and reads it again, without committing past it). It stops as soon as ctx ends.
// The consumer puts it outermost, so every attempt passes through the other middleware.
func Retry(b Backoff, retryFor time.Duration, log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, e event.Event) error {
			deadline := time.Now().Add(retryFor)
			for n := 0; ; n++ {
				err := next(ctx, e)
				if err == nil || errors.Is(err, event.ErrInvalid) {
					return err
				}
				if ctx.Err() != nil {
					return err
				}
				wait := b.Delay(n, rand.Float64())
				if time.Now().Add(wait).After(deadline) {
					return err
				}
				log.WarnContext(ctx, "handler failed, retrying", "error", err, "attempt", n+1, "in", wait)
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return err
				case <-t.C:
				}
			}
		}
	}
}
