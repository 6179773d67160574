// Package outbox publishes the events a service stored in its outbox, in the same transaction as
// the state change that caused them, so that no event is lost and none is sent for a change that
// did not commit (no dual writes).
package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// Record is one stored, not yet published message.
type Record struct {
	ID      string
	Message kafka.Message
}

// Store is a service's outbox.
type Store interface {
	// PendingOutbox returns up to limit unpublished records, oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]Record, error)
	// DeleteOutbox removes records once they are published.
	DeleteOutbox(ctx context.Context, ids []string) error
}

// Publisher is what the relay publishes with; *kafka.Producer is one.
type Publisher interface {
	Publish(ctx context.Context, msgs ...kafka.Message) error
}

// Relay moves records from a Store to Kafka. A record is deleted only after the broker
// acknowledged it; a crash in between re-sends it with the same ce_id, which consumers ignore.
type Relay struct {
	store     Store
	publisher Publisher
	log       *slog.Logger
	wake      chan struct{}

	// Interval is how often the relay looks for records when nobody called Notify.
	Interval time.Duration
	// BatchSize bounds how many records one round publishes.
	BatchSize int
}

// NewRelay returns a relay polling every 200 ms, and at once after Notify.
func NewRelay(store Store, publisher Publisher, log *slog.Logger) *Relay {
	return &Relay{store: store, publisher: publisher, log: log, wake: make(chan struct{}, 1), Interval: 200 * time.Millisecond, BatchSize: 100}
}

// Notify tells the relay new records were committed, so it publishes them without waiting for
// the next poll. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is cancelled.
func (r *Relay) Run(ctx context.Context) error {
	backoff := r.Interval
	for {
		n, err := r.relayOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Warn("outbox relay", "error", err)
			backoff = min(2*backoff, 5*time.Second)
		case n == r.BatchSize:
			continue // more may be waiting
		default:
			backoff = r.Interval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-time.After(backoff):
		}
	}
}

// relayOnce publishes one batch and reports how many records it moved.
func (r *Relay) relayOnce(ctx context.Context) (int, error) {
	records, err := r.store.PendingOutbox(ctx, r.BatchSize)
	if err != nil || len(records) == 0 {
		return 0, err
	}
	msgs := make([]kafka.Message, len(records))
	ids := make([]string, len(records))
	for i, rec := range records {
		msgs[i], ids[i] = rec.Message, rec.ID
	}
	if err := r.publisher.Publish(ctx, msgs...); err != nil {
		if kafka.IsPermanent(err) {
			return r.publishEach(ctx, records) // find and park the refused one (park.go)
		}
		return 0, err
	}
	return len(records), r.store.DeleteOutbox(ctx, ids)
}
