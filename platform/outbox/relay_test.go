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

// slowDeleteStore holds its deletes until released, so the relay publishes the next records
// while the first batch's delete is still running.
type slowDeleteStore struct {
	memoryStore
	release chan struct{}
}

func (s *slowDeleteStore) DeleteOutbox(ctx context.Context, ids []string) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.memoryStore.DeleteOutbox(ctx, ids)
}

func TestRelayPublishesOnWhileABatchIsDeletedAndNeverTwice(t *testing.T) {
	store := &slowDeleteStore{release: make(chan struct{})}
	add := func(ids ...string) {
		store.mu.Lock()
		defer store.mu.Unlock()
		for _, id := range ids {
			store.records = append(store.records, outbox.Record{ID: id, Message: kafka.Message{Topic: "t", Event: event.Event{ID: id}}})
		}
	}
	add("a", "b")
	pub := &flakyPublisher{}
	relay := outbox.NewRelay(store, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	relay.Interval, relay.BatchSize = time.Millisecond, 2
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- relay.Run(ctx) }()
	published := func() []string {
		pub.mu.Lock()
		defer pub.mu.Unlock()
		return slices.Clone(pub.published)
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(published()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("published %v, want %d records", published(), n)
			}
			relay.Notify()
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(2)    // a and b published, their delete held
	add("c", "d") // the next batch goes out before a and b are deleted
	waitFor(4)
	for range 20 { // more rounds while both deletes are held: nothing is sent again
		relay.Notify()
		time.Sleep(time.Millisecond)
	}
	close(store.release)
	deadline := time.Now().Add(10 * time.Second)
	for store.len() > 0 && time.Now().Before(deadline) {
		relay.Notify()
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(published(), want) || store.len() != 0 {
		t.Errorf("published %v with %d records left, want %v and none", published(), store.len(), want)
	}
}
