package kafka_test

import (
	"context"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// BenchmarkEventHop measures one saga hop: publish an event, wait for the acknowledgement, and
// wait until the consumer's handler has it. The target is well under 5 ms per hop on kfake.
func BenchmarkEventHop(b *testing.B) {
	brokers := kafkatest.Start(b, "hop")
	got := make(chan struct{}, 1)
	producer, err := kafka.NewProducer(brokers, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
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
