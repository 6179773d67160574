package kafka_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// lastSeen is the last value a consumer's callback reported.
type lastSeen[T any] struct {
	mu   sync.Mutex
	last T
}

func (l *lastSeen[T]) observe(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = v
}

func (l *lastSeen[T]) get() T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func TestTheConsumerReportsTheLagOfItsPartitions(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	producer := newProducer(t, brokers)
	release := make(chan struct{})
	handler := func(ctx context.Context, _ event.Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var seen lastSeen[kafka.Lag]
	stop := runConsumer(t, kafka.ConsumerConfig{Brokers: brokers, GroupID: "test", Topic: "orders", RetryFor: time.Minute,
		OnLag: seen.observe, LagInterval: 50 * time.Millisecond}, kafka.Handlers{event.TypeOrderCreate: handler}, producer)
	sum := func(l kafka.Lag) (n int64) {
		for _, v := range l {
			n += v
		}
		return n
	}
	for _, id := range []string{"tx-1", "tx-2"} {
		if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, id)}); err != nil {
			t.Fatal(err)
		}
	}
	// The only member owns every partition; two events are read and none is committed.
	eventually(t, "a lag of 2 over all partitions", func() bool {
		l := seen.get()
		return len(l) == kafka.DefaultPartitions && sum(l) == 2
	})
	close(release)
	eventually(t, "no lag once the events are committed", func() bool {
		l := seen.get()
		return len(l) == kafka.DefaultPartitions && sum(l) == 0
	})
	stop()
	if l := seen.get(); len(l) != 0 {
		t.Errorf("after leaving the group the consumer still reports %v", l)
	}
}

// TestConsumersReportTheirShareOfTheTopic runs two members of one group: each owns part of the
// topic's partitions and together all of them; once one leaves, the other owns them all.
func TestConsumersReportTheirShareOfTheTopic(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	producer := newProducer(t, brokers)
	handlers := kafka.Handlers{event.TypeOrderCreate: func(context.Context, event.Event) error { return nil }}
	member := func(seen *lastSeen[kafka.Share]) (stop func()) {
		return runConsumer(t, kafka.ConsumerConfig{Brokers: brokers, GroupID: "test", Topic: "orders",
			OnShare: seen.observe, LagInterval: 50 * time.Millisecond}, handlers, producer)
	}
	var first, second lastSeen[kafka.Share]
	stopFirst := member(&first)
	defer stopFirst()
	stopSecond := member(&second)
	eventually(t, "two members sharing every partition", func() bool {
		a, b := first.get(), second.get()
		return a.Of == kafka.DefaultPartitions && b.Of == kafka.DefaultPartitions &&
			a.Owned > 0 && b.Owned > 0 && a.Owned+b.Owned == kafka.DefaultPartitions
	})
	stopSecond()
	if s := second.get(); s != (kafka.Share{}) {
		t.Errorf("after leaving the group a member still reports %+v", s)
	}
	eventually(t, "the member left owning every partition", func() bool {
		return first.get() == kafka.Share{Owned: kafka.DefaultPartitions, Of: kafka.DefaultPartitions}
	})
}
