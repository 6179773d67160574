package kafka

import (
	"context"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
)

// DefaultHandlerTimeout bounds one attempt of a handler. It is well inside the consumer's
// max.poll.interval.ms (maxPollInterval): a store call that hangs fails the attempt, which is
// retried, instead of holding its partition's events until the group evicts the member.
const DefaultHandlerTimeout = 10 * time.Second

// Timeout is the middleware that gives every attempt of a handler at most d: the handler's
// context is cancelled after d, and a store client that honours its context (database/sql,
// the AWS SDK) returns a transient error, which Retry retries. d <= 0 means no timeout.
func Timeout(d time.Duration) Middleware {
	return func(next Handler) Handler {
		if d <= 0 {
			return next
		}
		return func(ctx context.Context, e event.Event) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, e)
		}
	}
}
