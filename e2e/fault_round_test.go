package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestFaultRoundSlowAndFailingGateway streams orders while the gateway is slower than some
// orders' deadline and fails 30% of its calls with 503: some orders complete, some expire. At
// rest every order is terminal, no CANCELLED order keeps a charge, every COMPLETED order has
// exactly one, and the stock is conserved.
func TestFaultRoundSlowAndFailingGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("fault round")
	}
	const deadline = 4 * time.Second
	_, tg := startSandbox(t, deadline, nil)
	const stock, orders = 1000, 24
	tg.addProduct(t, "SKU-FAULT", 700, stock)
	if code, _ := call(t, http.MethodPut, tg.gatewayURL+"/v1/faults", map[string]any{"latencyMs": 400, "errorRate": 0.3}, nil, nil); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("PUT /v1/faults = %d", code)
	}
	ids := make([]string, orders)
	qty := func(i int) int { return 1 + i%3 }
	var wg sync.WaitGroup
	for i := range orders {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 100 * time.Millisecond) // a steady stream over 2.4 s
			ids[i] = tg.placeOrder(t, orderRequest{CustomerID: fmt.Sprintf("fault-%d", i), Items: []item{{SKU: "SKU-FAULT", Quantity: qty(i)}}, PaymentMethod: "pm_card_visa"})
		})
	}
	wg.Wait()
	for _, id := range ids {
		tg.settled(t, id)
	}
	call(t, http.MethodDelete, tg.gatewayURL+"/v1/faults", nil, nil, nil)
	for _, id := range ids {
		tg.drained(t, id) // every compensation of the order has run
	}
	sold, completed, expired := 0, 0, 0
	for i, id := range ids {
		o := tg.order(t, id)
		st := tg.chargeStatus(t, id)
		switch {
		case o.Status == "COMPLETED":
			completed++
			sold += qty(i)
			if st != "succeeded" || tg.successfulCharges(t, id) != 1 {
				t.Errorf("COMPLETED order %s: charge %q, %d charges; want exactly one standing", id, st, tg.successfulCharges(t, id))
			}
		case o.Status == "CANCELLED":
			if o.Reason == "EXPIRED" {
				expired++
			}
			if st == "succeeded" {
				t.Errorf("CANCELLED (%s) order %s keeps its charge", o.Reason, id)
			}
		default:
			t.Errorf("order %s is %s at rest", id, o.Status)
		}
	}
	if p := tg.product(t, "SKU-FAULT"); p.Available != stock-sold {
		t.Errorf("available %d, want %d - %d sold", p.Available, stock, sold)
	}
	t.Logf("%d orders: %d completed, %d expired, %d other cancelled", orders, completed, expired, orders-completed-expired)
}
