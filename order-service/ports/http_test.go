package ports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/httpx"
)

const validBody = `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":2}],"paymentMethod":"pm_card_visa"}`

type fixture struct {
	repo    *adapters.SQLiteRepository
	app     *app.App
	handler http.Handler
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	repo, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	a := app.New(repo, "inventory", nil)
	engine := httpx.NewEngine(nil)
	ports.RegisterHTTP(engine, a, slog.New(slog.DiscardHandler))
	return fixture{repo: repo, app: a, handler: engine}
}

func (f fixture) do(t *testing.T, method, path, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func (f fixture) outboxLen(t *testing.T) int {
	t.Helper()
	recs, err := f.repo.PendingOutbox(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// assertError checks the status and that the body is exactly {"error":{"code":..,"message":..}}.
func assertError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != 1 || len(body["error"]) != 2 {
		t.Fatalf("body = %s, want {\"error\":{\"code\":..,\"message\":..}}", rec.Body)
	}
	if body["error"]["code"] != code {
		t.Errorf("error code = %v, want %s", body["error"]["code"], code)
	}
	if msg, _ := body["error"]["message"].(string); msg == "" {
		t.Errorf("error message is empty: %s", rec.Body)
	}
}

func order(customer, items, pm string) string {
	return fmt.Sprintf(`{"customerId":%s,"items":%s,"paymentMethod":%s}`, customer, items, pm)
}

func TestPlaceOrderRejectsBadRequests(t *testing.T) {
	long := `"` + strings.Repeat("x", 129) + `"`
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf(`{"sku":"SKU-%d","quantity":1}`, i))
	}
	tests := []struct {
		name   string
		body   string
		header map[string]string
		status int
		code   string
	}{
		{"malformed JSON", `{"customerId":`, nil, 400, "MALFORMED_JSON"},
		{"empty body", ``, nil, 400, "MALFORMED_JSON"},
		{"not an object", `[1,2]`, nil, 400, "INVALID_FIELD"},
		{"trailing data", validBody + `{}`, nil, 400, "MALFORMED_JSON"},
		{"customerId not a string", order(`42`, `[{"sku":"A","quantity":1}]`, `"pm_card_visa"`), nil, 400, "INVALID_FIELD"},
		{"items not a list", order(`"alice"`, `"A"`, `"pm_card_visa"`), nil, 400, "INVALID_FIELD"},
		{"quantity a string", order(`"alice"`, `[{"sku":"A","quantity":"2"}]`, `"pm_card_visa"`), nil, 400, "INVALID_FIELD"},
		{"quantity a fraction", order(`"alice"`, `[{"sku":"A","quantity":1.5}]`, `"pm_card_visa"`), nil, 400, "INVALID_FIELD"},
		{"quantity overflows", order(`"alice"`, `[{"sku":"A","quantity":1e40}]`, `"pm_card_visa"`), nil, 400, "INVALID_FIELD"},
		{"missing customerId", `{"items":[{"sku":"A","quantity":1}],"paymentMethod":"pm_card_visa"}`, nil, 400, "INVALID_CUSTOMER_ID"},
		{"blank customerId", order(`"  "`, `[{"sku":"A","quantity":1}]`, `"pm_card_visa"`), nil, 400, "INVALID_CUSTOMER_ID"},
		{"long customerId", order(long, `[{"sku":"A","quantity":1}]`, `"pm_card_visa"`), nil, 400, "INVALID_CUSTOMER_ID"},
		{"missing paymentMethod", `{"customerId":"alice","items":[{"sku":"A","quantity":1}]}`, nil, 400, "INVALID_PAYMENT_METHOD"},
		{"long paymentMethod", order(`"alice"`, `[{"sku":"A","quantity":1}]`, long), nil, 400, "INVALID_PAYMENT_METHOD"},
		{"missing items", `{"customerId":"alice","paymentMethod":"pm_card_visa"}`, nil, 400, "INVALID_ITEMS"},
		{"null items", order(`"alice"`, `null`, `"pm_card_visa"`), nil, 400, "INVALID_ITEMS"},
		{"empty items", order(`"alice"`, `[]`, `"pm_card_visa"`), nil, 400, "INVALID_ITEMS"},
		{"101 items", order(`"alice"`, "["+strings.Join(many, ",")+"]", `"pm_card_visa"`), nil, 400, "INVALID_ITEMS"},
		{"missing sku", order(`"alice"`, `[{"quantity":1}]`, `"pm_card_visa"`), nil, 400, "INVALID_SKU"},
		{"null item", order(`"alice"`, `[null]`, `"pm_card_visa"`), nil, 400, "INVALID_SKU"},
		{"long sku", order(`"alice"`, `[{"sku":`+long+`,"quantity":1}]`, `"pm_card_visa"`), nil, 400, "INVALID_SKU"},
		{"missing quantity", order(`"alice"`, `[{"sku":"A"}]`, `"pm_card_visa"`), nil, 400, "INVALID_QUANTITY"},
		{"zero quantity", order(`"alice"`, `[{"sku":"A","quantity":0}]`, `"pm_card_visa"`), nil, 400, "INVALID_QUANTITY"},
		{"negative quantity", order(`"alice"`, `[{"sku":"A","quantity":-3}]`, `"pm_card_visa"`), nil, 400, "INVALID_QUANTITY"},
		{"absurd quantity", order(`"alice"`, `[{"sku":"A","quantity":1001}]`, `"pm_card_visa"`), nil, 400, "INVALID_QUANTITY"},
		{"duplicate sku", order(`"alice"`, `[{"sku":"A","quantity":1},{"sku":"A","quantity":1}]`, `"pm_card_visa"`), nil, 400, "DUPLICATE_SKU"},
		{"long idempotency key", validBody, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, 400, "INVALID_IDEMPOTENCY_KEY"},
		{"body over 1 MiB", order(`"`+strings.Repeat("a", httpx.MaxBodyBytes)+`"`, `[]`, `"pm_card_visa"`), nil, 413, "BODY_TOO_LARGE"},
	}
	f := newFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodPost, "/orders", tc.body, tc.header)
			assertError(t, rec, tc.status, tc.code)
			if n := f.outboxLen(t); n != 0 {
				t.Errorf("a rejected request left %d outbox records", n)
			}
		})
	}
}

func placeOrder(t *testing.T, f fixture, body string, header map[string]string) string {
	t.Helper()
	rec := f.do(t, http.MethodPost, "/orders", body, header)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s, want 202", rec.Code, rec.Body)
	}
	var resp struct{ TransactionID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	id := resp.TransactionID
	if u, err := uuid.Parse(id); err != nil || u.Version() != 4 || rec.Body.String() != acceptedBody(id) {
		t.Fatalf("body = %s, want {\"transactionId\":<uuid v4>,\"status\":\"PENDING\"}", rec.Body)
	}
	if loc := rec.Header().Get("Location"); loc != "/orders/"+id {
		t.Errorf("Location = %q, want /orders/%s", loc, id)
	}
	return id
}

func acceptedBody(id string) string {
	return `{"transactionId":"` + id + `","status":"PENDING"}`
}

func getOrder(t *testing.T, f fixture, id string) map[string]any {
	t.Helper()
	rec := f.do(t, http.MethodGet, "/orders/"+id, "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /orders/%s = %d %s, want 200", id, rec.Code, rec.Body)
	}
	var o map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPlaceAndGetOrder(t *testing.T) {
	f := newFixture(t)
	id := placeOrder(t, f, validBody, nil)
	if n := f.outboxLen(t); n != 1 {
		t.Errorf("outbox has %d records, want 1", n)
	}
	o := getOrder(t, f, id)
	for key, want := range map[string]any{"transactionId": id, "customerId": "alice", "paymentMethod": "pm_card_visa", "status": "PENDING"} {
		if o[key] != want {
			t.Errorf("%s = %v, want %v", key, o[key], want)
		}
	}
	for _, key := range []string{"reason", "amount", "currency"} {
		if _, ok := o[key]; ok {
			t.Errorf("%s present in a new order: %v", key, o)
		}
	}
	if items, _ := json.Marshal(o["items"]); string(items) != `[{"quantity":2,"sku":"SKU-1001"}]` {
		t.Errorf("items = %s", items)
	}
	for _, key := range []string{"createdAt", "updatedAt"} {
		if s, _ := o[key].(string); !isRFC3339(s) {
			t.Errorf("%s = %v, want RFC 3339", key, o[key])
		}
	}
	history, _ := o["history"].([]any)
	if len(history) != 1 {
		t.Fatalf("history = %v, want one entry", o["history"])
	}
	h, _ := history[0].(map[string]any)
	if at, _ := h["at"].(string); h["type"] != "ORDER_CREATE" || !isRFC3339(at) || h["eventId"] != event.IDFor(id, event.TypeOrderCreate) {
		t.Errorf("history[0] = %v, want ORDER_CREATE", h)
	}
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func TestGetOrderAfterEvents(t *testing.T) {
	f := newFixture(t)
	id := placeOrder(t, f, validBody, nil)
	mustApply(t, f.app.OnOutOfStock, event.TypeOutOfStock, id, event.OutOfStock{TransactionID: id, Reason: event.ReasonUnknownSKU, SKU: "SKU-1001"})
	mustApply(t, f.app.OnItemReserved, event.TypeItemReserved, id, event.ItemReserved{TransactionID: id, CustomerID: "alice",
		Items: []event.PricedItem{{SKU: "SKU-1001", Quantity: 2, UnitPrice: 999}}, Amount: 1998, Currency: "EUR", PaymentMethod: "pm_card_visa"})
	o := getOrder(t, f, id)
	if o["status"] != "CANCELLED" || o["reason"] != "UNKNOWN_SKU" || o["amount"] != float64(1998) || o["currency"] != "EUR" {
		t.Errorf("order = %v, want CANCELLED UNKNOWN_SKU with amount 1998 EUR", o)
	}
	history, _ := json.Marshal(o["history"])
	var got []struct {
		Type    string
		Applied bool
	}
	json.Unmarshal(history, &got)
	want := fmt.Sprint([]struct {
		Type    string
		Applied bool
	}{{"ORDER_CREATE", true}, {"OUT_OF_STOCK", true}, {"ITEM_RESERVED", false}})
	if fmt.Sprint(got) != want {
		t.Errorf("history = %s, want %s", history, want)
	}
}

func mustApply(t *testing.T, handle func(context.Context, event.Event) error, typ event.Type, id string, payload any) {
	t.Helper()
	e, err := event.New(typ, "/test", id, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := handle(context.Background(), e); err != nil {
		t.Fatalf("apply %s: %v", typ, err)
	}
}

func TestGetOrderNotFound(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{uuid.NewString(), "not-a-uuid", strings.Repeat("x", 3000)} {
		assertError(t, f.do(t, http.MethodGet, "/orders/"+id, "", nil), http.StatusNotFound, ports.CodeOrderNotFound)
	}
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "checkout-" + uuid.NewString()}
	id := placeOrder(t, f, validBody, key)

	retry := f.do(t, http.MethodPost, "/orders", validBody, key)
	if want := acceptedBody(id); retry.Code != http.StatusAccepted || retry.Body.String() != want || retry.Header().Get("Location") != "/orders/"+id {
		t.Errorf("retry = %d %s, want 202 %s", retry.Code, retry.Body, want)
	}
	// The same request spelled differently is still the same request.
	respaced := `{ "paymentMethod": "pm_card_visa", "items": [ {"quantity": 2, "sku": "SKU-1001"} ], "customerId": "alice" }`
	if got := placeOrder(t, f, respaced, key); got != id {
		t.Errorf("retry with reformatted body got %s, want %s", got, id)
	}
	if n := f.outboxLen(t); n != 1 {
		t.Errorf("outbox has %d records after retries, want 1", n)
	}

	other := order(`"alice"`, `[{"sku":"SKU-1001","quantity":3}]`, `"pm_card_visa"`)
	assertError(t, f.do(t, http.MethodPost, "/orders", other, key), http.StatusUnprocessableEntity, ports.CodeIdempotencyKeyReused)
	if n := f.outboxLen(t); n != 1 {
		t.Errorf("outbox has %d records after a reused key, want 1", n)
	}

	if got := placeOrder(t, f, validBody, map[string]string{"Idempotency-Key": "another-" + uuid.NewString()}); got == id {
		t.Error("a different key returned the same order")
	}
	if got := placeOrder(t, f, validBody, nil); got == id {
		t.Error("a request without a key returned an existing order")
	}
	if n := f.outboxLen(t); n != 3 {
		t.Errorf("outbox has %d records, want 3", n)
	}
}
