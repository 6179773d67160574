package ports_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/httpx"
)

// FuzzPlaceOrder sends arbitrary bodies and Idempotency-Keys to POST /orders (decoder,
// validation and store, on SQLite). No input may panic or fail with 5xx; a rejection is a 4xx
// with the JSON error body; an accepted order decodes and re-validates from the request, and is
// stored as sent, within the limits. Seeds: testdata/fuzz/FuzzPlaceOrder and the table below.
func FuzzPlaceOrder(f *testing.F) {
	for _, body := range []string{
		validBody,
		`{"customerId":"bob","items":[{"sku":"A","quantity":1},{"sku":"B","quantity":1000}],"paymentMethod":"pm_card_declined"}`,
		`{"customerId":"alice","items":[{"sku":"A","quantity":1001}],"paymentMethod":"pm_card_visa"}`,
		`{"customerId":"alice","items":[{"sku":"A","quantity":1},{"sku":"A","quantity":1}],"paymentMethod":"pm_card_visa"}`,
		`{"customerId":"alice","items":[{"sku":"A","quantity":1}],"paymentMethod":"4242424242424242"}`,
		`{"customerId":"\u00e9\u0000","items":[{"sku":"\ud800","quantity":1}],"paymentMethod":"pm_x"}`,
		`{"CUSTOMERID":"alice","Items":[{"SKU":"A","Quantity":1}],"paymentmethod":"pm_card_visa"}`,
		`{"customerId":"alice","items":[{"sku":"A","quantity":1e2}],"paymentMethod":"pm_card_visa"}`,
		`{"customerId":"alice","items":null,"paymentMethod":"pm_card_visa"} `,
		`{"customerId":`, `[]`, `null`, ``, `{}{}`,
	} {
		f.Add(body, "")
		f.Add(body, "key-1")
	}
	repo, err := adapters.NewSQLiteRepository(filepath.Join(f.TempDir(), "orders.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { repo.Close() })
	engine := httpx.NewEngine(nil)
	ports.RegisterHTTP(engine, app.New(repo, "inventory", nil), slog.New(slog.DiscardHandler))

	f.Fuzz(func(t *testing.T, body, key string) {
		if strings.ContainsAny(key, "\r\n\x00") {
			t.Skip("not a header value an HTTP client can send")
		}
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		engine.ServeHTTP(rec, req)

		var sent struct {
			CustomerID string `json:"customerId"`
			Items      []struct {
				SKU      string
				Quantity int
			} `json:"items"`
			PaymentMethod string `json:"paymentMethod"`
		}
		decodes := json.Unmarshal([]byte(body), &sent) == nil
		switch rec.Code {
		case http.StatusAccepted:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			var e httpx.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d with body %q, want a JSON error", rec.Code, rec.Body)
			}
			if rec.Code == http.StatusUnprocessableEntity && (key == "" || e.Error.Code != ports.CodeIdempotencyKeyReused) {
				t.Fatalf("422 %s without a reused Idempotency-Key", rec.Body)
			}
			return
		default:
			t.Fatalf("POST /orders answered %d %s", rec.Code, rec.Body)
		}

		// Accepted: the request decodes and is a valid order by the domain's own rules.
		if !decodes {
			t.Fatalf("accepted a body that does not decode: %q", body)
		}
		var resp struct{ TransactionID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.TransactionID == "" {
			t.Fatalf("202 body %s", rec.Body)
		}
		items := make([]domain.Item, len(sent.Items))
		for i, it := range sent.Items {
			items[i] = domain.Item{SKU: it.SKU, Quantity: it.Quantity}
		}
		if _, err := domain.NewOrder(resp.TransactionID, sent.CustomerID, items, sent.PaymentMethod, time.Now()); err != nil {
			t.Fatalf("accepted an order the domain rejects: %v", err)
		}
		got, err := repo.GetOrder(t.Context(), resp.TransactionID)
		if err != nil {
			t.Fatalf("accepted order %s not stored: %v", resp.TransactionID, err)
		}
		if key != "" {
			return // a replay answers an earlier order, stored from an earlier body
		}
		if got.CustomerID != sent.CustomerID || got.PaymentMethod != sent.PaymentMethod || !reflect.DeepEqual(got.Items, items) ||
			got.Status != domain.StatusPending {
			t.Fatalf("stored %+v, sent %+v", got, sent)
		}
		if len(got.Items) < 1 || len(got.Items) > domain.MaxItems || utf8.RuneCountInString(got.CustomerID) > domain.MaxFieldLength ||
			!strings.HasPrefix(got.PaymentMethod, "pm_") {
			t.Fatalf("stored order outside the limits: %+v", got)
		}
		for _, it := range got.Items {
			if it.Quantity < 1 || it.Quantity > domain.MaxQuantity || it.SKU == "" || utf8.RuneCountInString(it.SKU) > domain.MaxFieldLength {
				t.Fatalf("stored item outside the limits: %+v", it)
			}
		}
	})
}
