// Package outbox publishes the events a service stored in its outbox, in the same transaction as
// the state change that caused them, so that no event is lost and none is sent for a change that
// did not commit (no dual writes).
package outbox

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
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
	// PendingOutbox returns up to limit unpublished records, oldest first (a store that keeps
	// records in groups returns its last group whole, which may pass limit). A store that
	// several replicas share returns only records this process holds a Lease on, claiming
	// unclaimed and expired ones as it reads, so that two relays never publish the same record
	// while both live.
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
// Deleting a batch overlaps with publishing the next: the records being deleted are left out
// of what the relay reads meanwhile, so none is published twice while it runs.
type Relay struct {
	store     Store
	publisher Publisher
	log       *slog.Logger
	wake      chan struct{}
	deletes   chan []string

	mu       sync.Mutex
	deleting map[string]bool // published, their delete not yet committed

	// Interval is how often the relay looks for records when nobody called Notify.
	Interval time.Duration
	// BatchSize bounds how many records one round publishes.
	BatchSize int
}

// NewRelay returns a relay polling every 200 ms, and at once after Notify.
func NewRelay(store Store, publisher Publisher, log *slog.Logger) *Relay {
	return &Relay{store: store, publisher: publisher, log: log, wake: make(chan struct{}, 1), deletes: make(chan []string, 1),
		deleting: map[string]bool{}, Interval: 200 * time.Millisecond, BatchSize: 1000}
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
	ctx, cancel := context.WithCancel(ctx)
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		r.deleteLoop(ctx)
	}()
	defer func() {
		cancel()
		<-deleted
	}()
	backoff := r.Interval
	for {
		n, err := r.relayOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Warn("outbox relay", "error", err)
			backoff = min(2*backoff, 5*time.Second)
		case n >= r.BatchSize:
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

// relayOnce publishes one batch and hands it to the delete loop; it reports how many records
// it published.
func (r *Relay) relayOnce(ctx context.Context) (int, error) {
	// Taken before reading: a record whose delete commits after this is still left out, and
	// one deleted before it is not read.
	r.mu.Lock()
	skip := maps.Clone(r.deleting)
	r.mu.Unlock()
	records, err := r.store.PendingOutbox(ctx, r.BatchSize+len(skip))
	if err != nil {
		return 0, err
	}
	records = slices.DeleteFunc(records, func(rec Record) bool { return skip[rec.ID] })
	if len(records) == 0 {
		return 0, nil
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
	r.mu.Lock()
	for _, id := range ids {
		r.deleting[id] = true
	}
	r.mu.Unlock()
	select {
	case r.deletes <- ids: // waits while the delete loop is a batch behind
	case <-ctx.Done():
	}
	return len(records), nil
}

// deleteLoop deletes published batches in order, retrying a failed delete until it passes.
func (r *Relay) deleteLoop(ctx context.Context) {
	for {
		var ids []string
		select {
		case <-ctx.Done():
			return
		case ids = <-r.deletes:
		}
		for backoff := r.Interval; ; backoff = min(2*backoff, 5*time.Second) {
			err := r.store.DeleteOutbox(ctx, ids)
			if err == nil {
				break
			}
			r.log.Warn("outbox relay: delete published records", "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		r.mu.Lock()
		for _, id := range ids {
			delete(r.deleting, id)
		}
		r.mu.Unlock()
	}
}
