package kafka_test

import (
	"context"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// A PAYMENT_COMPLETE that does not come from payment-service never reaches the handler: it
// lands in the dead-letter topic with the reason, and the rightful one after it is handled.
func TestSourceCheckDeadLettersAnEventFromTheWrongProducer(t *testing.T) {
	brokers := kafkatest.Start(t, "order")
	var got received
	producer := newProducer(t, brokers)
	defer runConsumer(t, kafka.ConsumerConfig{Brokers: brokers, GroupID: "order-service", Topic: "order",
		Middleware: []kafka.Middleware{kafka.SourceCheck()}},
		kafka.Handlers{event.TypePaymentComplete: got.handle}, producer)()

	forged, err := event.New(event.TypePaymentComplete, "/inventory-service", "tx-forged", map[string]string{"transactionId": "tx-forged"})
	if err != nil {
		t.Fatal(err)
	}
	rightful, err := event.New(event.TypePaymentComplete, "/payment-service", "tx-paid", map[string]string{"transactionId": "tx-paid"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []event.Event{forged, rightful} {
		if err := producer.Publish(context.Background(), kafka.Message{Topic: "order", Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the rightful event", func() bool { return len(got.ids()) == 1 })
	if ids := got.ids(); ids[0] != rightful.ID {
		t.Fatalf("handled %v, want only %s", ids, rightful.ID)
	}
	var dead []kafkatest.Record
	eventually(t, "the forged event in the DLT", func() bool {
		dead = kafkatest.ReadAll(t, brokers, "order.dlt")
		return len(dead) == 1
	})
	if d := dead[0]; d.Headers["ce_id"] != forged.ID || !strings.Contains(d.Headers[kafka.HeaderDLTReason], `"/inventory-service"`) {
		t.Errorf("dead letter %v, want the forged event with a reason naming its source", d.Headers)
	}
}
