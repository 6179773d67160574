package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// received collects what a consumer's handler saw.
type received struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *received) handle(_ context.Context, e event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *received) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.ID)
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startConsumer(t *testing.T, brokers, topic string, h kafka.Handlers) *kafka.Producer {
	t.Helper()
	producer := newProducer(t, brokers)
	t.Cleanup(runConsumer(t, kafka.ConsumerConfig{Brokers: brokers, GroupID: "test", Topic: topic}, h, producer)) // before the producer's Close
	return producer
}

// newProducer returns a producer on brokers that is closed when the test ends, after the
// consumers the test stopped with defer or a later Cleanup.
func newProducer(tb testing.TB, brokers string) *kafka.Producer {
	tb.Helper()
	producer, err := kafka.NewProducer(brokers, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(producer.Close)
	return producer
}

// runConsumer runs a consumer until stop, which waits for it to end and reports its error.
func runConsumer(t *testing.T, cfg kafka.ConsumerConfig, h kafka.Handlers, dlt *kafka.Producer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kafka.NewConsumer(cfg, h, dlt, quiet).Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consumer: %v", err)
		}
	}
}

func newEvent(t *testing.T, typ event.Type, txID string) event.Event {
	t.Helper()
	e, err := event.New(typ, "/test", txID, map[string]string{"transactionId": txID})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPublishedEventsReachTheHandlerWithTheirAttributes(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	var got received
	producer := startConsumer(t, brokers, "orders", kafka.Handlers{event.TypeOrderCreate: got.handle})

	sent := newEvent(t, event.TypeOrderCreate, "tx-1")
	if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: sent}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event", func() bool { return len(got.ids()) == 1 })
	e := got.events[0]
	if e.ID != sent.ID || e.Type != sent.Type || e.Source != "/test" || e.Key != "tx-1" || string(e.Data) != string(sent.Data) || !e.Time.Equal(sent.Time) {
		t.Errorf("received %+v, sent %+v", e, sent)
	}
	recs := kafkatest.ReadAll(t, brokers, "orders")
	want := map[string]string{"ce_specversion": "1.0", "ce_id": sent.ID, "ce_type": "ORDER_CREATE", "ce_source": "/test", "content-type": "application/json"}
	for k, v := range want {
		if recs[0].Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, recs[0].Headers[k], v)
		}
	}
	if recs[0].Headers["ce_time"] == "" {
		t.Error("ce_time header is missing")
	}
}

// validHeaders returns the CloudEvents headers of a valid ORDER_CREATE with ce_id "id-1", a new
// map each time.
func validHeaders() map[string]string {
	return map[string]string{"ce_specversion": "1.0", "ce_id": "id-1", "ce_type": "ORDER_CREATE", "ce_source": "/test", "content-type": "application/json"}
}

func TestUnprocessableMessagesGoToTheDeadLetterTopicAndTheConsumerMovesOn(t *testing.T) {
	valid := validHeaders()
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range valid {
			h[hk] = hv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	cases := []struct {
		name    string
		key     string
		value   string
		headers map[string]string
	}{
		{"value is not JSON", "tx", "{not json", valid},
		{"no ce_type header", "tx", "{}", with("ce_type", "")},
		{"no ce_id header", "tx", "{}", with("ce_id", "")},
		{"wrong spec version", "tx", "{}", with("ce_specversion", "0.3")},
		{"unknown event type", "tx", "{}", with("ce_type", "SOMETHING_ELSE")},
		{"no key", "", "{}", valid},
		{"handler says invalid", "tx", `{"poison":true}`, valid},
		{"handler panics", "tx", `{"panic":true}`, valid},
	}
	brokers := kafkatest.Start(t, "orders")
	var got received
	startConsumer(t, brokers, "orders", kafka.Handlers{event.TypeOrderCreate: func(ctx context.Context, e event.Event) error {
		switch string(e.Data) {
		case `{"poison":true}`:
			return errors.Join(event.ErrInvalid, errors.New("poison"))
		case `{"panic":true}`:
			var m map[string]int
			m["boom"]++ // a bug: assignment to a nil map
		}
		return got.handle(ctx, e)
	}})
	for _, c := range cases {
		kafkatest.Produce(t, brokers, "orders", c.key, []byte(c.value), c.headers)
	}
	// A good event after all the bad ones still gets through.
	kafkatest.Produce(t, brokers, "orders", "tx-good", []byte(`{}`), with("ce_id", "good"))
	eventually(t, "the good event", func() bool { return len(got.ids()) == 1 })

	var dead []kafkatest.Record
	eventually(t, "every bad message in the DLT", func() bool {
		dead = kafkatest.ReadAll(t, brokers, "orders.dlt")
		return len(dead) == len(cases)
	})
	for _, d := range dead {
		if d.Headers[kafka.HeaderDLTReason] == "" || d.Headers[kafka.HeaderDLTTopic] != "orders" || d.Headers[kafka.HeaderDLTOffset] == "" {
			t.Errorf("dead letter %q lacks its reason or origin: %v", d.Value, d.Headers)
		}
		if string(d.Value) == `{"panic":true}` && !strings.Contains(d.Headers[kafka.HeaderDLTReason], "ORDER_CREATE handler panicked: assignment to entry in nil map") {
			t.Errorf("the panicking event's reason is %q, want the panic", d.Headers[kafka.HeaderDLTReason])
		}
	}
}

// TestADeadLetterTooLargeForItsTopicIsReplacedByAStandIn: an unprocessable message near the
// broker's size limit, with a handler's reason quoting it at length, does not hold its
// partition: its reason is cut to a kilobyte, and when the copy with the dead-letter headers no
// longer fits, a stand-in letter names the original and its size instead. The next event of the
// same key is applied.
func TestADeadLetterTooLargeForItsTopicIsReplacedByAStandIn(t *testing.T) {
	valid := validHeaders()
	brokers := kafkatest.Start(t, "orders")
	var got received
	startConsumer(t, brokers, "orders", kafka.Handlers{event.TypeOrderCreate: func(ctx context.Context, e event.Event) error {
		if len(e.Data) > 1000 {
			return fmt.Errorf("%w: reason quoting the event: %s", event.ErrInvalid, e.Data[:5000])
		}
		return got.handle(ctx, e)
	}})
	fits := `"` + strings.Repeat("a", 100_000) + `"`
	tooLarge := `"` + strings.Repeat("b", 999_500) + `"` // fits alone; not with the dead-letter headers
	kafkatest.Produce(t, brokers, "orders", "tx", []byte(fits), valid)
	kafkatest.Produce(t, brokers, "orders", "tx", []byte(tooLarge), valid)
	good := validHeaders()
	good["ce_id"] = "good"
	kafkatest.Produce(t, brokers, "orders", "tx", []byte(`{}`), good)
	eventually(t, "the good event behind the large ones", func() bool { return len(got.ids()) == 1 })

	var dead []kafkatest.Record
	eventually(t, "both large events in the DLT", func() bool {
		dead = kafkatest.ReadAll(t, brokers, "orders.dlt")
		return len(dead) == 2
	})
	for _, d := range dead {
		if reason := d.Headers[kafka.HeaderDLTReason]; len(reason) > 1024 || !strings.HasSuffix(reason, " bytes in all)") {
			t.Errorf("dead letter's reason is %d bytes, ending %q; want it cut to 1 KiB", len(reason), reason[max(len(reason)-40, 0):])
		}
	}
	if d := dead[0]; len(d.Value) != len(fits) || d.Headers[kafka.HeaderDLTOmitted] != "" || d.Headers["ce_id"] != "id-1" {
		t.Errorf("first letter: %d bytes of value, omitted %q, ce_id %q; want the whole copy", len(d.Value), d.Headers[kafka.HeaderDLTOmitted], d.Headers["ce_id"])
	}
	if d := dead[1]; len(d.Value) != 0 || d.Headers[kafka.HeaderDLTOmitted] != strconv.Itoa(len(tooLarge)) || d.Key != "tx" ||
		d.Headers[kafka.HeaderDLTTopic] != "orders" || d.Headers[kafka.HeaderDLTOffset] != "1" {
		t.Errorf("stand-in letter: %d bytes of value, key %q, headers %v; want no value, the original's size, key and offset", len(d.Value), d.Key, d.Headers)
	}
}

// TestTruncateCutsOnACharacterBoundary: reasons are cut to the limit with their length, never
// inside a UTF-8 character.
func TestTruncateCutsOnACharacterBoundary(t *testing.T) {
	cases := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short enough", "abc", 10, "abc"},
		{"exactly the limit", "abcdefghij", 10, "abcdefghij"},
		{"cut with its length", strings.Repeat("x", 40), 30, "xxxxxxxxx... (40 bytes in all)"},
		{"not inside a character", strings.Repeat("é", 20), 30, "éééé... (40 bytes in all)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := kafka.Truncate(c.in, c.n)
			if got != c.want || len(got) > c.n || !utf8.ValidString(got) {
				t.Errorf("truncate(%d bytes, %d) = %q (%d bytes), want %q", len(c.in), c.n, got, len(got), c.want)
			}
		})
	}
}

func TestTransientHandlerErrorsAreRetriedUntilTheyPass(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	var calls atomic.Int32
	var got received
	producer := startConsumer(t, brokers, "orders", kafka.Handlers{event.TypeOrderCreate: func(ctx context.Context, e event.Event) error {
		if calls.Add(1) < 3 {
			return errors.New("store unavailable")
		}
		return got.handle(ctx, e)
	}})
	if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, "tx-1")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event after retries", func() bool { return len(got.ids()) == 1 })
	if n := len(kafkatest.ReadAll(t, brokers, "orders.dlt")); n != 0 {
		t.Errorf("%d transient failures were dead-lettered", n)
	}
}

func TestEnsureTopicsIsIdempotent(t *testing.T) {
	brokers := kafkatest.Start(t)
	for range 2 {
		if err := kafka.EnsureTopics(context.Background(), brokers, 3, "a", "b"); err != nil {
			t.Fatal(err)
		}
	}
	producer := newProducer(t, brokers)
	for _, topic := range []string{"a", "a.dlt", "b", "b.dlt"} {
		if err := producer.Publish(context.Background(), kafka.Message{Topic: topic, Event: newEvent(t, event.TypeOrderCreate, "tx")}); err != nil {
			t.Errorf("publish to %s: %v", topic, err)
		}
	}
}

func TestProducerRecoversFromAFatalError(t *testing.T) {
	cluster := kafkatest.StartCluster(t, "orders")
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	producer := newProducer(t, brokers)
	// The broker answers the next produce with OUT_OF_ORDER_SEQUENCE_NUMBER, which an
	// idempotent librdkafka producer cannot recover from.
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		return refuseProduce(req, kerr.OutOfOrderSequenceNumber.Code), nil, true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg := kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, "tx-1")}
	if err := producer.Publish(ctx, msg); err == nil {
		t.Fatal("publish succeeded although the broker rejected it")
	}
	// The control hook answered once; the next publish must go through a fresh producer.
	eventually(t, "a publish after the fatal error", func() bool { return producer.Publish(ctx, msg) == nil })
}

// producerOfARefusingBroker starts a broker with the topic orders that answers every produce
// with a retriable error, as one still coming back after a restart does, until accept is
// called; and a producer whose messages time out after 1 s in front of it.
func producerOfARefusingBroker(t *testing.T) (producer *kafka.Producer, accept func()) {
	kafka.SetMessageTimeout(t, time.Second)
	cluster := kafkatest.StartCluster(t, "orders")
	producer = newProducer(t, strings.Join(cluster.ListenAddrs(), ","))
	var accepting atomic.Bool
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if accepting.Load() {
			return nil, nil, false
		}
		cluster.KeepControl()
		return refuseProduce(req, kerr.NotEnoughReplicas.Code), nil, true
	})
	return producer, func() { accepting.Store(true) }
}

func TestProducerIsReplacedAfterAMessageTimedOut(t *testing.T) {
	// The broker refuses until the first message has timed out.
	producer, accept := producerOfARefusingBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := kafka.LiveGeneration(producer)
	msg := kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, "tx-1")}
	err := producer.Publish(ctx, msg)
	var kafkaErr ckafka.Error
	if !errors.As(err, &kafkaErr) || kafkaErr.Code() != ckafka.ErrMsgTimedOut {
		t.Fatalf("publish while the broker refused: got %v, want a timed-out message", err)
	}
	// The next producer gets the usual timeout: it must not fail merely because it connects
	// slowly on a busy machine.
	kafka.SetMessageTimeout(t, time.Minute)
	accept()
	if err := producer.Publish(ctx, msg); err != nil {
		t.Fatalf("publish after the timeout: %v", err)
	}
	if kafka.LiveGeneration(producer) == before {
		t.Error("the producer whose message timed out still publishes; want a new one")
	}
}

// TestProducerIsReplacedAfterAMessageTimedOutWhoseCallerGaveUp: a caller whose deadline is
// shorter than message.timeout.ms (payment-service publishes within a handler's 10 s, against
// 60 s) returns before its message times out; the timeout must still retire the producer, or
// one stuck after a broker restart stays in use for good.
func TestProducerIsReplacedAfterAMessageTimedOutWhoseCallerGaveUp(t *testing.T) {
	producer, accept := producerOfARefusingBroker(t)
	before := kafka.LiveGeneration(producer)
	msg := kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, "tx-1")}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := producer.Publish(ctx, msg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish while the broker refused, with a deadline before the message timeout: %v, want the deadline", err)
	}
	// The broker refuses until the abandoned message has timed out (after 1 s).
	eventually(t, "the producer whose abandoned message timed out retired", func() bool { return kafka.LiveGenerationRetired(producer) })
	kafka.SetMessageTimeout(t, time.Minute) // the next producer connects at the usual pace
	accept()
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := producer.Publish(ctx, msg); err != nil {
		t.Fatalf("publish after the timeout: %v", err)
	}
	if kafka.LiveGeneration(producer) == before {
		t.Error("the producer whose abandoned message timed out still publishes; want a new one")
	}
}

// refuseProduce answers a produce request with code for every partition it names.
func refuseProduce(req kmsg.Request, code int16) kmsg.Response {
	produce := req.(*kmsg.ProduceRequest)
	resp := produce.ResponseKind().(*kmsg.ProduceResponse)
	for _, topic := range produce.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = topic.Topic
		for _, part := range topic.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = part.Partition
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func TestAnEventNotYetAppliedIsReadAgainByTheNextConsumer(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	producer := newProducer(t, brokers)
	run := func(h kafka.Handler) (stop func()) {
		cfg := kafka.ConsumerConfig{Brokers: brokers, GroupID: "restart", Topic: "orders", RetryFor: 100 * time.Millisecond}
		return runConsumer(t, cfg, kafka.Handlers{event.TypeOrderCreate: h}, producer)
	}

	// The first consumer applies the first event, then its store keeps failing on the second.
	var attempts atomic.Int32
	var first received
	stop := run(func(ctx context.Context, e event.Event) error {
		if e.Key == "tx-1" {
			return first.handle(ctx, e)
		}
		attempts.Add(1)
		return errors.New("store unavailable")
	})
	for _, tx := range []string{"tx-1", "tx-2"} {
		if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: newEvent(t, event.TypeOrderCreate, tx)}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the second event to be tried a few times", func() bool { return attempts.Load() >= 3 })
	stop()

	// The next consumer of the group gets the unapplied event, and not the applied one.
	var second received
	stop = run(second.handle)
	defer stop()
	eventually(t, "the unapplied event", func() bool { return len(second.ids()) >= 1 })
	if ids := second.ids(); ids[0] != event.IDFor("tx-2", event.TypeOrderCreate) {
		t.Errorf("the next consumer read %v first, want tx-2's event", ids)
	}
	if len(first.ids()) != 1 {
		t.Errorf("the first consumer applied %d events, want 1", len(first.ids()))
	}
}
