package adapters_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

func TestCountInFlight(t *testing.T) {
	stores := map[string]func(t *testing.T) app.Repository{
		"sqlite": func(t *testing.T) app.Repository {
			r, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
		"dynamodb": func(t *testing.T) app.Repository {
			return newDynamoDBRepository(t, dynamoDBTestConfig(t, "inflight"))
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			r := open(t)
			count := func(want int) {
				t.Helper()
				n, err := r.(app.InFlightCounter).CountInFlight(ctx)
				if err != nil || n != want {
					t.Fatalf("CountInFlight = %d, %v; want %d", n, err, want)
				}
			}
			count(0)
			var orders []domain.Order
			for range 4 {
				o, _ := create(t, r)
				orders = append(orders, o)
			}
			count(4)
			// One RESERVED (still in flight), one COMPLETED, one CANCELLED, one left PENDING.
			for i, typ := range []event.Type{event.TypeItemReserved, event.TypeOutOfStock} {
				o := orders[i]
				if _, err := o.Apply(domain.Event{ID: "e" + string(typ), Type: typ, At: time.Now(), Reason: event.ReasonOutOfStock}); err != nil {
					t.Fatal(err)
				}
				if err := r.UpdateOrder(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			o := orders[2]
			for _, typ := range []event.Type{event.TypeItemReserved, event.TypePaymentComplete} {
				if _, err := o.Apply(domain.Event{ID: "e" + string(typ), Type: typ, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.UpdateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
			count(2)
			if d, ok := r.(*adapters.DynamoDBRepository); ok {
				// The in-flight index, not the table: a scan's cost grows with every order ever made.
				calls := adapters.CountCalls(d)
				count(2)
				if got := calls.Take(); got["Scan"] != 0 || got["Query"] == 0 {
					t.Errorf("CountInFlight made %v, want Query calls on the in-flight index and no Scan", got)
				}
			}
		})
	}
}
