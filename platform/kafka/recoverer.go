package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/edmshop/edm-shop/platform/event"
)

// Recoverer is the middleware that turns a handler's panic into an error wrapping
// event.ErrInvalid, so the event is dead-lettered with the panic as its reason and the consumer
// goes on. Unrecovered, the panic would end the whole service, and each restart would read the
// same uncommitted event and panic again. The stack goes to the log, not into the dead letter.
// The consumer puts it innermost, so the metrics and tracing middleware see the outcome.
func Recoverer(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, e event.Event) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.ErrorContext(ctx, "handler panicked; dead-lettering the event", "type", e.Type, "id", e.ID, "panic", r, "stack", string(debug.Stack()))
					err = fmt.Errorf("%w: %s handler panicked: %v", event.ErrInvalid, e.Type, r)
				}
			}()
			return next(ctx, e)
		}
	}
}
