package adapters_test

import (
	"maps"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// TestDynamoDBOrderLifeCallBudget pins the DynamoDB calls of one order's life as order-service
// makes them: created with an idempotency key (order, key and ORDER_CREATE in one transaction),
// RESERVED, COMPLETED with its ORDER_COMPLETED, and the relay publishing both records. DynamoDB
// Local was the real stack's limit: each call this test allows more is a regression.
func TestDynamoDBOrderLifeCallBudget(t *testing.T) {
	r := newDynamoDBRepository(t, dynamoDBTestConfig(t, "budget"))
	calls := adapters.CountCalls(r)
	step := func(what string, want map[string]int, do func()) {
		t.Helper()
		calls.Take()
		do()
		if got := calls.Take(); !maps.Equal(got, want) {
			t.Errorf("%s: calls %v, want %v", what, got, want)
		}
	}

	o, created := newOrder(t)
	step("create", map[string]int{"TransactWriteItems": 1}, func() {
		key := app.IdempotencyKey{Key: "budget-" + o.TransactionID, RequestHash: "h", TransactionID: o.TransactionID}
		if _, err := r.CreateOrder(ctx, o, created, key); err != nil {
			t.Fatal(err)
		}
	})
	step("reserved", map[string]int{"PutItem": 1}, func() {
		if _, err := o.Apply(domain.Event{ID: "reserved", Type: event.TypeItemReserved, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		o.Version++
	})
	step("completed", map[string]int{"TransactWriteItems": 1}, func() {
		if _, err := o.Apply(domain.Event{ID: "paid", Type: event.TypePaymentComplete, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		e, err := event.New(event.TypeOrderCompleted, app.Source, o.TransactionID, map[string]string{"transactionId": o.TransactionID})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, o, kafka.Message{Topic: "order", Event: e}); err != nil {
			t.Fatal(err)
		}
	})
	// The records are this process's from the start: the relay reads them without claiming.
	var ids []string
	step("relay read", map[string]int{"Scan": 1}, func() { ids = pending(t, r, 100) })
	if len(ids) != 2 {
		t.Fatalf("relay read %d records, want 2", len(ids))
	}
	step("relay delete", map[string]int{"TransactWriteItems": 1}, func() {
		if err := r.DeleteOutbox(ctx, ids); err != nil {
			t.Fatal(err)
		}
	})
}
