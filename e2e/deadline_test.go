package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/edmctl/dlt"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/sandbox"
)

// startSandbox runs a sandbox for one test with the given order deadline and options.
func startSandbox(t *testing.T, deadline time.Duration, options map[string][]bootstrap.Option) (*sandbox.Sandbox, *target) {
	t.Helper()
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	sb, err := sandbox.Start(context.Background(), sandbox.Config{
		Log: slog.New(slog.NewTextHandler(logOut, nil)), OrderDeadline: deadline, Options: options,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if err := sb.Wait(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	return sb, &target{
		orderURL: sb.OrderURL, inventoryURL: sb.InventoryURL, paymentURL: sb.PaymentURL, gatewayURL: sb.GatewayURL,
		brokers: sb.Brokers, topics: sb.Topics,
		addProduct: func(t *testing.T, sku string, price int64, available int) {
			if err := sb.Inventory.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: price, Currency: "EUR", Available: available}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// replayedCompleted checks that the order whose dead letter was replayed settled COMPLETED
// before its deadline, with its charge succeeded, and returns how long after placing it settled.
func (tg *target) replayedCompleted(t testing.TB, id string, deadline time.Duration) time.Duration {
	t.Helper()
	o := tg.settled(t, id)
	created, err := time.Parse(time.RFC3339Nano, o.CreatedAt)
	if err != nil {
		t.Fatalf("createdAt: %v", err)
	}
	updated, err := time.Parse(time.RFC3339Nano, o.UpdatedAt)
	if err != nil {
		t.Fatalf("updatedAt: %v", err)
	}
	if o.Status != "COMPLETED" || !updated.Before(created.Add(deadline)) {
		t.Fatalf("replayed order is %s at %s, want COMPLETED before its deadline %s", o.Status, o.UpdatedAt, created.Add(deadline))
	}
	if cs := tg.chargeStatus(t, id); cs != "succeeded" {
		t.Errorf("replayed order's charge is %q, want succeeded", cs)
	}
	return updated.Sub(created)
}

// chargeStatus is where the gateway says the money of a transaction stands ("" when unknown).
func (tg *target) chargeStatus(t testing.TB, transactionID string) string {
	t.Helper()
	var st struct {
		Status string `json:"status"`
	}
	switch code, _ := call(t, http.MethodGet, tg.gatewayURL+"/v1/charges/"+transactionID, nil, nil, &st); code {
	case http.StatusOK:
		return st.Status
	case http.StatusNotFound:
		return ""
	default:
		t.Fatalf("GET /v1/charges/%s = %d", transactionID, code)
		return ""
	}
}

// history returns the types of the order's history entries and whether each was applied.
func (tg *target) history(t testing.TB, id string) map[string]bool {
	t.Helper()
	var o struct {
		History []struct {
			Type    string `json:"type"`
			Applied bool   `json:"applied"`
		} `json:"history"`
	}
	if code, _ := call(t, http.MethodGet, tg.orderURL+"/orders/"+id, nil, nil, &o); code != http.StatusOK {
		t.Fatalf("GET /orders/%s = %d", id, code)
	}
	out := map[string]bool{}
	for _, h := range o.History {
		out[h.Type] = out[h.Type] || h.Applied
	}
	return out
}

// TestSlowPaymentExpiresAndCompensates slows the gateway past the deadline: the order expires,
// its stock comes back, and the charge that still went through is refunded; the late
// PAYMENT_COMPLETE is recorded without effect.
func TestSlowPaymentExpiresAndCompensates(t *testing.T) {
	_, tg := startSandbox(t, time.Second, nil)
	tg.addProduct(t, "SKU-SLOW", 1500, 10)
	tg.setFaults(t, 3000, 0)
	t.Cleanup(func() { call(t, http.MethodDelete, tg.gatewayURL+"/v1/faults", nil, nil, nil) })

	id := tg.placeOrder(t, orderRequest{CustomerID: "slow", Items: []item{{SKU: "SKU-SLOW", Quantity: 2}}, PaymentMethod: "pm_card_visa"})
	tg.expiredAndCompensated(t, id, "SKU-SLOW", 10, 0)
}

// expiredAndCompensated checks that order id expired and was compensated: CANCELLED EXPIRED,
// ORDER_EXPIRED applied and no PAYMENT_COMPLETE applied, its charge refunded or voided (one
// at most), its units of sku back (available and reserved as given, reserved being what the
// other orders keep), and ORDER_EXPIRED sent once to each service that compensates.
func (tg *target) expiredAndCompensated(t *testing.T, id, sku string, available, reserved int) {
	t.Helper()
	o := tg.settled(t, id)
	if o.Status != "CANCELLED" || o.Reason != event.ReasonExpired {
		t.Fatalf("order %s is %s %q, want CANCELLED EXPIRED", id, o.Status, o.Reason)
	}
	eventually(t, 60*time.Second, "the charge refunded or voided and the stock back", func() bool {
		st, p := tg.chargeStatus(t, id), tg.product(t, sku)
		return (st == "refunded" || st == "voided") && p.Available == available && p.Reserved == reserved
	})
	tg.drained(t, id)
	o = tg.order(t, id)
	h := tg.history(t, id)
	if o.Status != "CANCELLED" || o.Reason != event.ReasonExpired || !h[string(event.TypeOrderExpired)] || h[string(event.TypePaymentComplete)] {
		t.Errorf("after compensation the order is %s %q with history %v; want CANCELLED EXPIRED, ORDER_EXPIRED applied, no PAYMENT_COMPLETE applied", o.Status, o.Reason, h)
	}
	if n := tg.successfulCharges(t, id); n > 1 {
		t.Errorf("%d charges", n)
	}
	if st := tg.chargeStatus(t, id); st == "succeeded" {
		t.Errorf("the charge of an expired order stands")
	}
	if p := tg.product(t, sku); p.Available != available || p.Reserved != reserved {
		t.Errorf("%s: available %d, reserved %d; want %d and %d", sku, p.Available, p.Reserved, available, reserved)
	}
	for _, topic := range []string{tg.topics.Inventory, tg.topics.Payment} {
		n := 0
		for _, r := range tg.readEvents(t, topic) {
			if r.Key == id && r.Headers["ce_type"] == string(event.TypeOrderExpired) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ORDER_EXPIRED of %s is %d times on %s, want once", id, n, topic)
		}
	}
}

// TestDeadLetterReplayCompletesBeforeTheDeadline dead-letters ITEM_RESERVED in payment-service
// on purpose (a switch makes it reject the event as invalid), for two orders: both are stuck
// RESERVED. The switch is flipped and one letter replayed with edmctl's package: that order
// completes before its deadline. The other, never replayed, expires and is compensated: its
// stock comes back and its key is voided at the gateway.
func TestDeadLetterReplayCompletesBeforeTheDeadline(t *testing.T) {
	const deadline = 12 * time.Second
	var poison atomic.Bool
	poison.Store(true)
	reject := func(next kafka.Handler) kafka.Handler {
		return func(ctx context.Context, e event.Event) error {
			if poison.Load() && e.Type == event.TypeItemReserved {
				return fmt.Errorf("%w: the test's switch rejects ITEM_RESERVED", event.ErrInvalid)
			}
			return next(ctx, e)
		}
	}
	_, tg := startSandbox(t, deadline, map[string][]bootstrap.Option{"payment-service": {bootstrap.WithConsumerMiddleware(reject)}})
	tg.addProduct(t, "SKU-DLT", 2000, 10)

	replayed := tg.placeOrder(t, orderRequest{CustomerID: "replayed", Items: []item{{SKU: "SKU-DLT", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	forgotten := tg.placeOrder(t, orderRequest{CustomerID: "forgotten", Items: []item{{SKU: "SKU-DLT", Quantity: 3}}, PaymentMethod: "pm_card_visa"})
	ctx := context.Background()
	var letters []dlt.Letter
	eventually(t, 30*time.Second, "both ITEM_RESERVED in payment.dlt", func() bool {
		all, err := dlt.List(ctx, tg.brokers, dlt.Topic(tg.topics.Payment))
		if err != nil {
			t.Fatal(err)
		}
		letters = slices.DeleteFunc(all, func(l dlt.Letter) bool { return l.Type != string(event.TypeItemReserved) })
		return len(letters) == 2
	})
	// order-service reads ITEM_RESERVED from its own topic, independently of payment-service
	// dead-lettering its copy: wait for it rather than assume it came first.
	for _, id := range []string{replayed, forgotten} {
		eventually(t, 30*time.Second, "order "+id+" RESERVED with its ITEM_RESERVED dead-lettered", func() bool {
			return tg.order(t, id).Status == "RESERVED"
		})
	}
	if p := tg.product(t, "SKU-DLT"); p.Available != 6 {
		t.Fatalf("available %d while both orders hold stock, want 6", p.Available)
	}

	poison.Store(false) // the fix is deployed
	letter, err := dlt.Select(letters, event.IDFor(replayed, event.TypeItemReserved))
	if err != nil {
		t.Fatal(err)
	}
	if err := dlt.Replay(ctx, tg.brokers, []dlt.Letter{letter}); err != nil {
		t.Fatal(err)
	}
	tg.replayedCompleted(t, replayed, deadline)

	o := tg.settled(t, forgotten)
	if o.Status != "CANCELLED" || o.Reason != event.ReasonExpired {
		t.Fatalf("forgotten order is %s %q, want CANCELLED EXPIRED", o.Status, o.Reason)
	}
	eventually(t, 30*time.Second, "the forgotten order's stock back and its key voided", func() bool {
		return tg.product(t, "SKU-DLT").Available == 9 && tg.chargeStatus(t, forgotten) == "voided"
	})
	// A late replay of the forgotten order's letter charges nothing: the key is voided, and
	// the PAYMENT_FAILED that follows releases nothing twice.
	late, err := dlt.Select(letters, event.IDFor(forgotten, event.TypeItemReserved))
	if err != nil {
		t.Fatal(err)
	}
	if err := dlt.Replay(ctx, tg.brokers, []dlt.Letter{late}); err != nil {
		t.Fatal(err)
	}
	tg.drained(t, forgotten)
	if st, p := tg.chargeStatus(t, forgotten), tg.product(t, "SKU-DLT"); st != "voided" || p.Available != 9 {
		t.Errorf("after a late replay: charge %q, available %d; want voided and 9", st, p.Available)
	}
	if o := tg.order(t, forgotten); o.Status != "CANCELLED" || o.Reason != event.ReasonExpired {
		t.Errorf("after a late replay the order is %s %q", o.Status, o.Reason)
	}
}
