package outbox_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// parkingStore is a memoryStore that can park records.
type parkingStore struct {
	memoryStore
	parked map[string]string // id -> reason
}

func (s *parkingStore) ParkOutbox(_ context.Context, id, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parked[id] = reason
	s.records = slices.DeleteFunc(s.records, func(r outbox.Record) bool { return r.ID == id })
	return nil
}

// TestRelayParksARecordTheBrokerRefusesAndPublishesTheRest publishes through a real producer to
// a broker: a record over the message size limit is parked with its reason, and the records
// before and after it are published, in order.
func TestRelayParksARecordTheBrokerRefusesAndPublishesTheRest(t *testing.T) {
	brokers := kafkatest.Start(t, "t")
	producer, err := kafka.NewProducer(brokers, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(producer.Close)
	huge, _ := json.Marshal(map[string]string{"transactionId": "tx-big", "blob": strings.Repeat("x", 2<<20)})
	store := &parkingStore{parked: map[string]string{}}
	for _, id := range []string{"a", "big", "c", "d"} {
		e := event.Event{ID: id, Type: event.TypeOrderCreate, Source: "/test", Time: time.Now(), Key: "tx-" + id, Data: json.RawMessage(`{}`)}
		if id == "big" {
			e.Data = huge
		}
		store.records = append(store.records, outbox.Record{ID: id, Message: kafka.Message{Topic: "t", Event: e}})
	}
	relay := outbox.NewRelay(store, producer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	relay.Interval = 5 * time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- relay.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); store.len() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.len() != 0 {
		t.Fatalf("%d records left in the outbox", store.len())
	}
	if reason := store.parked["big"]; len(store.parked) != 1 || !strings.Contains(strings.ToLower(reason), "too large") {
		t.Fatalf("parked %v, want only big, as too large", store.parked)
	}
	var keys []string
	for _, rec := range kafkatest.ReadAll(t, brokers, "t") {
		keys = append(keys, rec.Key)
	}
	slices.Sort(keys) // one key per record, so partitions may interleave them
	if !slices.Equal(slices.Compact(keys), []string{"tx-a", "tx-c", "tx-d"}) {
		t.Errorf("published %v, want tx-a, tx-c and tx-d", keys)
	}
}

func TestIsPermanent(t *testing.T) {
	// The transient failures of the other relay test are not permanent.
	if kafka.IsPermanent(context.DeadlineExceeded) || kafka.IsPermanent(io.EOF) {
		t.Error("a plain error counted as a refusal for good")
	}
}
