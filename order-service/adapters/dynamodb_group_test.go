package adapters_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// TestDynamoDBGroupsWritesThatWaitTogether sends many order writes at once, some of which must
// fail (a repeated idempotency key, a stale version), and checks that they went out in far
// fewer transactions than writes while each caller still got the answer to its own write.
func TestDynamoDBGroupsWritesThatWaitTogether(t *testing.T) {
	r := newDynamoDBRepository(t, dynamoDBTestConfig(t, "group"))
	calls := adapters.CountCalls(r)
	const n, repeated = 200, 20

	// n orders created at once, and beside the first repeated of them another order each that
	// a second request with the same idempotency key made: one of each pair is stored, the
	// other finds the key.
	orders := make([]domain.Order, n+repeated)
	msgs := make([]kafka.Message, n+repeated)
	keys := make([]app.IdempotencyKey, n)
	errs := make([]error, n+repeated)
	var wg sync.WaitGroup
	for i := range orders {
		orders[i], msgs[i] = newOrder(t)
		if i < n {
			keys[i] = app.IdempotencyKey{Key: "group-" + orders[i].TransactionID, RequestHash: "h", TransactionID: orders[i].TransactionID}
		}
	}
	for i := range n + repeated {
		wg.Go(func() {
			key := keys[i%n]
			key.TransactionID = orders[i].TransactionID
			_, errs[i] = r.CreateOrder(ctx, orders[i], msgs[i], key)
		})
	}
	wg.Wait()
	for i := range n {
		if i >= repeated {
			if errs[i] != nil {
				t.Errorf("create %d: %v", i, errs[i])
			}
			continue
		}
		first, second := errs[i], errs[n+i]
		if (first == nil) == (second == nil) || !errors.Is(errors.Join(first, second), app.ErrIdempotencyKeyExists) {
			t.Errorf("two orders created with one key: errors %v and %v, want one nil and one ErrIdempotencyKeyExists", first, second)
		}
		if second == nil {
			orders[i] = orders[n+i]
		}
	}
	orders = orders[:n]
	created := calls.Take()["TransactWriteItems"]
	if created >= n/4 {
		t.Errorf("%d orders created in %d transactions, want them grouped (fewer than %d)", n, created, n/4)
	}
	t.Logf("%d creates in %d TransactWriteItems", n+repeated, created)

	// Every order RESERVED at once; every fourth writes over a version it did not read and
	// must get ErrConflict while the others are stored.
	for i := range orders {
		wg.Go(func() {
			o := orders[i]
			if _, err := o.Apply(domain.Event{ID: "reserved-" + o.TransactionID, Type: event.TypeItemReserved, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
				errs[i] = err
				return
			}
			if i%4 == 0 {
				o.Version += 5
			}
			errs[i] = r.UpdateOrder(ctx, o)
		})
	}
	wg.Wait()
	for i, o := range orders {
		stored, err := r.GetOrder(ctx, o.TransactionID)
		if err != nil {
			t.Fatal(err)
		}
		want := domain.StatusReserved
		if i%4 == 0 {
			want = domain.StatusPending
			if !errors.Is(errs[i], app.ErrConflict) {
				t.Errorf("stale update %d: %v, want ErrConflict", i, errs[i])
			}
		} else if errs[i] != nil {
			t.Errorf("update %d: %v", i, errs[i])
		}
		if stored.Status != want {
			t.Errorf("order %d is %s, want %s", i, stored.Status, want)
		}
	}
	got := calls.Take()
	if writes := got["TransactWriteItems"] + got["PutItem"]; writes >= n/2 {
		t.Errorf("%d updates in %d writes (%v), want them grouped", n, writes, got)
	}
	if records := len(pending(t, r, 10*n)); records != n {
		t.Errorf("outbox holds %d records, want one ORDER_CREATE per order (%d)", records, n)
	}
}
