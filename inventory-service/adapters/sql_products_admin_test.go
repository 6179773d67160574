package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

func TestSetProductAndRestock(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		ctx := context.Background()
		f := newFixture(t, repo)
		want := domain.Product{SKU: "T-OP", Name: "Flash Tee", Price: 1999, Currency: "USD", Available: 10}
		got, created, err := f.app.SetProduct(ctx, want)
		if err != nil || !created || got != want {
			t.Fatalf("create: %+v created=%v err=%v, want %+v created", got, created, err, want)
		}
		f.order("tx-1", event.Item{SKU: "T-OP", Quantity: 3})
		f.wantStock("T-OP", 7, 3)

		// Replacing sets the available stock and leaves the reservation alone.
		want = domain.Product{SKU: "T-OP", Name: "Flash Tee v2", Price: 2500, Currency: "EUR", Available: 50, Reserved: 3}
		got, created, err = f.app.SetProduct(ctx, domain.Product{SKU: "T-OP", Name: "Flash Tee v2", Price: 2500, Currency: "EUR", Available: 50})
		if err != nil || created || got != want {
			t.Fatalf("replace: %+v created=%v err=%v, want %+v not created", got, created, err, want)
		}
		if p := f.product("T-OP"); p != want {
			t.Fatalf("read after replace: %+v, want %+v", p, want)
		}
		want.Available = 550
		if got, err := f.app.Restock(ctx, "T-OP", 500); err != nil || got != want {
			t.Fatalf("restock: %+v %v, want %+v", got, err, want)
		}
		// Releasing the reservation returns its 3 units on top of what the operator set.
		if err := f.handle(ctx, paymentFailedEvent(t, "tx-1")); err != nil {
			t.Fatal(err)
		}
		f.wantStock("T-OP", 553, 0)

		if _, err := f.app.Restock(ctx, "T-NONE", 5); !errors.Is(err, domain.ErrProductNotFound) {
			t.Errorf("restock of an unknown SKU: %v, want ErrProductNotFound", err)
		}
		var invalid *domain.ValidationError
		if _, err := f.app.Restock(ctx, "T-OP", domain.MaxStock); !errors.As(err, &invalid) || invalid.Code != domain.CodeStockTooLarge {
			t.Errorf("restock past MaxStock: %v, want %s", err, domain.CodeStockTooLarge)
		}
		f.wantStock("T-OP", 553, 0)
	})
}

// TestOperatorConservesStockUnderConcurrentOrders restocks and replaces a SKU while workers
// reserve and release it. Orders move units between available and reserved, so the sum changes
// only by what the operator does: after every call it must be exactly what the call implies.
func TestOperatorConservesStockUnderConcurrentOrders(t *testing.T) {
	const (
		workers  = 8
		perWork  = 60
		initial  = 200
		restocks = 40
		restock  = 7
	)
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		f := newFixture(t, repo)
		f.upsert("T-CONS", 100, initial)
		// handle retries transient errors (lock waits, busy database) as the consumer does.
		handle := func(e event.Event) error {
			for {
				err := f.handle(ctx, e)
				if err == nil || errors.Is(err, event.ErrInvalid) || errors.Is(err, adapters.ErrStockChanged) || ctx.Err() != nil {
					return err
				}
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers+1)
		for w := range workers {
			wg.Go(func() {
				for i := range perWork {
					tx := fmt.Sprintf("tx-%d-%d", w, i)
					if err := handle(orderEvent(t, tx, event.Item{SKU: "T-CONS", Quantity: 2})); err != nil {
						errs <- err
						return
					}
					if i%2 == 0 { // every other order is declined and released
						if err := handle(paymentFailedEvent(t, tx)); err != nil && !errors.Is(err, event.ErrInvalid) {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Go(func() {
			total := initial
			for i := range restocks {
				var p domain.Product
				var err error
				if i == restocks/2 {
					// Replace: the new total is the stock set plus what orders hold right now.
					p, _, err = f.app.SetProduct(ctx, domain.Product{SKU: "T-CONS", Name: "Cons", Price: 100, Currency: "EUR", Available: 300})
					if err == nil {
						if p.Available != 300 {
							err = fmt.Errorf("replace answered available %d, want 300", p.Available)
						}
						total = p.Available + p.Reserved
					}
				} else {
					p, err = f.app.Restock(ctx, "T-CONS", restock)
					total += restock
				}
				if err == nil && p.Available+p.Reserved != total {
					err = fmt.Errorf("call %d answered available %d + reserved %d = %d, want %d", i, p.Available, p.Reserved, p.Available+p.Reserved, total)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			if p := f.product("T-CONS"); p.Available+p.Reserved != total {
				errs <- fmt.Errorf("after the operator: available %d + reserved %d, want %d", p.Available, p.Reserved, total)
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		p := f.product("T-CONS")
		if p.Available < 0 || p.Reserved%2 != 0 {
			t.Fatalf("end: available %d reserved %d", p.Available, p.Reserved)
		}
		t.Logf("end: available %d reserved %d", p.Available, p.Reserved)
	})
}

// TestReplicasCreatingOneSKUAtOnceBothSucceed: two inventory-service replicas (two
// repositories on one MySQL database) PUT the same new SKUs at once. Under READ COMMITTED both
// can find no row; the one whose INSERT then meets the other's must replace the product, not
// fail with a duplicate key (a 500). Exactly one PUT of each SKU creates it.
func TestReplicasCreatingOneSKUAtOnceBothSucceed(t *testing.T) {
	ctx := context.Background()
	dsn := freshMySQLDatabase(t)
	var replicas []*adapters.SQLRepository
	for range 2 {
		repo, err := adapters.NewMySQLRepository(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { repo.Close() })
		replicas = append(replicas, repo)
	}
	const skus, putsPerReplica = 20, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	for i := range skus {
		sku := fmt.Sprintf("RACE-%d", i)
		for _, repo := range replicas {
			for range putsPerReplica {
				wg.Go(func() {
					_, isNew, err := repo.SetProduct(ctx, domain.Product{SKU: sku, Name: "Race", Price: 100, Currency: "EUR", Available: 5})
					if err != nil {
						t.Errorf("PUT %s: %v", sku, err)
						return
					}
					if isNew {
						mu.Lock()
						created[sku]++
						mu.Unlock()
					}
				})
			}
		}
	}
	wg.Wait()
	for i := range skus {
		if sku := fmt.Sprintf("RACE-%d", i); created[sku] != 1 {
			t.Errorf("%s created by %d PUTs, want 1", sku, created[sku])
		}
	}
}
