package kafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// BenchmarkEventHop measures one saga hop: publish an event, wait for the acknowledgement, and
// wait until the consumer's handler has it. The target is well under 5 ms per hop on kfake.
func BenchmarkEventHop(b *testing.B) {
	brokers := kafkatest.Start(b, "hop")
	got := make(chan struct{}, 1)
	producer := newProducer(b, brokers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go kafka.NewConsumer(kafka.ConsumerConfig{Brokers: brokers, GroupID: "bench", Topic: "hop"}, kafka.Handlers{
		event.TypeOrderCreate: func(context.Context, event.Event) error { got <- struct{}{}; return nil },
	}, producer, quiet).Run(ctx)

	e, err := event.New(event.TypeOrderCreate, "/bench", "tx", map[string]string{"transactionId": "tx"})
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: the first event also waits for the consumer to join its group.
	if err := producer.Publish(ctx, kafka.Message{Topic: "hop", Event: e}); err != nil {
		b.Fatal(err)
	}
	<-got
	b.ResetTimer()
	for b.Loop() {
		if err := producer.Publish(ctx, kafka.Message{Topic: "hop", Event: e}); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// BenchmarkConsumeBacklog measures how fast a consumer works through a backlog whose handler is
// slower than reading (100 µs of simulated store I/O per event), so lanes fill up and partitions
// are paused and resumed: events/s over 12 partitions and 8 lanes each.
func BenchmarkConsumeBacklog(b *testing.B) {
	const events, keys = 5000, 500
	brokers := kafkatest.Start(b, "backlog")
	producer := newProducer(b, brokers)
	var applied atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	defer func() { cancel(); <-done }()
	go func() {
		done <- kafka.NewConsumer(kafka.ConsumerConfig{Brokers: brokers, GroupID: "bench", Topic: "backlog"}, kafka.Handlers{
			event.TypeOrderCreate: func(context.Context, event.Event) error {
				time.Sleep(100 * time.Microsecond)
				applied.Add(1)
				return nil
			},
		}, producer, quiet).Run(ctx)
	}()
	batch := make([]kafka.Message, events)
	for i := range batch {
		key := fmt.Sprintf("tx-%d", i%keys)
		e, err := event.New(event.TypeOrderCreate, "/bench", key, map[string]string{"transactionId": key})
		if err != nil {
			b.Fatal(err)
		}
		batch[i] = kafka.Message{Topic: "backlog", Event: e}
	}
	var want int64
	start := time.Now()
	for b.Loop() {
		if err := producer.Publish(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		want += events
		for applied.Load() < want {
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "events/s")
}
