package kafka

import (
	"context"

	"github.com/edmshop/edm-shop/platform/event"
)

// SourceCheck is the middleware that refuses an event whose ce_source is not a rightful
// producer of its type (event.CheckSource): the consumer sends it to the dead-letter topic
// with the reason, and the handler never sees it. A replay by edmctl keeps the original
// headers, so a replayed event passes as it did the first time.
func SourceCheck() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, e event.Event) error {
			if err := event.CheckSource(e); err != nil {
				return err
			}
			return next(ctx, e)
		}
	}
}
