package adapters_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/platform/event"
)

func orderExpiredEvent(t testing.TB, txID string) event.Event {
	e, err := event.New(event.TypeOrderExpired, "/order-service", txID, event.OrderExpired{TransactionID: txID, Reason: event.ReasonExpired})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExpiryInAnyArrivalOrder plays ORDER_EXPIRED against the order's other events in every
// order they can arrive in: the stock an expired order holds comes back exactly once, and an
// order seen after its expiry reserves nothing.
func TestExpiryInAnyArrivalOrder(t *testing.T) {
	tests := []struct {
		name          string
		steps         []event.Type
		wantAvailable int
		wantOut       []event.Type // what the transaction's events put in the outbox, in order
		wantReason    string       // of the ITEM_RELEASED, if any
	}{
		{name: "reserved, then expired", steps: []event.Type{event.TypeOrderCreate, event.TypeOrderExpired},
			wantAvailable: 10, wantOut: []event.Type{event.TypeItemReserved, event.TypeItemReserved, event.TypeItemReleased}, wantReason: event.ReasonExpired},
		{name: "expired before the order came", steps: []event.Type{event.TypeOrderExpired, event.TypeOrderCreate},
			wantAvailable: 10},
		{name: "payment failed, then expired", steps: []event.Type{event.TypeOrderCreate, event.TypePaymentFailed, event.TypeOrderExpired},
			wantAvailable: 10, wantOut: []event.Type{event.TypeItemReserved, event.TypeItemReserved, event.TypeItemReleased}, wantReason: event.ReasonPaymentDeclined},
		{name: "expired, then the payment failed", steps: []event.Type{event.TypeOrderCreate, event.TypeOrderExpired, event.TypePaymentFailed},
			wantAvailable: 10, wantOut: []event.Type{event.TypeItemReserved, event.TypeItemReserved, event.TypeItemReleased}, wantReason: event.ReasonExpired},
		{name: "expired twice under two ids", steps: []event.Type{event.TypeOrderCreate, event.TypeOrderExpired, event.TypeOrderExpired},
			wantAvailable: 10, wantOut: []event.Type{event.TypeItemReserved, event.TypeItemReserved, event.TypeItemReleased}, wantReason: event.ReasonExpired},
		{name: "order replayed after its expiry", steps: []event.Type{event.TypeOrderCreate, event.TypeOrderExpired, event.TypeOrderCreate},
			wantAvailable: 10, wantOut: []event.Type{event.TypeItemReserved, event.TypeItemReserved, event.TypeItemReleased}, wantReason: event.ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
				f := newFixture(t, repo)
				ctx := context.Background()
				f.upsert("T-A", 2500, 10)
				f.order("tx-other", event.Item{SKU: "T-A", Quantity: 1}) // another order's stock stays held
				before := len(f.outbox())
				for i, typ := range tt.steps {
					var e event.Event
					switch typ {
					case event.TypeOrderCreate:
						e = orderEvent(t, "tx-1", event.Item{SKU: "T-A", Quantity: 3})
					case event.TypeOrderExpired:
						e = orderExpiredEvent(t, "tx-1")
					case event.TypePaymentFailed:
						e = paymentFailedEvent(t, "tx-1")
					}
					e.ID += "-" + string(rune('a'+i)) // every delivery a new ce_id: the state, not dedup, must hold
					if err := f.handle(ctx, e); err != nil {
						t.Fatalf("step %d %s: %v", i, typ, err)
					}
				}
				f.wantStock("T-A", tt.wantAvailable-1, 1)
				var out []event.Type
				for _, rec := range f.outbox()[before:] {
					out = append(out, rec.Message.Event.Type)
					if rec.Message.Event.Type == event.TypeItemReleased {
						var p event.ItemReleased
						decode(t, rec, &p)
						if p.Reason != tt.wantReason || len(p.Items) != 1 || p.Items[0].Quantity != 3 || rec.Message.Topic != "order" {
							t.Errorf("ITEM_RELEASED %+v to %s, want reason %s for 3 units to order", p, rec.Message.Topic, tt.wantReason)
						}
					}
				}
				if !slices.Equal(out, tt.wantOut) {
					t.Errorf("outbox got %v, want %v", out, tt.wantOut)
				}
			})
		})
	}
}

func TestExpiryOfAnInvalidPayloadIsDeadLettered(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		e := orderExpiredEvent(t, "tx-1")
		e.Key = "tx-2"
		if err := f.handle(context.Background(), e); !errors.Is(err, event.ErrInvalid) {
			t.Fatalf("ORDER_EXPIRED keyed by another transaction: %v, want event.ErrInvalid", err)
		}
	})
}
