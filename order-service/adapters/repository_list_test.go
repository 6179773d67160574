package adapters_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// testListOrders is the ListOrders part of the repository suite.
func testListOrders(t *testing.T, newRepo func(t *testing.T) app.Repository) {
	t.Run("list orders newest first in pages", func(t *testing.T) {
		r := newRepo(t)
		// Times whose RFC 3339 text does not sort by time: no fraction, .5, .05, .123456789.
		base := time.Date(2026, 11, 25, 12, 0, 5, 0, time.UTC)
		offsets := []time.Duration{0, 50 * time.Millisecond, 123456789, 500 * time.Millisecond, time.Second}
		var want []string // newest first
		for _, d := range offsets {
			want = append([]string{placeAt(t, r, "carol", base.Add(d))}, want...)
		}
		placeAt(t, r, "dave", base.Add(2*time.Second))

		var got []string
		cursor := ""
		for page := 0; ; page++ {
			orders, next, err := r.ListOrders(ctx, "carol", 2, cursor)
			if err != nil {
				t.Fatalf("ListOrders page %d: %v", page, err)
			}
			if len(orders) > 2 {
				t.Fatalf("page %d has %d orders, limit 2", page, len(orders))
			}
			for _, o := range orders {
				if o.CustomerID != "carol" || len(o.History) != 1 || len(o.Items) != 1 {
					t.Errorf("listed order = %+v", o)
				}
				got = append(got, o.TransactionID)
			}
			if next == "" {
				break
			}
			if page == 5 {
				t.Fatal("ListOrders keeps handing out cursors")
			}
			cursor = next
		}
		if len(got) != len(want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("listed %v, want newest first %v", got, want)
			}
		}
		all, next, err := r.ListOrders(ctx, "carol", 5, "")
		if err != nil || len(all) != 5 || next != "" {
			t.Errorf("ListOrders(limit = count) = %d orders, next %q, %v; want 5 and no next page", len(all), next, err)
		}
		if none, next, err := r.ListOrders(ctx, "nobody", 20, ""); err != nil || len(none) != 0 || next != "" {
			t.Errorf("ListOrders(nobody) = %v, %q, %v", none, next, err)
		}
		for _, bad := range []string{"not base64!", "e30", "eyJ0IjoieCJ9"} {
			if _, _, err := r.ListOrders(ctx, "carol", 2, bad); !errors.Is(err, app.ErrInvalidCursor) {
				t.Errorf("ListOrders(cursor %q) error = %v, want ErrInvalidCursor", bad, err)
			}
		}
	})

	t.Run("list shows the order as updated", func(t *testing.T) {
		r := newRepo(t)
		id := placeAt(t, r, "erin", time.Now())
		o, err := r.GetOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Apply(domain.Event{ID: "r-" + id, Type: event.TypeItemReserved, At: time.Now(), Amount: 900, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		orders, _, err := r.ListOrders(ctx, "erin", 20, "")
		if err != nil || len(orders) != 1 || orders[0].Status != domain.StatusReserved || orders[0].Amount != 900 || len(orders[0].History) != 2 {
			t.Errorf("ListOrders after an update = %+v, %v", orders, err)
		}
	})
}

// placeAt stores a new order of customer created at the given time and returns its id.
func placeAt(t *testing.T, r app.Repository, customer string, at time.Time) string {
	t.Helper()
	id := uuid.NewString()
	o, err := domain.NewOrder(id, customer, []domain.Item{{SKU: "SKU-1001", Quantity: 1}}, "pm_card_visa", at)
	if err != nil {
		t.Fatal(err)
	}
	e, err := event.New(event.TypeOrderCreate, app.Source, id, event.OrderCreate{TransactionID: id, CustomerID: customer,
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateOrder(ctx, o, kafka.Message{Topic: "inventory", Event: e}, app.IdempotencyKey{}); err != nil {
		t.Fatalf("CreateOrder: %v", err)
	}
	return id
}
