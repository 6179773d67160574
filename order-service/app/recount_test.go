package app_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// TestRecountLeavesOneProcessCountAlone recounts without pause while eight shoppers place
// orders against a limit of 16 and each order is cancelled as soon as it is accepted: one
// process counts every order it accepts and settles, so no recount may change its count,
// however the writes interleave with the store's count.
func TestRecountLeavesOneProcessCountAlone(t *testing.T) {
	ctx := context.Background()
	repo, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	a := app.New(repo, "inventory", nil)
	if err := a.LimitInFlight(ctx, 16); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	recounts := make(chan int)
	go func() {
		n := 0
		defer func() { recounts <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := a.RecountInFlight(ctx); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 150 {
				id, err := a.PlaceOrder(ctx, app.PlaceOrder{CustomerID: fmt.Sprintf("c%d", w), PaymentMethod: "pm_card_visa",
					Items: []domain.Item{{SKU: "SKU-1001", Quantity: 1 + i%3}}})
				if errors.Is(err, app.ErrOverloaded) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				e, err := event.New(event.TypeOutOfStock, "/inventory-service", id, event.OutOfStock{TransactionID: id, Reason: event.ReasonOutOfStock})
				if err != nil {
					t.Error(err)
					return
				}
				if err := a.OnOutOfStock(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	n := <-recounts
	if added, removed := a.InFlightCorrections(); added != 0 || removed != 0 {
		t.Errorf("%d recounts added %d orders to one process's count and took %d off, want none", n, added, removed)
	}
	if got := a.InFlight(); got != 0 {
		t.Errorf("in flight %d after every order was cancelled, want 0", got)
	}
	if n < 10 {
		t.Errorf("only %d recounts ran beside the orders", n)
	}
	t.Logf("%d recounts beside 1,200 orders", n)
}
