package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/edmctl/dlt"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

const drain event.Type = "DRAIN" // a marker: once handled, everything before it on its partition was

// service stands for a consuming service: it applies ORDER_CREATE once per ce_id (as the
// services' inboxes do), rejecting it as poison while poison is set.
type service struct {
	poison  atomic.Bool
	mu      sync.Mutex
	seen    map[string]int // deliveries per ce_id, applied or not
	applied []event.Event
	drains  int
}

func (s *service) handlers() kafka.Handlers {
	return kafka.Handlers{
		event.TypeOrderCreate: func(_ context.Context, e event.Event) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.seen[e.ID]++
			if s.poison.Load() {
				return fmt.Errorf("%w: rejected until the switch is flipped", event.ErrInvalid)
			}
			for _, a := range s.applied {
				if a.ID == e.ID {
					return nil // a duplicate
				}
			}
			s.applied = append(s.applied, e)
			return nil
		},
		drain: func(context.Context, event.Event) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.drains++
			return nil
		},
	}
}

func (s *service) drained() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drains
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func edmctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func listJSON(t *testing.T, brokers, topic string) []dlt.Letter {
	t.Helper()
	out, err := edmctl(t, "dlt", "list", "-brokers", brokers, "-topic", topic, "-json")
	if err != nil {
		t.Fatalf("list: %v: %s", err, out)
	}
	var letters []dlt.Letter
	if err := json.Unmarshal([]byte(out), &letters); err != nil {
		t.Fatalf("list -json printed %q: %v", out, err)
	}
	return letters
}

// TestDeadLetterListAndReplay dead-letters an event through a real platform/kafka consumer,
// lists it, replays it while it is still poison (it comes back to the DLT once, not in a loop),
// then replays it after the fix (it is applied) and once more (nothing changes). It runs on kfake,
// and on the real broker too when KAFKA_BROKERS is set (`scripts/infra.sh env`).
func TestDeadLetterListAndReplay(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		listAndReplay(t, kafkatest.Start(t, "inventory"), "inventory", true)
	})
	t.Run("kafka", func(t *testing.T) {
		brokers := os.Getenv("KAFKA_BROKERS")
		if brokers == "" {
			t.Skip("KAFKA_BROKERS is not set")
		}
		topic := fmt.Sprintf("edmctl-%d", time.Now().UnixNano())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := kafka.EnsureTopics(ctx, brokers, 3, topic); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteTopics(t, brokers, topic, kafka.DeadLetterTopic(topic)) })
		listAndReplay(t, brokers, topic, false)
	})
}

func deleteTopics(t *testing.T, brokers string, topics ...string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Errorf("kgo client: %v", err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, topics...); err != nil {
		t.Errorf("delete topics %v: %v", topics, err)
	}
}

// listAndReplay is the scenario on brokers, with topic and its DLT already there. listAll also
// lists every DLT of the broker (only where the test owns the broker).
func listAndReplay(t *testing.T, brokers, topic string, listAll bool) {
	// A group of its own: on the shared broker, "inventory-service" is the real service's.
	group := fmt.Sprintf("edmctl-test-%d", time.Now().UnixNano())
	svc := &service{seen: map[string]int{}}
	svc.poison.Store(true)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	producer, err := kafka.NewProducer(brokers, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kafka.NewConsumer(kafka.ConsumerConfig{Brokers: brokers, GroupID: group, Topic: topic},
			svc.handlers(), producer, quiet).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consumer: %v", err)
		}
		producer.Close()
	})
	// settle produces a marker with the order's key and waits until the service handled it:
	// by then it has handled everything before it on the order's partition.
	settle := func() {
		t.Helper()
		want := svc.drained() + 1
		m, err := event.New(drain, "/test", "tx-1", map[string]int{"n": want})
		if err != nil {
			t.Fatal(err)
		}
		kafkatest.ProduceEvent(t, brokers, topic, m)
		eventually(t, "the drain marker", func() bool { return svc.drained() >= want })
	}

	order, err := event.New(event.TypeOrderCreate, "/order-service", "tx-1", event.OrderCreate{
		TransactionID: "tx-1", CustomerID: "c-1", Items: []event.Item{{SKU: "s", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.ProduceEvent(t, brokers, topic, order)
	settle()

	// list: the letter and where it came from.
	letters := listJSON(t, brokers, topic+".dlt")
	if len(letters) != 1 {
		t.Fatalf("%d letters, want 1: %+v", len(letters), letters)
	}
	first := letters[0]
	if first.ID != order.ID || first.Type != string(event.TypeOrderCreate) || first.Key != "tx-1" ||
		!strings.Contains(first.Reason, "rejected until the switch is flipped") || first.OriginalTopic != topic ||
		first.OriginalOffset != 0 || first.ConsumerGroup != group || first.ReplayOf != "" ||
		time.Since(first.Time) > time.Minute || first.Value != string(order.Data) {
		t.Fatalf("letter %+v", first)
	}
	args := []string{"dlt", "list", "-brokers", brokers, "-topic", topic} // as a table
	if listAll {
		args = args[:4] // every DLT
	}
	text, err := edmctl(t, args...)
	if err != nil || !strings.Contains(text, order.ID) || !strings.Contains(text, fmt.Sprintf("%s/%d/0", topic, first.OriginalPartition)) ||
		!strings.Contains(text, "rejected until the switch is flipped") {
		t.Fatalf("list printed %q, %v", text, err)
	}

	// Replayed while still poison: dead-lettered again exactly once, marked as a replay.
	if out, err := edmctl(t, "dlt", "replay", "-brokers", brokers, "-topic", topic, "-id", order.ID); err != nil || !strings.Contains(out, "1 replayed") {
		t.Fatalf("replay: %v: %s", err, out)
	}
	settle()
	settle() // a second marker: had the letter looped, it would be back again by now
	letters = listJSON(t, brokers, topic)
	if len(letters) != 2 || letters[1].ID != order.ID || letters[1].ReplayOf != first.Position() ||
		letters[1].OriginalPartition != first.OriginalPartition || letters[1].OriginalOffset <= first.OriginalOffset {
		t.Fatalf("after a replay of poison: %+v, want the first letter and one replay of it", letters)
	}

	// Fixed, then replay -all: the latest letter of the ce_id is replayed, once, and applied.
	svc.poison.Store(false)
	if out, err := edmctl(t, "dlt", "replay", "-brokers", brokers, "-topic", topic+".dlt", "-all"); err != nil || !strings.Contains(out, "1 replayed") {
		t.Fatalf("replay -all: %v: %s", err, out)
	}
	settle()
	// Replaying the same letter again changes nothing: the service sees the ce_id again.
	if out, err := edmctl(t, "dlt", "replay", "-brokers", brokers, "-topic", topic, "-id", order.ID); err != nil {
		t.Fatalf("second replay: %v: %s", err, out)
	}
	settle()
	svc.mu.Lock()
	applied, seen := svc.applied, svc.seen[order.ID]
	svc.mu.Unlock()
	if len(applied) != 1 || applied[0].ID != order.ID || applied[0].Key != order.Key || !bytes.Equal(applied[0].Data, order.Data) ||
		applied[0].Type != order.Type || applied[0].Source != order.Source || !applied[0].Time.Equal(order.Time) {
		t.Fatalf("applied %+v, want the original event once", applied)
	}
	if seen != 4 {
		t.Fatalf("the service saw the event %d times, want 4 (original and three replays)", seen)
	}
	if n := len(listJSON(t, brokers, topic)); n != 2 {
		t.Fatalf("%d letters after the successful replays, want still 2", n)
	}
	// What went back to the topic: the original headers plus the replay mark, no dlt_* ones.
	var replays int
	for _, r := range kafkatest.ReadAll(t, brokers, topic) {
		if r.Headers["ce_id"] != order.ID {
			continue
		}
		for k := range r.Headers {
			if strings.HasPrefix(k, "dlt_") {
				t.Fatalf("replayed message carries %s: %v", k, r.Headers)
			}
		}
		if from := r.Headers[kafka.HeaderReplayedFrom]; from != "" {
			replays++
			if r.Key != "tx-1" || !bytes.Equal(r.Value, order.Data) || r.Headers["ce_type"] != string(event.TypeOrderCreate) ||
				(from != first.Position() && from != letters[1].Position()) {
				t.Fatalf("replayed message %+v", r)
			}
		}
	}
	if replays != 3 {
		t.Fatalf("%d replayed messages on %s, want 3", replays, topic)
	}

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name      string
			args      []string
			wantUsage bool
			want      error // when not a usage error, what the error matches; nil for any
		}{
			{"no command", nil, true, nil},
			{"unknown command", []string{"dlt", "purge"}, true, nil},
			{"not dlt", []string{"topics", "list"}, true, nil},
			{"replay without a letter", []string{"dlt", "replay", "-brokers", brokers, "-topic", topic}, true, nil},
			{"replay with -id and -all", []string{"dlt", "replay", "-brokers", brokers, "-topic", topic, "-id", "x", "-all"}, true, nil},
			{"replay without a topic", []string{"dlt", "replay", "-brokers", brokers, "-all"}, true, nil},
			{"unknown flag", []string{"dlt", "list", "-nope"}, true, nil},
			{"unknown ce_id", []string{"dlt", "replay", "-brokers", brokers, "-topic", topic, "-id", "nope"}, false, dlt.ErrNotFound},
			{"unknown topic", []string{"dlt", "list", "-brokers", brokers, "-topic", "nowhere", "-timeout", "10s"}, false, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := edmctl(t, tt.args...)
				if errors.Is(err, errUsage) != tt.wantUsage || err == nil {
					t.Fatalf("err = %v, want usage error %v: %s", err, tt.wantUsage, out)
				}
				if tt.wantUsage && !strings.Contains(strings.ToLower(out), "usage") {
					t.Fatalf("printed %q, want the usage", out)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			})
		}
	})
}

// TestReplayAllSkipsStandInsAndSupersededLetters puts on a DLT a stand-in letter and a letter
// without a ce_id. replay -all replays the second and reports the first instead of refusing
// everything; when the replayed event fails again, its new letter supersedes the old one, so
// the next replay -all sends it once, not twice.
func TestReplayAllSkipsStandInsAndSupersededLetters(t *testing.T) {
	brokers := kafkatest.Start(t, "inventory")
	const letters = "inventory.dlt"
	kafkatest.Produce(t, brokers, letters, "tx-1", nil, map[string]string{kafka.HeaderDLTTopic: "inventory",
		kafka.HeaderDLTPartition: "0", kafka.HeaderDLTOffset: "5", kafka.HeaderDLTReason: "too large", kafka.HeaderDLTOmitted: "999502"})
	poison := map[string]string{kafka.HeaderDLTTopic: "inventory", kafka.HeaderDLTReason: "no ce_id header"}
	kafkatest.Produce(t, brokers, letters, "tx-2", []byte("poison"), poison)
	replayAll := func() string {
		t.Helper()
		out, err := edmctl(t, "dlt", "replay", "-brokers", brokers, "-topic", letters, "-all")
		if err != nil {
			t.Fatalf("replay -all: %v: %s", err, out)
		}
		return out
	}
	if out := replayAll(); !strings.Contains(out, "skipped inventory.dlt/") || !strings.Contains(out, "inventory/0/5") || !strings.Contains(out, "1 replayed") {
		t.Fatalf("replay -all printed %q, want the stand-in skipped and one letter replayed", out)
	}
	var from string
	for _, l := range listJSON(t, brokers, letters) {
		if l.Key == "tx-2" {
			from = l.Position()
		}
	}
	poison[kafka.HeaderReplayedFrom] = from // dead-lettered again, as a consumer marks it
	kafkatest.Produce(t, brokers, letters, "tx-2", []byte("poison"), poison)
	if out := replayAll(); !strings.Contains(out, "1 replayed") {
		t.Fatalf("second replay -all printed %q, want only the newest letter of tx-2 replayed", out)
	}
	if n := len(kafkatest.ReadAll(t, brokers, "inventory")); n != 2 {
		t.Fatalf("%d records replayed to inventory, want 2 (one per replay)", n)
	}
}
