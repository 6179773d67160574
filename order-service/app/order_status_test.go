package app_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// TestSettlingAnnouncesTheOutcome drives an order to each end and reads the outbox: exactly one
// ORDER_COMPLETED or ORDER_CANCELLED on the status topic, with the reason, the customer, the
// items and the amount once known; events after the end announce nothing more.
func TestSettlingAnnouncesTheOutcome(t *testing.T) {
	ctx := context.Background()
	reserved := func(tx string) (event.Type, any) {
		return event.TypeItemReserved, event.ItemReserved{TransactionID: tx, CustomerID: "alice", Items: []event.PricedItem{{SKU: "SKU-1", Quantity: 2, UnitPrice: 350}},
			Amount: 700, Currency: "EUR", PaymentMethod: "pm_card_visa"}
	}
	paid := func(tx string) (event.Type, any) {
		return event.TypePaymentComplete, event.PaymentComplete{TransactionID: tx, Amount: 700, Currency: "EUR", ChargeID: "ch"}
	}
	released := func(tx string) (event.Type, any) {
		return event.TypeItemReleased, event.ItemReleased{TransactionID: tx, Reason: event.ReasonPaymentDeclined, Items: []event.Item{{SKU: "SKU-1", Quantity: 2}}}
	}
	noStock := func(tx string) (event.Type, any) {
		return event.TypeOutOfStock, event.OutOfStock{TransactionID: tx, Reason: event.ReasonUnknownSKU, SKU: "SKU-1"}
	}
	cases := []struct {
		name   string
		events []func(string) (event.Type, any)
		want   event.OrderOutcome // TransactionID filled in below
		typ    event.Type
	}{
		{"completed", []func(string) (event.Type, any){reserved, paid, paid, released},
			event.OrderOutcome{CustomerID: "alice", Status: "COMPLETED", Items: []event.Item{{SKU: "SKU-1", Quantity: 2}}, Amount: 700, Currency: "EUR"}, event.TypeOrderCompleted},
		{"declined", []func(string) (event.Type, any){reserved, released, paid},
			event.OrderOutcome{CustomerID: "alice", Status: "CANCELLED", Reason: "PAYMENT_DECLINED", Items: []event.Item{{SKU: "SKU-1", Quantity: 2}}, Amount: 700, Currency: "EUR"}, event.TypeOrderCancelled},
		{"unknown sku, before any price", []func(string) (event.Type, any){noStock, reserved},
			event.OrderOutcome{CustomerID: "alice", Status: "CANCELLED", Reason: "UNKNOWN_SKU", Items: []event.Item{{SKU: "SKU-1", Quantity: 2}}}, event.TypeOrderCancelled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			a := app.New(repo, "inventory", nil)
			a.PublishStatusTo("status-topic")
			tx, err := a.PlaceOrder(ctx, app.PlaceOrder{CustomerID: "alice", Items: []domain.Item{{SKU: "SKU-1", Quantity: 2}}, PaymentMethod: "pm_card_visa"})
			if err != nil {
				t.Fatal(err)
			}
			handlers := map[event.Type]func(context.Context, event.Event) error{
				event.TypeItemReserved: a.OnItemReserved, event.TypePaymentComplete: a.OnPaymentComplete,
				event.TypeItemReleased: a.OnItemReleased, event.TypeOutOfStock: a.OnOutOfStock,
			}
			for _, ev := range c.events {
				typ, payload := ev(tx)
				e, err := event.New(typ, "/test", tx, payload)
				if err != nil {
					t.Fatal(err)
				}
				if err := handlers[typ](ctx, e); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
			}
			recs, err := repo.PendingOutbox(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			var status []event.Event
			for _, r := range recs {
				if r.Message.Topic == "status-topic" {
					status = append(status, r.Message.Event)
				}
			}
			if len(status) != 1 {
				t.Fatalf("%d status events, want 1", len(status))
			}
			e := status[0]
			if e.Type != c.typ || e.Key != tx || e.ID != event.IDFor(tx, c.typ) || e.Source != app.Source || time.Since(e.Time) > time.Minute {
				t.Errorf("status event %+v", e)
			}
			got, err := event.Decode[event.OrderOutcome](e)
			if err != nil {
				t.Fatal(err)
			}
			c.want.TransactionID = tx
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(c.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("payload %s\nwant    %s", gotJSON, wantJSON)
			}
		})
	}
}
