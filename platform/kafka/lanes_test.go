package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// TestEventsOfAKeyAreAppliedInOrderWhileKeysRunConcurrently publishes a numbered sequence of
// events for each of many keys, fails some of them transiently (some long enough that the
// consumer rewinds the partition), and checks that every key's events were first applied in
// their order and that, once the consumer has stopped, the group's committed offsets are the
// ends of the partitions: nothing skipped, nothing committed past an unfinished event.
func TestEventsOfAKeyAreAppliedInOrderWhileKeysRunConcurrently(t *testing.T) {
	const keys, perKey = 24, 10
	brokers := kafkatest.Start(t, "orders")
	producer := newProducer(t, brokers)

	var (
		mu                    sync.Mutex
		next                  = map[string]int{} // the sequence number each key expects next
		failures              = map[string]int{}
		inFlight, maxInFlight int
	)
	handle := func(ctx context.Context, e event.Event) error {
		var p struct{ Seq int }
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for the lanes to overlap
		mu.Lock()
		defer mu.Unlock()
		inFlight--
		id := fmt.Sprintf("%s/%d", e.Key, p.Seq)
		// Every 5th event fails twice (retried in place), every 7th fails 4 times (past
		// RetryFor's attempts, so its partition is rewound).
		if (p.Seq%5 == 4 && failures[id] < 2) || (p.Seq%7 == 6 && failures[id] < 4) {
			failures[id]++
			return errors.New("store unavailable")
		}
		switch {
		case p.Seq < next[e.Key]:
			return nil // a redelivery after a rewind: already applied
		case p.Seq > next[e.Key]:
			t.Errorf("key %s: event %d applied before event %d", e.Key, p.Seq, next[e.Key])
		}
		next[e.Key] = p.Seq + 1
		return nil
	}
	cfg := kafka.ConsumerConfig{Brokers: brokers, GroupID: "lanes", Topic: "orders", RetryFor: 100 * time.Millisecond}
	stop := runConsumer(t, cfg, kafka.Handlers{event.TypeOrderCreate: handle}, producer)

	var msgs []kafka.Message
	for seq := range perKey {
		for k := range keys {
			key := fmt.Sprintf("tx-%d", k)
			e, err := event.New(event.TypeOrderCreate, "/test", key, map[string]any{"transactionId": key, "seq": seq})
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Topic: "orders", Event: e})
		}
	}
	if err := producer.Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every event applied", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for k := range keys {
			if next[fmt.Sprintf("tx-%d", k)] != perKey {
				return false
			}
		}
		return true
	})
	stop()
	if maxInFlight < 2 {
		t.Errorf("at most %d events were applied at once, want concurrency", maxInFlight)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(context.Background(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(context.Background(), "lanes")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(end kadm.ListedOffset) {
		c, ok := committed.Lookup("orders", end.Partition)
		if end.Offset > 0 && (!ok || c.At != end.Offset) {
			t.Errorf("partition %d: committed %d, want the end %d", end.Partition, c.At, end.Offset)
		}
	})
}
