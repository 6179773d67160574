package outbox

import (
	"context"
	"fmt"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// Parker is a Store that can set aside a record the broker refuses for good (too large, not
// allowed): ParkOutbox moves it, with the reason, out of the records PendingOutbox returns, so
// that the records after it are published. Parked records wait for an operator.
type Parker interface {
	ParkOutbox(ctx context.Context, id, reason string) error
}

// publishEach publishes records one at a time after their batch was refused for good: it parks
// each one the broker refuses for good and deletes the published ones. It stops at a transient
// failure (the rest waits for the next round), and at a refused record its store cannot park.
func (r *Relay) publishEach(ctx context.Context, records []Record) (int, error) {
	var done []string
	var failure error
	for _, rec := range records {
		err := r.publisher.Publish(ctx, rec.Message)
		if err == nil {
			done = append(done, rec.ID)
			continue
		}
		parker, ok := r.store.(Parker)
		if !kafka.IsPermanent(err) || !ok {
			failure = fmt.Errorf("publish outbox record %s: %w", rec.ID, err)
			break
		}
		if err := parker.ParkOutbox(ctx, rec.ID, err.Error()); err != nil {
			failure = fmt.Errorf("park outbox record %s: %w", rec.ID, err)
			break
		}
		r.log.Error("outbox record parked: the broker refuses it for good", "id", rec.ID, "topic", rec.Message.Topic,
			"ce_id", rec.Message.Event.ID, "ce_type", rec.Message.Event.Type, "key", rec.Message.Event.Key, "reason", err)
	}
	if err := r.store.DeleteOutbox(ctx, done); err != nil {
		return 0, err
	}
	return len(done), failure
}
