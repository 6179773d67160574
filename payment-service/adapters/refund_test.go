package adapters_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/payment-service/adapters"
	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/payment-service/gateway"
)

func simulator(t *testing.T, sim *gateway.Server) *adapters.GatewayClient {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return adapters.NewGatewayClient(srv.URL, fastBackoff)
}

func visa(key string, amount int64) domain.ChargeRequest {
	return domain.ChargeRequest{IdempotencyKey: key, Amount: amount, Currency: "EUR", PaymentMethod: gateway.TokenVisa}
}

func TestRejectionsAgainstSimulator(t *testing.T) {
	tests := []struct {
		name     string
		req      domain.ChargeRequest
		wantCode string
	}{
		{"invalid request (400)", domain.ChargeRequest{IdempotencyKey: "k1", Amount: 100, Currency: "euro", PaymentMethod: gateway.TokenVisa}, gateway.CodeInvalidRequest},
		{"key reused with another amount (409)", visa("charged", 999), gateway.CodeIdempotencyKeyReused},
	}
	sim := gateway.NewServer()
	c := simulator(t, sim)
	if _, err := c.Charge(context.Background(), visa("charged", 100)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Charge(context.Background(), tt.req)
			var rej *domain.RejectionError
			if !errors.As(err, &rej) || rej.Code != tt.wantCode || !errors.Is(err, domain.ErrChargeRejected) {
				t.Fatalf("err = %v, want a rejection with code %s", err, tt.wantCode)
			}
			if got := domain.Rejected(err); got.Approved || got.DeclineCode != tt.wantCode {
				t.Fatalf("Rejected = %+v", got)
			}
		})
	}
}

// TestRequestInProgressIsRetried: while the gateway is slow, a second request with the same key
// gets 409 request_in_progress, which the client waits out instead of failing the payment.
func TestRequestInProgressIsRetried(t *testing.T) {
	sim := gateway.NewServer()
	if err := sim.SetFaults(gateway.Faults{LatencyMs: 300}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := adapters.NewGatewayClient(srv.URL, adapters.Backoff{Attempts: 20, Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond})
	results := make([]domain.ChargeResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = c.Charge(context.Background(), visa("tx-slow", 500)) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !results[i].Approved || results[i].ChargeID != results[0].ChargeID {
			t.Fatalf("concurrent charges: %+v %v", results, errs)
		}
	}
	if n := sim.SuccessfulCharges("tx-slow"); n != 1 {
		t.Fatalf("%d successful charges, want 1", n)
	}
}

func TestInjectedErrorsAreTransient(t *testing.T) {
	sim := gateway.NewServer()
	if err := sim.SetFaults(gateway.Faults{ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	c := simulator(t, sim)
	_, err := c.Charge(context.Background(), visa("tx-1", 100))
	if err == nil || errors.Is(err, domain.ErrChargeRejected) {
		t.Fatalf("err = %v, want a transient error", err)
	}
	if _, err := c.Refund(context.Background(), domain.RefundRequest{IdempotencyKey: "r", ChargeIdempotencyKey: "tx-1"}); err == nil || errors.Is(err, domain.ErrChargeRejected) {
		t.Fatalf("refund err = %v, want a transient error", err)
	}
	if _, seen := sim.KeyStatus("tx-1"); seen {
		t.Fatal("a failed charge or refund left a trace in the ledger")
	}
}

func TestRefundAgainstSimulator(t *testing.T) {
	sim := gateway.NewServer()
	c := simulator(t, sim)
	ctx := context.Background()
	if _, err := c.Charge(ctx, visa("paid", 700)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Charge(ctx, domain.ChargeRequest{IdempotencyKey: "declined", Amount: 700, Currency: "EUR", PaymentMethod: gateway.TokenDeclined}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		req        domain.RefundRequest
		wantStatus string
		wantAmount int64
		wantErr    bool
	}{
		{"approved charge", domain.RefundRequest{IdempotencyKey: "r1", ChargeIdempotencyKey: "paid", Reason: "EXPIRED"}, domain.RefundRefunded, 700, false},
		{"same refund again", domain.RefundRequest{IdempotencyKey: "r1", ChargeIdempotencyKey: "paid", Reason: "EXPIRED"}, domain.RefundRefunded, 700, false},
		{"another refund key", domain.RefundRequest{IdempotencyKey: "r2", ChargeIdempotencyKey: "paid"}, domain.RefundRefunded, 700, false},
		{"never charged", domain.RefundRequest{IdempotencyKey: "r3", ChargeIdempotencyKey: "late"}, domain.RefundVoided, 0, false},
		{"declined charge", domain.RefundRequest{IdempotencyKey: "r4", ChargeIdempotencyKey: "declined"}, domain.RefundNotCharged, 0, false},
		{"refund key reused for another charge", domain.RefundRequest{IdempotencyKey: "r1", ChargeIdempotencyKey: "late"}, "", 0, true},
	}
	var firstID string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Refund(ctx, tt.req)
			if tt.wantErr {
				if !errors.Is(err, domain.ErrChargeRejected) {
					t.Fatalf("err = %v, want a rejection", err)
				}
				return
			}
			if err != nil || got.Status != tt.wantStatus || got.Amount != tt.wantAmount || got.RefundID == "" {
				t.Fatalf("Refund = %+v, %v; want %s %d", got, err, tt.wantStatus, tt.wantAmount)
			}
			if tt.req.ChargeIdempotencyKey == "paid" {
				if firstID == "" {
					firstID = got.RefundID
				} else if got.RefundID != firstID {
					t.Fatalf("refund %s, want the first refund %s: a charge is refunded once", got.RefundID, firstID)
				}
			}
		})
	}
	// A charge attempted after its key was voided is declined.
	got, err := c.Charge(ctx, visa("late", 700))
	if err != nil || got.Approved || got.DeclineCode != gateway.CodeChargeVoided {
		t.Fatalf("charge of a voided key = %+v, %v", got, err)
	}
}

// TestGatewayRestartBetweenChargeAndRedelivery: payment-service charges, the gateway restarts on
// its ledger file, and the redelivered ITEM_RESERVED charges again with the same key: the
// restarted gateway replays the approval, and the customer is charged once.
func TestGatewayRestartBetweenChargeAndRedelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.jsonl")
	start := func() (*gateway.Server, *adapters.GatewayClient, func()) {
		sim, err := gateway.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sim.Handler())
		return sim, adapters.NewGatewayClient(srv.URL, fastBackoff), func() { srv.Close(); sim.Close() }
	}
	_, c, stop := start()
	first, err := c.Charge(context.Background(), visa("tx-1", 1200))
	stop()
	if err != nil || !first.Approved {
		t.Fatalf("first charge = %+v, %v", first, err)
	}
	sim, c, stop := start()
	defer stop()
	again, err := c.Charge(context.Background(), visa("tx-1", 1200))
	if want := (domain.ChargeResult{Approved: true, ChargeID: first.ChargeID, Replayed: true}); err != nil || again != want {
		t.Fatalf("redelivered charge = %+v, %v; want the first answer, replayed: %+v", again, err, want)
	}
	list := sim.SuccessfulCharges("tx-1")
	if list != 1 {
		t.Fatalf("%d successful charges after the restart, want 1", list)
	}
}
