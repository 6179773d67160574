package adapters_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/payment-service/adapters"
	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/payment-service/gateway"
)

var fastBackoff = adapters.Backoff{Attempts: 4, Initial: time.Millisecond, Max: 4 * time.Millisecond}

var request = domain.ChargeRequest{IdempotencyKey: "tx-1", Amount: 1200, Currency: "EUR", PaymentMethod: "pm_card_visa", Description: "order tx-1"}

const (
	approved = `{"id":"ch_1","status":"succeeded","amount":1200,"currency":"EUR","paymentMethod":"pm_card_visa"}`
	declined = `{"error":{"code":"card_declined","message":"no"},"charge":{"id":"ch_2","status":"declined"}}`
)

// failingGateway answers failStatus to the first failures requests, then status and body. It
// checks that every request carries the idempotency key and the charge's parameters.
func failingGateway(t *testing.T, failures int, failStatus, status int, body string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		var p gateway.ChargeParams
		if r.URL.Path != "/v1/charges" || r.Header.Get("Idempotency-Key") != "tx-1" ||
			json.NewDecoder(r.Body).Decode(&p) != nil || p.Amount != 1200 || p.Currency != "EUR" || p.PaymentMethod != "pm_card_visa" {
			t.Errorf("unexpected request %s %s key %q params %+v", r.Method, r.URL, r.Header.Get("Idempotency-Key"), p)
		}
		w.Header().Set("Content-Type", "application/json")
		if int(n) <= failures {
			w.WriteHeader(failStatus)
			code := "boom"
			if failStatus == http.StatusConflict {
				code = "request_in_progress" // the only 409 that passes
			}
			_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":"try later"}}`))
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestChargeRetries(t *testing.T) {
	tests := []struct {
		name         string
		failures     int
		failStatus   int
		status       int
		body         string
		want         domain.ChargeResult
		wantErr      bool
		wantRejected bool
		wantCalls    int32
	}{
		{"approved at once", 0, 0, 201, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 1},
		{"replayed approval", 0, 0, 200, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 1},
		{"declined is an answer", 0, 0, 402, declined, domain.ChargeResult{ChargeID: "ch_2", DeclineCode: "card_declined"}, false, false, 1},
		{"503 twice then approved", 2, 503, 201, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 3},
		{"429 then approved", 1, 429, 201, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 2},
		{"500 then declined", 1, 500, 402, declined, domain.ChargeResult{ChargeID: "ch_2", DeclineCode: "card_declined"}, false, false, 2},
		{"503 until the attempts run out", 3, 503, 201, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 4},
		{"503 for ever", 100, 503, 201, approved, domain.ChargeResult{}, true, false, 4},
		{"400 is rejected at once", 0, 0, 400, `{"error":{"code":"invalid_request","message":"bad"}}`, domain.ChargeResult{}, true, true, 1},
		{"409 is rejected at once", 0, 0, 409, `{"error":{"code":"idempotency_key_reused","message":"no"}}`, domain.ChargeResult{}, true, true, 1},
		{"422 is rejected at once", 0, 0, 422, `{"error":{"code":"amount_too_large","message":"no"}}`, domain.ChargeResult{}, true, true, 1},
		{"409 request_in_progress is transient", 2, 409, 201, approved, domain.ChargeResult{Approved: true, ChargeID: "ch_1"}, false, false, 3},
		{"409 request_in_progress for ever is a plain error, not a rejection", 100, 409, 201, approved, domain.ChargeResult{}, true, false, 4},
		{"404 is a plain error, not retried here", 0, 0, 404, `{}`, domain.ChargeResult{}, true, false, 1},
		{"garbled approval", 0, 0, 201, `{"status":"succeeded"}`, domain.ChargeResult{}, true, false, 1},
		{"garbled decline", 0, 0, 402, `nope`, domain.ChargeResult{}, true, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := failingGateway(t, tt.failures, tt.failStatus, tt.status, tt.body)
			got, err := adapters.NewGatewayClient(srv.URL, fastBackoff).Charge(context.Background(), request)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if rejected := errors.Is(err, domain.ErrChargeRejected); rejected != tt.wantRejected {
				t.Fatalf("err = %v, want ErrChargeRejected %v", err, tt.wantRejected)
			}
			if got != tt.want {
				t.Fatalf("result %+v, want %+v", got, tt.want)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Fatalf("%d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestChargeBacksOffExponentially(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		w.WriteHeader(503)
	}))
	defer srv.Close()
	b := adapters.Backoff{Attempts: 4, Initial: 10 * time.Millisecond, Max: 25 * time.Millisecond}
	if _, err := adapters.NewGatewayClient(srv.URL, b).Charge(context.Background(), request); err == nil {
		t.Fatal("no error after the last attempt")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 4 {
		t.Fatalf("%d attempts, want 4", len(times))
	}
	for i, min := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond} {
		if gap := times[i+1].Sub(times[i]); gap < min {
			t.Errorf("wait before attempt %d was %v, want at least %v", i+2, gap, min)
		}
	}
}

func TestChargeRetriesDroppedConnections(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the client sees a network error, not an answer
			}
			return
		}
		w.WriteHeader(201)
		_, _ = w.Write([]byte(approved))
	}))
	defer srv.Close()
	got, err := adapters.NewGatewayClient(srv.URL, fastBackoff).Charge(context.Background(), request)
	if err != nil || !got.Approved || calls.Load() != 3 {
		t.Fatalf("Charge = %+v, %v after %d calls; want approved after 3", got, err, calls.Load())
	}
}

func TestChargeUnreachableGatewayIsPlainError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	_, err := adapters.NewGatewayClient(srv.URL, fastBackoff).Charge(context.Background(), request)
	if err == nil || errors.Is(err, domain.ErrChargeRejected) {
		t.Fatalf("err = %v, want a plain error", err)
	}
}

func TestChargeStopsWaitingWhenContextEnds(t *testing.T) {
	srv, calls := failingGateway(t, 100, 503, 201, approved)
	ctx, cancel := context.WithCancel(context.Background())
	b := adapters.Backoff{Attempts: 5, Initial: time.Hour, Max: time.Hour}
	done := make(chan error, 1)
	go func() {
		_, err := adapters.NewGatewayClient(srv.URL, b).Charge(ctx, request)
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); calls.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the gateway was never called")
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Charge kept waiting after its context ended")
	}
}

func TestChargeAgainstSimulator(t *testing.T) {
	sim := gateway.NewServer()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := adapters.NewGatewayClient(srv.URL, fastBackoff)
	tests := []struct {
		key, pm     string
		wantOK      bool
		wantDecline string
	}{
		{"a", gateway.TokenVisa, true, ""},
		{"b", gateway.TokenFlaky, true, ""},
		{"c", gateway.TokenDeclined, false, gateway.CodeCardDeclined},
		{"d", gateway.TokenInsufficientFunds, false, gateway.CodeInsufficientFunds},
		{"e", "pm_card_unknown", false, gateway.CodeInvalidPaymentMethod},
	}
	for _, tt := range tests {
		req := domain.ChargeRequest{IdempotencyKey: tt.key, Amount: 100, Currency: "EUR", PaymentMethod: tt.pm}
		for call := range 2 { // the second call replays the first
			got, err := c.Charge(context.Background(), req)
			if err != nil || got.Approved != tt.wantOK || got.DeclineCode != tt.wantDecline || got.ChargeID == "" || got.Replayed != (call == 1) {
				t.Fatalf("%s: Charge %d = %+v, %v", tt.pm, call+1, got, err)
			}
		}
		if want := map[bool]int{true: 1, false: 0}[tt.wantOK]; sim.SuccessfulCharges(tt.key) != want {
			t.Fatalf("%s: %d successful charges, want %d", tt.pm, sim.SuccessfulCharges(tt.key), want)
		}
	}
	req := domain.ChargeRequest{IdempotencyKey: "a", Amount: 999, Currency: "EUR", PaymentMethod: gateway.TokenVisa}
	if _, err := c.Charge(context.Background(), req); !errors.Is(err, domain.ErrChargeRejected) {
		t.Fatalf("reused key: err = %v, want ErrChargeRejected", err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	srv.Close()
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a stopped gateway succeeded")
	}
}
