package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/payment-service/gateway"
)

// TestChargesReadFromAnswers checks that what the gateway reads back from its compact ledger,
// decoding the stored answers, is exactly what it answered: each listed charge encodes to the
// bytes of the charge in its POST answer, in the order charged, and every read answers the same
// bytes after the ledger is reloaded from its journal.
func TestChargesReadFromAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.jsonl")
	srv, err := gateway.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	odd := `{"amount":5,"currency":"USD","paymentMethod":"pm_<odd>&\"é\"","description":"<b>ünïcode</b> & \u2028"}`
	posts := []struct{ key, body string }{
		{"tx-visa", chargeBody(100, gateway.TokenVisa)},
		{"tx-declined", chargeBody(200, gateway.TokenDeclined)},
		{"tx-odd", odd},
		{"tx-funds", chargeBody(300, gateway.TokenInsufficientFunds)},
		{"tx-mc", `{"amount":400,"currency":"EUR","paymentMethod":"pm_card_mastercard"}`},
		{strings.Repeat("k", 255), chargeBody(500, gateway.TokenVisa)},
	}
	var ids []string
	for _, p := range posts {
		r := do(t, h, http.MethodPost, "/v1/charges", p.key, p.body)
		raw := r.body // the charge's JSON: the body of a 201, its "charge" in a 402
		if r.status == http.StatusPaymentRequired {
			var d struct{ Charge json.RawMessage }
			if err := json.Unmarshal(r.body, &d); err != nil {
				t.Fatal(err)
			}
			raw = d.Charge
		}
		ch := decode[gateway.Charge](t, response{body: raw})
		ids = append(ids, ch.ID)
		if got, _ := json.Marshal(ch); !bytes.Equal(got, raw) {
			t.Fatalf("%s: charge %s re-encodes as %s", p.key, raw, got)
		}
		list := decode[gateway.ChargeList](t, do(t, h, http.MethodGet, "/v1/charges?idempotencyKey="+p.key, "", ""))
		if got, _ := json.Marshal(list.Data); string(got) != "["+string(raw)+"]" {
			t.Fatalf("%s: listed %s, want [%s]", p.key, got, raw)
		}
	}
	do(t, h, http.MethodPost, "/v1/refunds", "re-visa", refundBody("tx-visa"))
	do(t, h, http.MethodPost, "/v1/refunds", "re-declined", refundBody("tx-declined"))
	do(t, h, http.MethodPost, "/v1/refunds", "re-void", refundBody("tx-void"))

	reads := []struct{ method, path, key, body string }{
		{http.MethodGet, "/v1/charges", "", ""},
		{http.MethodGet, "/v1/charges?idempotencyKey=tx-odd", "", ""},
		{http.MethodGet, "/v1/charges?idempotencyKey=tx-void", "", ""},
		{http.MethodGet, "/v1/charges?idempotencyKey=", "", ""},
		{http.MethodGet, "/v1/charges/tx-visa", "", ""},
		{http.MethodGet, "/v1/charges/tx-declined", "", ""},
		{http.MethodGet, "/v1/charges/tx-void", "", ""},
		{http.MethodGet, "/v1/charges/tx-mc", "", ""},
		{http.MethodGet, "/v1/charges/" + ids[2], "", ""},
		{http.MethodGet, "/v1/charges/" + ids[3], "", ""},
		{http.MethodGet, "/v1/charges/ch_000000000000000000000000", "", ""},
		{http.MethodPost, "/v1/charges", "tx-odd", odd},
		{http.MethodPost, "/v1/charges", "tx-odd", strings.Replace(odd, "pm_<odd>", "pm_<ODD>", 1)},
		{http.MethodPost, "/v1/charges", "tx-mc", chargeBody(400, gateway.TokenMastercard)},
		{http.MethodPost, "/v1/charges", "tx-mc", `{"amount":400,"currency":"EUX","paymentMethod":"pm_card_mastercard"}`},
		{http.MethodPost, "/v1/refunds", "re-again", refundBody("tx-visa")},
	}
	before := make([]response, len(reads))
	for i, rd := range reads {
		before[i] = do(t, h, rd.method, rd.path, rd.key, rd.body)
	}
	all := decode[gateway.ChargeList](t, before[0])
	if len(all.Data) != len(ids) {
		t.Fatalf("listed %d charges, want %d", len(all.Data), len(ids))
	}
	for i, ch := range all.Data {
		if ch.ID != ids[i] {
			t.Fatalf("charge %d listed is %s, want %s (oldest first)", i, ch.ID, ids[i])
		}
	}
	srv = restart(t, srv, path)
	h = srv.Handler()
	for i, rd := range reads {
		t.Run(rd.method+" "+rd.path+" "+rd.key, func(t *testing.T) {
			if rd.path == "/v1/refunds" && rd.key == "re-again" {
				before[i].body = nil // a new refund id each time; its status is compared
			}
			r := do(t, h, rd.method, rd.path, rd.key, rd.body)
			if r.status != before[i].status || (before[i].body != nil && !bytes.Equal(r.body, before[i].body)) {
				t.Fatalf("after reload %d %s, before %d %s", r.status, r.body, before[i].status, before[i].body)
			}
		})
	}
}

// TestJournalWithAKeyChargedTwice loads a journal that records two charges for one key, which
// the gateway never writes but a merged or edited file may hold: both are kept and counted, and
// the newest answers the key.
func TestJournalWithAKeyChargedTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.jsonl")
	srv, err := gateway.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	do(t, srv.Handler(), http.MethodPost, "/v1/charges", "tx-1", chargeBody(100, gateway.TokenVisa))
	do(t, srv.Handler(), http.MethodPost, "/v1/charges", "tx-2", chargeBody(100, gateway.TokenVisa))
	srv.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	first := lines[0]
	var e struct{ Charge struct{ ID string } }
	if err := json.Unmarshal([]byte(first), &e); err != nil {
		t.Fatal(err)
	}
	second := strings.ReplaceAll(first, e.Charge.ID, "ch_second")
	if err := os.WriteFile(path, []byte(first+lines[1]+second), 0o600); err != nil {
		t.Fatal(err)
	}

	srv, err = gateway.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	tests := []struct {
		name, key string
		wantIDs   []string // listed for the key, oldest first
		wantN     int      // successful charges
	}{
		{"charged twice", "tx-1", []string{e.Charge.ID, "ch_second"}, 2},
		{"charged once", "tx-2", nil, 1},
		{"never charged", "tx-3", []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := srv.SuccessfulCharges(tt.key); n != tt.wantN {
				t.Fatalf("%d successful charges, want %d", n, tt.wantN)
			}
			list := decode[gateway.ChargeList](t, do(t, h, http.MethodGet, "/v1/charges?idempotencyKey="+tt.key, "", ""))
			if tt.wantIDs == nil {
				return
			}
			var got []string
			for _, ch := range list.Data {
				got = append(got, ch.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Fatalf("listed %v, want %v", got, tt.wantIDs)
			}
		})
	}
	if r := do(t, h, http.MethodPost, "/v1/charges", "tx-1", chargeBody(100, gateway.TokenVisa)); decode[gateway.Charge](t, r).ID != "ch_second" {
		t.Fatalf("replayed %s, want the newest charge", r.body)
	}
	if r := do(t, h, http.MethodGet, "/v1/charges/ch_second", "", ""); decode[gateway.Charge](t, r).ID != "ch_second" {
		t.Fatalf("GET by id answered %d %s", r.status, r.body)
	}
}

// restart closes srv and opens a gateway on its journal at path again, closed when the test ends.
func restart(t *testing.T, srv *gateway.Server, path string) *gateway.Server {
	t.Helper()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}
