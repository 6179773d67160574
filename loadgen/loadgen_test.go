package loadgen_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/loadgen"
	"github.com/edmshop/edm-shop/payment-service/gateway"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/sandbox"
)

// TestAgainstSandbox runs a short closed loop and a flash sale against a fresh sandbox and
// asserts the generator's invariants, never a speed (make bench reports speed).
func TestAgainstSandbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{AdminToken: "test-admin", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Stop)
	c := loadgen.NewClient(sb.OrderURL, sb.InventoryURL, "test-admin", 32)
	defer c.Close()

	t.Run("closed loop", func(t *testing.T) {
		r, err := c.RunClosedLoop(ctx, loadgen.ClosedLoop{Orders: 300, Clients: 16, SKUs: 4, DeclinedShare: 0.1, SettleTimeout: 2 * time.Minute})
		check(t, r, err)
		if r.Accepted != 300 || r.ByStatus[loadgen.StatusCompleted] != 270 || r.ByStatus[loadgen.StatusCancelled] != 30 || r.ByReason["PAYMENT_DECLINED"] != 30 {
			t.Errorf("accepted %d, by status %v, by reason %v; want 300: 270 COMPLETED, 30 CANCELLED PAYMENT_DECLINED", r.Accepted, r.ByStatus, r.ByReason)
		}
	})
	t.Run("flash sale", func(t *testing.T) {
		r, err := c.RunFlashSale(ctx, loadgen.FlashSale{Orders: 300, Clients: 16, Stock: 100, SettleTimeout: 2 * time.Minute})
		check(t, r, err)
		if r.ByStatus[loadgen.StatusCompleted] != 100 || r.ByReason["OUT_OF_STOCK"] != 200 {
			t.Errorf("by status %v, by reason %v; want 100 COMPLETED, 200 OUT_OF_STOCK", r.ByStatus, r.ByReason)
		}
		for sku, left := range r.StockLeft {
			if left != 0 {
				t.Errorf("%s: %d left, want 0", sku, left)
			}
		}
	})
	t.Run("an invariant that breaks fails the run", func(t *testing.T) {
		// The gateway refuses every charge, so no order can end while the run waits, however
		// fast the saga is, and the generator must say so instead of reporting a clean run.
		if err := sb.Gateway.SetFaults(gateway.Faults{ErrorRate: 1}); err != nil {
			t.Fatal(err)
		}
		defer sb.Gateway.SetFaults(gateway.Faults{})
		r, err := c.RunClosedLoop(ctx, loadgen.ClosedLoop{Orders: 50, Clients: 1, SKUs: 1, SettleTimeout: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() || !strings.Contains(strings.Join(r.Violations, "\n"), "not terminal") {
			t.Errorf("with no time to settle the run reported violations %q, want orders not terminal", r.Violations)
		}
	})
}

func check(t *testing.T, r loadgen.Result, err error) {
	t.Helper()
	var b strings.Builder
	r.WriteText(&b)
	t.Log("\n" + b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("invariants broken: %q", r.Violations)
	}
}

// TestOverloadAgainstSandbox offers far more than a small in-flight limit allows: 503s appear,
// every accepted order ends terminal, and exactly the accepted orders were published.
func TestOverloadAgainstSandbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{AdminToken: "test-admin", MaxInFlight: 10, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Stop)
	c := loadgen.NewClient(sb.OrderURL, sb.InventoryURL, "test-admin", 64)
	defer c.Close()
	r, err := c.RunOpenLoop(ctx, loadgen.OpenLoop{Rate: 1000, Duration: 500 * time.Millisecond, SKUs: 2, DeclinedShare: 0.1, SettleTimeout: 2 * time.Minute})
	check(t, r, err)
	if r.Refused == 0 || r.Accepted == 0 {
		t.Fatalf("accepted %d, refused %d: want both, 500 orders at once for 10 slots", r.Accepted, r.Refused)
	}
	created := map[string]bool{}
	for _, rec := range kafkatest.ReadAll(t, sb.Brokers, sb.Topics.Inventory) {
		if rec.Headers["ce_type"] == string(event.TypeOrderCreate) {
			created[rec.Key] = true
		}
	}
	for _, id := range r.AcceptedIDs {
		if !created[id] {
			t.Errorf("accepted order %s was not published", id)
		}
		delete(created, id)
	}
	if len(created) > 0 {
		t.Errorf("%d orders published that were not accepted", len(created))
	}
}
