package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// TestApplyRereadsAnOrderChangedBehindItsBack: apply starts from the order as this process
// stored it last; when another instance has changed the order since, the conditional write
// fails, and apply reads the order again instead of overwriting that change.
func TestApplyRereadsAnOrderChangedBehindItsBack(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	a := app.New(repo, "inventory", nil)
	other := app.New(repo, "inventory", nil) // another instance over the same store
	id, err := a.PlaceOrder(ctx, app.PlaceOrder{CustomerID: "c", Items: []domain.Item{{SKU: "S-1", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.OnItemReserved(ctx, itemReserved(t, id)); err != nil {
		t.Fatal(err)
	}
	if err := a.OnPaymentComplete(ctx, paymentComplete(t, id)); err != nil { // a still holds the PENDING order
		t.Fatal(err)
	}
	o, err := repo.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var types []event.Type
	for _, h := range o.History {
		types = append(types, h.Type)
	}
	if o.Status != domain.StatusCompleted || len(o.History) != 3 {
		t.Fatalf("order %s with history %v, want COMPLETED after ORDER_CREATE, ITEM_RESERVED, PAYMENT_COMPLETE", o.Status, types)
	}
}

// TestSettledOrdersLeaveTheCache: apply keeps an order in flight in memory for its next event,
// and forgets it once it settles, so the heap does not grow with every order ever placed.
func TestSettledOrdersLeaveTheCache(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	a := app.New(repo, "inventory", nil)
	place := func() string {
		id, err := a.PlaceOrder(ctx, app.PlaceOrder{CustomerID: "c", Items: []domain.Item{{SKU: "S-1", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	settling, staying := place(), place()
	if n := a.CachedOrders(); n != 2 {
		t.Fatalf("%d orders cached after placing two, want 2", n)
	}
	for _, id := range []string{settling, staying} {
		if err := a.OnItemReserved(ctx, itemReserved(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	paid := paymentComplete(t, settling)
	if err := a.OnPaymentComplete(ctx, paid); err != nil {
		t.Fatal(err)
	}
	if n := a.CachedOrders(); n != 1 {
		t.Errorf("%d orders cached with one settled and one in flight, want 1", n)
	}
	// A duplicate of the settling event finds the order in the store and changes nothing.
	if err := a.OnPaymentComplete(ctx, paid); err != nil {
		t.Fatal(err)
	}
	if o, err := repo.GetOrder(ctx, settling); err != nil || o.Status != domain.StatusCompleted || len(o.History) != 3 {
		t.Errorf("order after a duplicate PAYMENT_COMPLETE: %+v, %v; want COMPLETED with 3 history entries", o, err)
	}
}

func newRepo(t *testing.T) *adapters.SQLiteRepository {
	t.Helper()
	repo, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// itemReserved is inventory-service's ITEM_RESERVED for order id: one S-1 at 500 EUR.
func itemReserved(t *testing.T, id string) event.Event {
	t.Helper()
	e, err := event.New(event.TypeItemReserved, "/inventory-service", id, event.ItemReserved{TransactionID: id, CustomerID: "c",
		Items: []event.PricedItem{{SKU: "S-1", Quantity: 1, UnitPrice: 500}}, Amount: 500, Currency: "EUR", PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// paymentComplete is payment-service's PAYMENT_COMPLETE for order id, paid in full.
func paymentComplete(t *testing.T, id string) event.Event {
	t.Helper()
	e, err := event.New(event.TypePaymentComplete, "/payment-service", id, event.PaymentComplete{TransactionID: id, Amount: 500, Currency: "EUR", ChargeID: "ch_1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
