package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"testing"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
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

// TestAnOrderThatExpiresWhileItIsReservedHoldsNoStock runs an order's expiry to its commit while
// the order's reservation is between its guard and its commit. With MySQL the two run on
// different writers (Reserve on its first SKU's, Expire on the transaction's; the test picks a
// transaction whose writer differs for any even number of writers) and the guard's read locks
// nothing: the reservation must then fail, and its retry reserve nothing, instead of holding
// stock for an order that expired. With SQLite's one writer the expiry can only come after.
func TestAnOrderThatExpiresWhileItIsReservedHoldsNoStock(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		const sku = "T-RACE"
		f.upsert(sku, 2500, 10)
		txID := otherWriter(sku)
		concurrent := s.name != "sqlite"
		expired := make(chan error, 1)
		expire := func() {
			_, err := repo.Expire(ctx, "expired-1", txID, func([]domain.Line, domain.Status) ([]kafka.Message, error) { return nil, nil })
			expired <- err
		}
		decide := func(products map[string]domain.Product) ([]domain.Line, []kafka.Message, error) {
			return []domain.Line{{SKU: sku, Quantity: 3, UnitPrice: products[sku].Price}}, nil, nil
		}
		_, err := repo.Reserve(ctx, "create-1", txID, []string{sku}, func(products map[string]domain.Product) ([]domain.Line, []kafka.Message, error) {
			if concurrent {
				expire() // runs to its commit on another writer meanwhile
				if err := <-expired; err != nil {
					t.Errorf("expire: %v", err)
				}
			}
			return decide(products)
		})
		if !concurrent {
			if err != nil {
				t.Fatalf("reserve: %v", err)
			}
			expire()
			if err := <-expired; err != nil {
				t.Fatalf("expire: %v", err)
			}
			f.wantStock(sku, 10, 0) // the expiry released it
			return
		}
		if !errors.Is(err, adapters.ErrExpiredMeanwhile) {
			t.Fatalf("reserve while the order expired: %v, want ErrExpiredMeanwhile", err)
		}
		// The consumer retries; the tombstone is there now.
		if _, err := repo.Reserve(ctx, "create-1", txID, []string{sku}, decide); err != nil {
			t.Fatalf("retried reserve: %v", err)
		}
		f.wantStock(sku, 10, 0)
	})
}

// otherWriter returns a transaction id whose FNV-1a hash differs in parity from sku's, so that a
// pool of any even number of writers (sqldb.Pool) puts the two on different writers.
func otherWriter(sku string) string {
	parity := func(s string) uint32 {
		h := fnv.New32a()
		h.Write([]byte(s))
		return h.Sum32() % 2
	}
	for i := 0; ; i++ {
		if tx := fmt.Sprintf("tx-race-%d", i); parity(tx) != parity(sku) {
			return tx
		}
	}
}
