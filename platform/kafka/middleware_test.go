package kafka_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

func TestChainRunsTheFirstMiddlewareOutermost(t *testing.T) {
	var order []string
	mw := func(name string) kafka.Middleware {
		return func(next kafka.Handler) kafka.Handler {
			return func(ctx context.Context, e event.Event) error {
				order = append(order, name+" in")
				err := next(ctx, e)
				order = append(order, name+" out")
				return err
			}
		}
	}
	h := kafka.Chain(func(context.Context, event.Event) error { order = append(order, "handler"); return nil }, mw("a"), mw("b"))
	if err := h(context.Background(), event.Event{}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a in", "b in", "handler", "b out", "a out"}; !slices.Equal(order, want) {
		t.Errorf("ran %v, want %v", order, want)
	}
}

func TestMarkDuplicate(t *testing.T) {
	cases := []struct {
		name string
		mark bool
	}{{"marked", true}, {"not marked", false}}
	for _, c := range cases {
		ctx, duplicate := kafka.TrackDuplicate(context.Background())
		if c.mark {
			kafka.MarkDuplicate(ctx)
		}
		if duplicate() != c.mark {
			t.Errorf("%s: duplicate() = %v", c.name, duplicate())
		}
	}
	kafka.MarkDuplicate(context.Background()) // outside TrackDuplicate: nothing to hear it, no panic
}

// TestConsumerMiddlewareSeesTheDeliveryAndDeadLettersAreReported checks the consumer's hooks:
// middleware runs around the handler with the message's delivery (trace headers included) in
// its context, and OnDeadLetter hears of every dead letter, also one that never decoded.
func TestConsumerMiddlewareSeesTheDeliveryAndDeadLettersAreReported(t *testing.T) {
	brokers := kafkatest.Start(t, "orders")
	var (
		mu         sync.Mutex
		deliveries []kafka.Delivery
		dead       []kafka.Delivery
	)
	producer := newProducer(t, brokers)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kafka.NewConsumer(kafka.ConsumerConfig{
			Brokers: brokers, GroupID: "test", Topic: "orders",
			Middleware: []kafka.Middleware{func(next kafka.Handler) kafka.Handler {
				return func(ctx context.Context, e event.Event) error {
					d, _ := kafka.DeliveryFrom(ctx)
					mu.Lock()
					deliveries = append(deliveries, d)
					mu.Unlock()
					return next(ctx, e)
				}
			}},
			OnDeadLetter: func(ctx context.Context) {
				d, _ := kafka.DeliveryFrom(ctx)
				mu.Lock()
				dead = append(dead, d)
				mu.Unlock()
			},
		}, kafka.Handlers{event.TypeOrderCreate: func(context.Context, event.Event) error { return nil }}, producer, quiet).Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	sent := newEvent(t, event.TypeOrderCreate, "tx-1")
	if err := producer.Publish(context.Background(), kafka.Message{Topic: "orders", Event: sent, TraceParent: traceparent, TraceState: "v=1"}); err != nil {
		t.Fatal(err)
	}
	kafkatest.Produce(t, brokers, "orders", "tx-2", []byte("{not json"), map[string]string{"ce_type": "ORDER_CREATE"})
	eventually(t, "the event and the dead letter", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(deliveries) == 1 && len(dead) == 1
	})
	d := deliveries[0]
	if d.Topic != "orders" || d.Group != "test" || d.Key != "tx-1" || d.ID() != sent.ID || d.Type() != "ORDER_CREATE" ||
		d.Headers["traceparent"] != traceparent || d.Headers["tracestate"] != "v=1" {
		t.Errorf("delivery %+v", d)
	}
	if dead[0].Key != "tx-2" || dead[0].Type() != "ORDER_CREATE" {
		t.Errorf("dead letter delivery %+v", dead[0])
	}
}
