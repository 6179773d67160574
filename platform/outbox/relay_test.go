package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// memoryStore is an outbox held in a slice; the relay's logic needs nothing more.
type memoryStore struct {
	mu      sync.Mutex
	records []outbox.Record
}

func (s *memoryStore) PendingOutbox(_ context.Context, limit int) ([]outbox.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records[:min(limit, len(s.records))]), nil
}

func (s *memoryStore) DeleteOutbox(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = slices.DeleteFunc(s.records, func(r outbox.Record) bool { return slices.Contains(ids, r.ID) })
	return nil
}

func (s *memoryStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// flakyPublisher fails its first failures calls, then records what it publishes.
type flakyPublisher struct {
	mu        sync.Mutex
	failures  int
	published []string
}

func (p *flakyPublisher) Publish(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures > 0 {
		p.failures--
		return errors.New("broker down")
	}
	for _, m := range msgs {
		p.published = append(p.published, m.Event.ID)
	}
	return nil
}

func TestRelayPublishesInOrderAndDeletesOnlyAfterPublishing(t *testing.T) {
	store := &memoryStore{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		store.records = append(store.records, outbox.Record{ID: id, Message: kafka.Message{Topic: "t", Event: event.Event{ID: id}}})
	}
	pub := &flakyPublisher{failures: 2}
	relay := outbox.NewRelay(store, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	relay.Interval, relay.BatchSize = time.Millisecond, 2

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- relay.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for store.len() > 0 && time.Now().Before(deadline) {
		relay.Notify()
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.len() != 0 {
		t.Fatalf("%d records left in the outbox", store.len())
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(pub.published, want) {
		t.Errorf("published %v, want %v", pub.published, want)
	}
}
