package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// These tests need no servers: they show that the checks the end-to-end suites run on every
// exchange and every event catch what breaks api/openapi.yaml and api/asyncapi.yaml.

func TestDocumentsLoad(t *testing.T) {
	if _, err := loadOpenAPI(); err != nil {
		t.Fatal(err)
	}
	a, err := loadAsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"inventory", "payment", "order", "order-status"} {
		if len(a.channels[ch]) == 0 || len(a.channels[ch+".dlt"]) == 0 {
			t.Errorf("channel %s or %s.dlt carries no message", ch, ch)
		}
	}
}

// TestContractTransportRefusesWhatTheDocumentDoesNot sends requests through the e2e client's
// transport to a fake program answering what each case says.
func TestContractTransportRefusesWhatTheDocumentDoesNot(t *testing.T) {
	const order = `{"transactionId":"3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10","status":"PENDING"}`
	errBody := `{"error":{"code":"INVALID_ITEMS","message":"items must not be empty"}}`
	valid := `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":2}],"paymentMethod":"pm_card_visa"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		headers                  map[string]string
		answer                   string
		wantErr                  string // "" when the exchange keeps to the document
	}{
		{"documented answer", "POST", "/orders", valid, 202, map[string]string{"Location": "/orders/3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10"}, order, ""},
		{"missing Location header", "POST", "/orders", valid, 202, nil, order, "Location"},
		{"status outside the enum", "POST", "/orders", valid, 202, map[string]string{"Location": "/orders/3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10"},
			`{"transactionId":"3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10","status":"DONE"}`, "does not match"},
		{"undocumented field", "POST", "/orders", valid, 202, map[string]string{"Location": "/orders/3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10"},
			`{"transactionId":"3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10","status":"PENDING","extra":1}`, "does not match"},
		{"undocumented status", "GET", "/products", "", 418, nil, `[]`, "does not list"},
		{"error body of another shape", "GET", "/products/SKU-1", "", 404, nil, `{"error":"no such product"}`, "does not match"},
		{"bad request refused with a 4xx", "POST", "/orders", `{"customerId":"alice","items":[],"paymentMethod":"pm_card_visa"}`, 400, nil, errBody, ""},
		{"bad request accepted", "POST", "/orders", `{"customerId":"alice","items":[],"paymentMethod":"pm_card_visa"}`, 202,
			map[string]string{"Location": "/orders/3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10"}, order, "not a 4xx"},
		{"path not in the document, refused", "GET", "/nowhere", "", 404, nil, errBody, ""},
		{"path not in the document, answered", "GET", "/nowhere", "", 200, nil, `{}`, "not an operation"},
		{"path not in the document, plain 404", "GET", "/nowhere", "", 404, nil, `404 page not found`, "not JSON"},
		{"method not allowed, refused", "PATCH", "/orders", "", 405, nil, errBody, ""},
		{"method not allowed, answered 404", "PATCH", "/orders", "", 404, nil, errBody, "not 405"},
		{"a page of orders", "GET", "/orders?customerId=alice&limit=1", "", 200, nil,
			`{"orders":[{"transactionId":"3f0c5a52-4c3b-4d7e-9a86-1f5e2d6c9b10","customerId":"alice","items":[{"sku":"A","quantity":1}],` +
				`"paymentMethod":"pm_card_visa","status":"CANCELLED","reason":"OUT_OF_STOCK","createdAt":"2026-11-25T12:00:00Z","updatedAt":"2026-11-25T12:00:01Z"}],"next":"c2"}`, ""},
		{"orders listed without customerId", "GET", "/orders", "", 200, nil, `{"orders":[]}`, "not a 4xx"},
		{"503 without Retry-After", "POST", "/orders", valid, 503, nil, `{"error":{"code":"OVERLOADED","message":"busy"}}`, "Retry-After"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.answer))
			}))
			defer srv.Close()
			req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("the exchange keeps to the document, yet: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error = %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
	t.Run("a route sent to the wrong program", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`[]`))
		}))
		defer srv.Close()
		registerServices(&target{orderURL: srv.URL})
		defer serviceTags.Delete(strings.TrimPrefix(srv.URL, "http://"))
		if _, err := httpClient.Get(srv.URL + "/products"); err == nil || !strings.Contains(err.Error(), "order-service") {
			t.Errorf("GET /products on order-service: error = %v, want one naming order-service", err)
		}
	})
}

// samplePayloads holds one payload of each event type as the Go code builds it, so a renamed,
// dropped or added field in platform/event breaks this test before any saga runs.
var samplePayloads = map[event.Type]any{
	event.TypeOrderCreate: event.OrderCreate{TransactionID: "tx-1", CustomerID: "alice", PaymentMethod: "pm_card_visa",
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}},
	event.TypeItemReserved: event.ItemReserved{TransactionID: "tx-1", CustomerID: "alice", PaymentMethod: "pm_card_visa",
		Items: []event.PricedItem{{SKU: "SKU-1001", Quantity: 2, UnitPrice: 350}}, Amount: 700, Currency: "EUR"},
	event.TypeOutOfStock:      event.OutOfStock{TransactionID: "tx-1", Reason: event.ReasonOutOfStock, SKU: "SKU-1001"},
	event.TypePaymentComplete: event.PaymentComplete{TransactionID: "tx-1", Amount: 700, Currency: "EUR", ChargeID: "ch_1"},
	event.TypePaymentFailed: event.PaymentFailed{TransactionID: "tx-1", Reason: event.ReasonPaymentDeclined, DeclineCode: "card_declined",
		Amount: 700, Currency: "EUR"},
	event.TypeItemReleased: event.ItemReleased{TransactionID: "tx-1", Reason: event.ReasonPaymentDeclined,
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}},
	event.TypeOrderExpired: event.OrderExpired{TransactionID: "tx-1", Reason: event.ReasonExpired,
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Deadline: time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)},
	event.TypeOrderCompleted: event.OrderCompleted{TransactionID: "tx-1", CustomerID: "alice", Status: event.StatusCompleted,
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}, Amount: 700, Currency: "EUR"},
	event.TypeOrderCancelled: event.OrderCancelled{TransactionID: "tx-1", CustomerID: "alice", Status: event.StatusCancelled,
		Reason: event.ReasonOutOfStock, Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}},
}

// sampleRecord is the record a program would publish for p.
func sampleRecord(t *testing.T, typ event.Type, p any) kafkatest.Record {
	t.Helper()
	e, err := event.New(typ, "/test-service", "tx-1", p)
	if err != nil {
		t.Fatal(err)
	}
	return kafkatest.Record{Key: e.Key, Value: e.Data, Headers: kafkatest.Headers(e)}
}

func TestGoPayloadsMatchAsyncAPI(t *testing.T) {
	a, err := loadAsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	for typ, p := range samplePayloads {
		t.Run(string(typ), func(t *testing.T) {
			r := sampleRecord(t, typ, p)
			channel := ""
			for ch, types := range a.channels {
				for _, ct := range types {
					if ct == string(typ) {
						channel = ch
					}
				}
			}
			if channel == "" {
				t.Fatalf("no channel of api/asyncapi.yaml carries %s", typ)
			}
			if err := a.checkRecord(channel, r); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestEventCheckRefusesWhatTheDocumentDoesNot feeds the event check records that break the
// document in one way each.
func TestEventCheckRefusesWhatTheDocumentDoesNot(t *testing.T) {
	a, err := loadAsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	good := func(t *testing.T) kafkatest.Record {
		return sampleRecord(t, event.TypeOrderCreate, samplePayloads[event.TypeOrderCreate])
	}
	withValue := func(v string) func(*kafkatest.Record) { return func(r *kafkatest.Record) { r.Value = []byte(v) } }
	cases := []struct {
		name    string
		channel string
		change  func(*kafkatest.Record)
		wantErr string
	}{
		{"as published", "inventory", func(*kafkatest.Record) {}, ""},
		{"on a channel that does not carry it", "order", func(*kafkatest.Record) {}, "carries only"},
		{"unknown type", "inventory", func(r *kafkatest.Record) { r.Headers["ce_type"] = "ORDER_SHIPPED" }, "not a message"},
		{"without ce_source", "inventory", func(r *kafkatest.Record) { delete(r.Headers, "ce_source") }, "headers"},
		{"ce_time not a date-time", "inventory", func(r *kafkatest.Record) { r.Headers["ce_time"] = "yesterday" }, "headers"},
		{"a required field missing", "inventory", withValue(`{"transactionId":"tx-1","items":[{"sku":"A","quantity":1}],"paymentMethod":"pm"}`), "payload"},
		{"a field renamed", "inventory", withValue(`{"transactionId":"tx-1","customer":"c","items":[{"sku":"A","quantity":1}],"paymentMethod":"pm"}`), "payload"},
		{"a quantity of zero", "inventory", withValue(`{"transactionId":"tx-1","customerId":"c","items":[{"sku":"A","quantity":0}],"paymentMethod":"pm"}`), "payload"},
		{"key not the transactionId", "inventory", func(r *kafkatest.Record) { r.Key = "tx-2" }, "key"},
		{"dead letter with its headers", "inventory.dlt", func(r *kafkatest.Record) {
			for k, v := range map[string]string{"dlt_reason": "bad", "dlt_original_topic": "inventory", "dlt_original_partition": "0",
				"dlt_original_offset": "7", "dlt_consumer_group": "inventory-service", "dlt_time": "2026-11-25T12:00:00Z"} {
				r.Headers[k] = v
			}
		}, ""},
		{"dead letter without a reason", "inventory.dlt", func(*kafkatest.Record) {}, "dead letter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good(t)
			c.change(&r)
			err := a.checkRecord(c.channel, r)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("the record keeps to the document, yet: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error = %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
}
