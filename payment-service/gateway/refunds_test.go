package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/payment-service/gateway"
)

// call sends one request to a gateway over real HTTP.
func call(t *testing.T, base, method, path, key, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(gateway.IdempotencyKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

func refundBody(chargeKey string) string {
	b, _ := json.Marshal(gateway.RefundParams{ChargeIdempotencyKey: chargeKey, Reason: "order expired"})
	return string(b)
}

func serve(t *testing.T, s *gateway.Server) string {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestRefunds(t *testing.T) {
	tests := []struct {
		name         string
		chargeWith   string // token charged under key tx-1 before the refund; "" for none
		laterWith    string // token of the charge with tx-1 after the refund
		wantRefund   string // refund status
		wantAmount   int64
		wantKey      string // GET /v1/charges/tx-1 status after the refund
		wantLater    int    // status of a charge with tx-1 after the refund
		wantLaterErr string
	}{
		{"approved charge is refunded", gateway.TokenVisa, gateway.TokenVisa, gateway.RefundRefunded, 700, gateway.StatusRefunded, 201, ""},
		{"key never charged is voided", "", gateway.TokenVisa, gateway.RefundVoided, 0, gateway.StatusVoided, 402, gateway.CodeChargeVoided},
		{"flaky key never charged is voided", "", gateway.TokenFlaky, gateway.RefundVoided, 0, gateway.StatusVoided, 402, gateway.CodeChargeVoided},
		{"declined charge has nothing to refund", gateway.TokenDeclined, gateway.TokenDeclined, gateway.RefundNotCharged, 0, gateway.StatusDeclined, 402, gateway.CodeCardDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gateway.NewServer()
			base := serve(t, srv)
			if tt.chargeWith != "" {
				call(t, base, http.MethodPost, "/v1/charges", "tx-1", chargeBody(700, tt.chargeWith))
			}
			first := call(t, base, http.MethodPost, "/v1/refunds", "re-1", refundBody("tx-1"))
			if first.status != http.StatusCreated {
				t.Fatalf("refund answered %d %s", first.status, first.body)
			}
			r := decode[gateway.Refund](t, first)
			if r.Status != tt.wantRefund || r.Amount != tt.wantAmount || r.ChargeIdempotencyKey != "tx-1" || r.IdempotencyKey != "re-1" || r.ID == "" {
				t.Fatalf("refund %+v, want status %s amount %d", r, tt.wantRefund, tt.wantAmount)
			}
			// The same refund key replays; another refund key does not refund twice.
			again := call(t, base, http.MethodPost, "/v1/refunds", "re-1", refundBody("tx-1"))
			if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("repeated refund answered %d %s, want a replay", again.status, again.body)
			}
			other := call(t, base, http.MethodPost, "/v1/refunds", "re-2", refundBody("tx-1"))
			if tt.wantRefund == gateway.RefundNotCharged {
				if other.status != http.StatusCreated || decode[gateway.Refund](t, other).Status != gateway.RefundNotCharged {
					t.Fatalf("second refund of a declined charge answered %d %s", other.status, other.body)
				}
			} else if other.status != http.StatusOK || decode[gateway.Refund](t, other).ID != r.ID {
				t.Fatalf("second refund answered %d %s, want 200 with refund %s", other.status, other.body, r.ID)
			}

			later := call(t, base, http.MethodPost, "/v1/charges", "tx-1", chargeBody(700, tt.laterWith))
			if later.status != tt.wantLater {
				t.Fatalf("later charge answered %d %s, want %d", later.status, later.body, tt.wantLater)
			}
			if tt.wantLaterErr != "" {
				if code := decode[gateway.Declined](t, later).Error.Code; code != tt.wantLaterErr {
					t.Fatalf("later charge declined with %q, want %q", code, tt.wantLaterErr)
				}
			}
			st := decode[gateway.KeyStatus](t, call(t, base, http.MethodGet, "/v1/charges/tx-1", "", ""))
			if st.Status != tt.wantKey || st.IdempotencyKey != "tx-1" {
				t.Fatalf("key status %+v, want %s", st, tt.wantKey)
			}
			if tt.wantKey == gateway.StatusRefunded && (st.Amount != 700 || st.RefundID != r.ID) {
				t.Fatalf("refunded key status %+v", st)
			}
			if n := srv.SuccessfulCharges("tx-1"); n > 1 {
				t.Fatalf("%d successful charges", n)
			}
		})
	}
}

func TestRefundRequestErrors(t *testing.T) {
	base := serve(t, gateway.NewServer())
	call(t, base, http.MethodPost, "/v1/refunds", "re-1", refundBody("tx-1"))
	tests := []struct {
		name, key, body string
		wantStatus      int
		wantCode        string
	}{
		{"no idempotency key", "", refundBody("tx-1"), 400, gateway.CodeMissingIdempotencyKey},
		{"no charge key", "re-x", `{"reason":"x"}`, 400, gateway.CodeInvalidRequest},
		{"charge key too long", "re-x", refundBody(string(bytes.Repeat([]byte("k"), 256))), 400, gateway.CodeInvalidRequest},
		{"reason too long", "re-x", `{"chargeIdempotencyKey":"tx-1","reason":"` + string(bytes.Repeat([]byte("r"), 501)) + `"}`, 400, gateway.CodeInvalidRequest},
		{"malformed", "re-x", `{"chargeIdempotencyKey":`, 400, "MALFORMED_JSON"},
		{"refund key reused for another charge", "re-1", refundBody("tx-2"), 409, gateway.CodeIdempotencyKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, base, http.MethodPost, "/v1/refunds", tt.key, tt.body)
			if r.status != tt.wantStatus || decode[gateway.Declined](t, r).Error.Code != tt.wantCode {
				t.Fatalf("answered %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestKeyStatus(t *testing.T) {
	base := serve(t, gateway.NewServer())
	call(t, base, http.MethodPost, "/v1/charges", "ok", chargeBody(250, gateway.TokenVisa))
	call(t, base, http.MethodPost, "/v1/charges", "no", chargeBody(300, gateway.TokenInsufficientFunds))
	tests := []struct {
		key        string
		wantStatus int
		want       string
		wantAmount int64
	}{
		{"ok", 200, gateway.StatusSucceeded, 250},
		{"no", 200, gateway.StatusDeclined, 300},
		{"unknown", 404, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			r := call(t, base, http.MethodGet, "/v1/charges/"+tt.key, "", "")
			if r.status != tt.wantStatus {
				t.Fatalf("answered %d %s", r.status, r.body)
			}
			if tt.wantStatus == 200 {
				if st := decode[gateway.KeyStatus](t, r); st.Status != tt.want || st.Amount != tt.wantAmount || st.Currency != "EUR" || st.ChargeID == "" {
					t.Fatalf("status %+v, want %s %d", st, tt.want, tt.wantAmount)
				}
			} else if decode[gateway.Declined](t, r).Error.Code != gateway.CodeNotFound {
				t.Fatalf("404 body %s", r.body)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		faults     string
		wantPut    int
		wantCharge int // status of a charge made under the faults
		wantCode   string
	}{
		{"no faults", `{"latencyMs":0,"errorRate":0}`, 200, 201, ""},
		{"always failing", `{"errorRate":1}`, 200, 503, gateway.CodeUnavailable},
		{"negative latency", `{"latencyMs":-1}`, 400, 201, ""},
		{"latency over ten minutes", `{"latencyMs":600001}`, 400, 201, ""},
		{"error rate over 1", `{"errorRate":1.5}`, 400, 201, ""},
		{"negative error rate", `{"errorRate":-0.1}`, 400, 201, ""},
		{"malformed", `{"errorRate":"high"}`, 400, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gateway.NewServer()
			base := serve(t, srv)
			put := call(t, base, http.MethodPut, "/v1/faults", "", tt.faults)
			if put.status != tt.wantPut {
				t.Fatalf("PUT /v1/faults answered %d %s", put.status, put.body)
			}
			charge := call(t, base, http.MethodPost, "/v1/charges", "tx-1", chargeBody(100, gateway.TokenVisa))
			refund := call(t, base, http.MethodPost, "/v1/refunds", "re-1", refundBody("tx-9"))
			if charge.status != tt.wantCharge || (tt.wantCode != "" && decode[gateway.Declined](t, charge).Error.Code != tt.wantCode) {
				t.Fatalf("charge answered %d %s, want %d %s", charge.status, charge.body, tt.wantCharge, tt.wantCode)
			}
			if tt.wantCharge == 503 {
				// An injected error happens before anything is charged or voided.
				if _, seen := srv.KeyStatus("tx-1"); seen || refund.status != 503 {
					t.Fatalf("under errorRate 1: charge recorded %v, refund answered %d", seen, refund.status)
				}
				if _, seen := srv.KeyStatus("tx-9"); seen {
					t.Fatal("a failed refund recorded a void")
				}
			}
			if del := call(t, base, http.MethodDelete, "/v1/faults", "", ""); del.status != http.StatusNoContent {
				t.Fatalf("DELETE /v1/faults answered %d", del.status)
			}
			if got := decode[gateway.Faults](t, call(t, base, http.MethodGet, "/v1/faults", "", "")); got != (gateway.Faults{}) {
				t.Fatalf("faults after DELETE: %+v", got)
			}
			if r := call(t, base, http.MethodPost, "/v1/charges", "tx-1", chargeBody(100, gateway.TokenVisa)); r.status != 201 {
				t.Fatalf("charge after DELETE answered %d %s", r.status, r.body)
			}
		})
	}
}

func TestLatencyMarksKeyInProgress(t *testing.T) {
	srv := gateway.NewServer()
	base := serve(t, srv)
	const latency = 400 * time.Millisecond
	if err := srv.SetFaults(gateway.Faults{LatencyMs: latency.Milliseconds()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = call(t, base, http.MethodPost, "/v1/charges", "tx-slow", chargeBody(100, gateway.TokenVisa)).status
		})
	}
	wg.Wait()
	if time.Since(start) < latency {
		t.Fatalf("answered within %v, before the injected latency of %v", time.Since(start), latency)
	}
	if !(statuses[0] == 201 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 201) {
		t.Fatalf("concurrent requests with one key answered %v, want one 201 and one 409 request_in_progress", statuses)
	}
	if r := call(t, base, http.MethodPost, "/v1/charges", "tx-slow", chargeBody(100, gateway.TokenVisa)); r.status != 201 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry answered %d, want the replayed 201", r.status)
	}
	if n := srv.SuccessfulCharges("tx-slow"); n != 1 {
		t.Fatalf("%d successful charges, want 1", n)
	}
}

// TestRestartKeepsLedger restarts a gateway journaling to a file between a charge and its
// redelivery: the restarted gateway replays the answer and the key is charged once.
func TestRestartKeepsLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger", "gateway.jsonl")
	srv, err := gateway.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	charged := call(t, ts.URL, http.MethodPost, "/v1/charges", "tx-1", chargeBody(700, gateway.TokenVisa))
	declined := call(t, ts.URL, http.MethodPost, "/v1/charges", "tx-2", chargeBody(700, gateway.TokenDeclined))
	flaky := call(t, ts.URL, http.MethodPost, "/v1/charges", "tx-3", chargeBody(700, gateway.TokenFlaky))
	voided := call(t, ts.URL, http.MethodPost, "/v1/refunds", "re-4", refundBody("tx-4"))
	refundedCharge := call(t, ts.URL, http.MethodPost, "/v1/charges", "tx-5", chargeBody(900, gateway.TokenVisa))
	refunded := call(t, ts.URL, http.MethodPost, "/v1/refunds", "re-5", refundBody("tx-5"))
	for _, r := range []response{charged, declined, flaky, voided, refundedCharge, refunded} {
		if r.status >= 500 && r.status != 503 {
			t.Fatalf("before restart: %d %s", r.status, r.body)
		}
	}
	ts.Close()
	srv = restart(t, srv, path)
	base := serve(t, srv)
	tests := []struct {
		name, path, key, body string
		want                  response // status and body; a nil body is not compared
	}{
		{"approved charge replays", "/v1/charges", "tx-1", chargeBody(700, gateway.TokenVisa), charged},
		{"decline replays", "/v1/charges", "tx-2", chargeBody(700, gateway.TokenDeclined), declined},
		{"flaky key does not fail twice", "/v1/charges", "tx-3", chargeBody(700, gateway.TokenFlaky), response{status: 201}},
		{"voided key stays voided", "/v1/charges", "tx-4", chargeBody(700, gateway.TokenVisa), response{status: 402}},
		{"refund replays", "/v1/refunds", "re-5", refundBody("tx-5"), refunded},
		{"refunded charge is not refunded twice", "/v1/refunds", "re-6", refundBody("tx-5"), response{status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, base, http.MethodPost, tt.path, tt.key, tt.body)
			if r.status != tt.want.status || (tt.want.body != nil && !bytes.Equal(r.body, tt.want.body)) {
				t.Fatalf("answered %d %s, want %d %s", r.status, r.body, tt.want.status, tt.want.body)
			}
		})
	}
	for key, want := range map[string]int{"tx-1": 1, "tx-2": 0, "tx-3": 1, "tx-4": 0, "tx-5": 1} {
		if n := srv.SuccessfulCharges(key); n != want {
			t.Errorf("%s: %d successful charges after restart, want %d", key, n, want)
		}
	}
	if st, _ := srv.KeyStatus("tx-5"); st.Status != gateway.StatusRefunded {
		t.Errorf("tx-5 after restart: %+v, want refunded", st)
	}
}

func TestLedgerFile(t *testing.T) {
	good := `{"kind":"flaky","key":"tx-1"}` + "\n"
	tests := []struct {
		name    string
		content string
		wantErr bool
	}{
		{"empty", "", false},
		{"one entry", good, false},
		{"torn last line is dropped", good + `{"kind":"charge","key":"tx`, false},
		{"corrupt line", "{oops}\n" + good, true},
		{"unknown kind", `{"kind":"mint","key":"k"}` + "\n", true},
		{"incomplete charge", `{"kind":"charge","key":"k"}` + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := gateway.Open(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer srv.Close()
			// Appending after a torn line must start a clean line that a restart reads back.
			base := serve(t, srv)
			call(t, base, http.MethodPost, "/v1/charges", "tx-2", chargeBody(100, gateway.TokenVisa))
			srv.Close()
			again, err := gateway.Open(path)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer again.Close()
			if n := again.SuccessfulCharges("tx-2"); n != 1 {
				t.Fatalf("%d charges for tx-2 after reopening, want 1", n)
			}
		})
	}
}
