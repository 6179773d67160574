package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// TestARetryStallsOnlyThePartitionOfTheFailingEvent fails one key's events transiently (its
// store "down") with more of its events queued behind than a lane holds, then checks that the
// events of every other partition are applied meanwhile; once the failure clears, every event
// of the stalled key is applied exactly once, in order, and nothing reaches the DLT.
func TestARetryStallsOnlyThePartitionOfTheFailingEvent(t *testing.T) {
	const stuck, behind, others = "tx-stuck", 200, 60
	brokers := kafkatest.Start(t, "orders")
	producer := newProducer(t, brokers)

	var (
		down     atomic.Bool
		attempts atomic.Int32
		mu       sync.Mutex
		applied  = map[string]int{} // event id -> successful applications
		part     = map[string]int32{}
		order    []int
	)
	down.Store(true)
	handle := func(ctx context.Context, e event.Event) error {
		d, _ := kafka.DeliveryFrom(ctx)
		if e.Key == stuck && down.Load() {
			attempts.Add(1)
			mu.Lock()
			part[e.Key] = d.Partition
			mu.Unlock()
			return errors.New("store unavailable")
		}
		mu.Lock()
		defer mu.Unlock()
		// No dedup here: the consumer itself must hand each event over once (no rewind
		// happens within RetryFor).
		applied[e.ID]++
		part[e.Key] = d.Partition
		if e.Key == stuck {
			var seq int
			fmt.Sscan(e.ID[len("seq-"):], &seq)
			order = append(order, seq)
		}
		return nil
	}
	// RetryFor far beyond the test: the stalled event is retried in place throughout.
	cfg := kafka.ConsumerConfig{Brokers: brokers, GroupID: "stall", Topic: "orders", RetryFor: time.Hour,
		Backoff: kafka.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}}
	defer runConsumer(t, cfg, kafka.Handlers{event.TypeOrderCreate: handle}, producer)()

	publish := func(key string, id string) {
		e, err := event.New(event.TypeOrderCreate, "/test", key, map[string]any{"transactionId": key})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = id
		if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	// More events behind the failing one than its lane holds, so its partition fills up.
	var batch []kafka.Message
	for i := range behind {
		e, err := event.New(event.TypeOrderCreate, "/test", stuck, map[string]any{"transactionId": stuck})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = fmt.Sprintf("seq-%d", i)
		batch = append(batch, kafka.Message{Topic: "orders", Event: e})
	}
	if err := producer.Publish(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failing event retried", func() bool { return attempts.Load() >= 3 })
	mu.Lock()
	stalled := part[stuck]
	mu.Unlock()

	for i := range others {
		publish(fmt.Sprintf("tx-%d", i), fmt.Sprintf("other-%d", i))
	}
	// Every other key's event outside the stalled partition is applied while it stalls.
	// kgo's default partitioner hashes keys with murmur2, as the producer does.
	partitioner := kgo.StickyKeyPartitioner(nil).ForTopic("orders")
	partitionOf := func(key string) int32 {
		return int32(partitioner.Partition(&kgo.Record{Key: []byte(key)}, kafka.DefaultPartitions))
	}
	if partitionOf(stuck) != stalled {
		t.Fatalf("the test's partitioner puts %s on %d, the broker on %d", stuck, partitionOf(stuck), stalled)
	}
	elsewhere := 0
	eventually(t, "the other partitions' events applied while one partition stalls", func() bool {
		mu.Lock()
		defer mu.Unlock()
		elsewhere = 0
		for i := range others {
			if partitionOf(fmt.Sprintf("tx-%d", i)) == stalled {
				continue
			}
			elsewhere++
			if applied[fmt.Sprintf("other-%d", i)] == 0 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	if len(order) != 0 {
		t.Errorf("%d events of the failing key were applied before it", len(order))
	}
	for i := range others {
		if p, ok := part[fmt.Sprintf("tx-%d", i)]; ok && p != partitionOf(fmt.Sprintf("tx-%d", i)) {
			t.Errorf("tx-%d: applied from partition %d, the test expected %d", i, p, partitionOf(fmt.Sprintf("tx-%d", i)))
		}
	}
	mu.Unlock()
	if elsewhere == 0 {
		t.Fatal("no key outside the stalled partition; the test proves nothing")
	}

	down.Store(false)
	eventually(t, "every event applied once the failure clears", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(applied) == behind+others
	})
	mu.Lock()
	for i, seq := range order {
		if seq != i {
			t.Fatalf("the failing key's events were applied out of order: %v", order)
		}
	}
	for id, n := range applied {
		if n != 1 {
			t.Errorf("event %s applied %d times", id, n)
		}
	}
	mu.Unlock()
	if n := len(kafkatest.ReadAll(t, brokers, "orders.dlt")); n != 0 {
		t.Errorf("%d events dead-lettered by a transient failure", n)
	}
}
