package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/edmshop/edm-shop/payment-service/gateway"
)

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, h http.Handler, method, path, key, body string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(gateway.IdempotencyKeyHeader, key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func chargeBody(amount int, pm string) string {
	b, _ := json.Marshal(map[string]any{"amount": amount, "currency": "EUR", "paymentMethod": pm, "description": "order tx"})
	return string(b)
}

func TestCreateCharge(t *testing.T) {
	tests := []struct {
		name       string
		key        string
		body       string
		wantStatus int
		wantCode   string // error code, "" for success
		wantCharge string // status of the charge in the body, "" when there is none
	}{
		{"visa approves", "k", chargeBody(12345, gateway.TokenVisa), 201, "", gateway.StatusSucceeded},
		{"mastercard approves", "k", chargeBody(1, gateway.TokenMastercard), 201, "", gateway.StatusSucceeded},
		{"declined", "k", chargeBody(12345, gateway.TokenDeclined), 402, gateway.CodeCardDeclined, gateway.StatusDeclined},
		{"insufficient funds", "k", chargeBody(12345, gateway.TokenInsufficientFunds), 402, gateway.CodeInsufficientFunds, gateway.StatusDeclined},
		{"unknown token", "k", chargeBody(12345, "pm_card_amex"), 402, gateway.CodeInvalidPaymentMethod, gateway.StatusDeclined},
		{"flaky fails first", "k", chargeBody(12345, gateway.TokenFlaky), 503, gateway.CodeUnavailable, ""},
		{"no idempotency key", "", chargeBody(12345, gateway.TokenVisa), 400, gateway.CodeMissingIdempotencyKey, ""},
		{"key too long", strings.Repeat("k", 256), chargeBody(12345, gateway.TokenVisa), 400, gateway.CodeMissingIdempotencyKey, ""},
		{"malformed json", "k", `{"amount":`, 400, "MALFORMED_JSON", ""},
		{"amount of wrong type", "k", `{"amount":"12","currency":"EUR","paymentMethod":"pm_card_visa"}`, 400, "INVALID_FIELD", ""},
		{"zero amount", "k", chargeBody(0, gateway.TokenVisa), 400, gateway.CodeInvalidRequest, ""},
		{"negative amount", "k", chargeBody(-5, gateway.TokenVisa), 400, gateway.CodeInvalidRequest, ""},
		{"bad currency", "k", `{"amount":5,"currency":"eur","paymentMethod":"pm_card_visa"}`, 400, gateway.CodeInvalidRequest, ""},
		{"no payment method", "k", `{"amount":5,"currency":"EUR"}`, 400, gateway.CodeInvalidRequest, ""},
		{"body over 1 MiB", "k", `{"description":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "BODY_TOO_LARGE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gateway.NewServer()
			r := do(t, srv.Handler(), http.MethodPost, "/v1/charges", tt.key, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			var charge gateway.Charge
			if tt.wantCode == "" {
				charge = decode[gateway.Charge](t, r)
			} else {
				d := decode[gateway.Declined](t, r)
				if d.Error.Code != tt.wantCode || d.Error.Message == "" {
					t.Fatalf("error %+v, want code %s and a message", d.Error, tt.wantCode)
				}
				charge = d.Charge
			}
			if charge.Status != tt.wantCharge {
				t.Fatalf("charge status %q, want %q", charge.Status, tt.wantCharge)
			}
			if tt.wantCharge != "" {
				if !strings.HasPrefix(charge.ID, "ch_") || charge.Amount == 0 || charge.Currency != "EUR" || charge.IdempotencyKey != tt.key {
					t.Fatalf("charge %+v", charge)
				}
				if tt.wantCharge == gateway.StatusDeclined && charge.DeclineCode != tt.wantCode {
					t.Fatalf("declineCode %q, want %q", charge.DeclineCode, tt.wantCode)
				}
			}
			wantCharged := 0
			if tt.wantCharge == gateway.StatusSucceeded {
				wantCharged = 1
			}
			if n := srv.SuccessfulCharges(tt.key); n != wantCharged {
				t.Fatalf("%d successful charges, want %d", n, wantCharged)
			}
		})
	}
}

func TestIdempotency(t *testing.T) {
	tests := []struct {
		name   string
		first  string
		second string
		// wantSame: the second answer replays the first; otherwise wantStatus is its status.
		wantSame   bool
		wantStatus int
		wantCode   string
	}{
		{"approved charge replays", chargeBody(100, gateway.TokenVisa), chargeBody(100, gateway.TokenVisa), true, 0, ""},
		{"decline replays", chargeBody(100, gateway.TokenDeclined), chargeBody(100, gateway.TokenDeclined), true, 0, ""},
		{"description may differ", chargeBody(100, gateway.TokenVisa), `{"amount":100,"currency":"EUR","paymentMethod":"pm_card_visa"}`, true, 0, ""},
		{"other amount conflicts", chargeBody(100, gateway.TokenVisa), chargeBody(101, gateway.TokenVisa), false, 409, gateway.CodeIdempotencyKeyReused},
		{"other token conflicts", chargeBody(100, gateway.TokenVisa), chargeBody(100, gateway.TokenMastercard), false, 409, gateway.CodeIdempotencyKeyReused},
		{"other currency conflicts", chargeBody(100, gateway.TokenVisa), `{"amount":100,"currency":"USD","paymentMethod":"pm_card_visa"}`, false, 409, gateway.CodeIdempotencyKeyReused},
		{"flaky approves on retry", chargeBody(100, gateway.TokenFlaky), chargeBody(100, gateway.TokenFlaky), false, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gateway.NewServer()
			h := srv.Handler()
			first := do(t, h, http.MethodPost, "/v1/charges", "tx-1", tt.first)
			second := do(t, h, http.MethodPost, "/v1/charges", "tx-1", tt.second)
			if tt.wantSame {
				if second.status != first.status || string(second.body) != string(first.body) {
					t.Fatalf("second answer %d %s, want a replay of %d %s", second.status, second.body, first.status, first.body)
				}
				if second.header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("replay lacks Idempotent-Replayed header")
				}
			} else if second.status != tt.wantStatus {
				t.Fatalf("second answer %d %s, want %d", second.status, second.body, tt.wantStatus)
			}
			if tt.wantCode != "" {
				if code := decode[gateway.Declined](t, second).Error.Code; code != tt.wantCode {
					t.Fatalf("code %q, want %q", code, tt.wantCode)
				}
			}
			// Whatever happened, a key is charged at most once, and a third try replays the
			// stored answer (the flaky case: the approval of the second).
			if n := srv.SuccessfulCharges("tx-1"); n > 1 {
				t.Fatalf("%d successful charges for one key", n)
			}
			list := decode[gateway.ChargeList](t, do(t, h, http.MethodGet, "/v1/charges?idempotencyKey=tx-1", "", ""))
			if len(list.Data) != 1 {
				t.Fatalf("%d charges recorded for the key, want 1: %+v", len(list.Data), list.Data)
			}
		})
	}
}

func TestFlakyThenReplay(t *testing.T) {
	srv := gateway.NewServer()
	h := srv.Handler()
	body := chargeBody(100, gateway.TokenFlaky)
	if r := do(t, h, http.MethodPost, "/v1/charges", "tx-f", body); r.status != 503 {
		t.Fatalf("first attempt %d, want 503", r.status)
	}
	second := do(t, h, http.MethodPost, "/v1/charges", "tx-f", body)
	third := do(t, h, http.MethodPost, "/v1/charges", "tx-f", body)
	if second.status != 201 || third.status != 201 || string(second.body) != string(third.body) {
		t.Fatalf("retries answered %d %s and %d %s, want the same 201 twice", second.status, second.body, third.status, third.body)
	}
	// The 503 is per key: another order with the flaky token fails once too.
	if r := do(t, h, http.MethodPost, "/v1/charges", "tx-g", body); r.status != 503 {
		t.Fatalf("first attempt of another key %d, want 503", r.status)
	}
	if n := srv.SuccessfulCharges("tx-f"); n != 1 {
		t.Fatalf("%d successful charges, want 1", n)
	}
}

func TestConcurrentRequestsWithOneKeyChargeOnce(t *testing.T) {
	srv := gateway.NewServer()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/charges", strings.NewReader(chargeBody(500, gateway.TokenVisa)))
			req.Header.Set(gateway.IdempotencyKeyHeader, "tx-race")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var ch gateway.Charge
			if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&ch) != nil {
				t.Errorf("status %d", resp.StatusCode)
			}
			ids[i] = ch.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent requests got different charges: %v", ids)
		}
	}
	if got := srv.SuccessfulCharges("tx-race"); got != 1 {
		t.Fatalf("%d successful charges, want 1", got)
	}
}

func TestReadCharges(t *testing.T) {
	srv := gateway.NewServer()
	h := srv.Handler()
	approved := decode[gateway.Charge](t, do(t, h, http.MethodPost, "/v1/charges", "a", chargeBody(100, gateway.TokenVisa)))
	declined := decode[gateway.Declined](t, do(t, h, http.MethodPost, "/v1/charges", "b", chargeBody(200, gateway.TokenDeclined))).Charge

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantIDs    []string // for lists
		wantID     string   // for one charge
	}{
		{"approved by id", "/v1/charges/" + approved.ID, 200, nil, approved.ID},
		{"declined by id", "/v1/charges/" + declined.ID, 200, nil, declined.ID},
		{"unknown id", "/v1/charges/ch_nope", 404, nil, ""},
		{"all", "/v1/charges", 200, []string{approved.ID, declined.ID}, ""},
		{"by key", "/v1/charges?idempotencyKey=b", 200, []string{declined.ID}, ""},
		{"by unknown key", "/v1/charges?idempotencyKey=zzz", 200, []string{}, ""},
		{"health", "/healthz", 200, nil, ""},
		{"ready", "/readyz", 200, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, http.MethodGet, tt.path, "", "")
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantID != "" {
				if got := decode[gateway.Charge](t, r); got.ID != tt.wantID {
					t.Fatalf("charge %s, want %s", got.ID, tt.wantID)
				}
			}
			if tt.wantIDs != nil {
				list := decode[gateway.ChargeList](t, r)
				if len(list.Data) != len(tt.wantIDs) {
					t.Fatalf("%d charges, want %v", len(list.Data), tt.wantIDs)
				}
				for i, ch := range list.Data {
					if ch.ID != tt.wantIDs[i] {
						t.Fatalf("charge %d is %s, want %s", i, ch.ID, tt.wantIDs[i])
					}
				}
			}
		})
	}
}
