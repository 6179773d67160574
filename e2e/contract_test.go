package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/api"
)

// runContract checks the HTTP and event contract of issue #2 against a running platform. The
// subtests run one after another: some count what is on a topic before and after.
func runContract(t *testing.T, tg *target) {
	run := strings.ToUpper(uuid.NewString()[:8])
	sku := func(name string) string { return "E2E-" + run + "-" + name }

	t.Run("health", func(t *testing.T) {
		for _, base := range []string{tg.orderURL, tg.inventoryURL, tg.paymentURL, tg.gatewayURL} {
			for _, path := range []string{"/healthz", "/readyz"} {
				if status, _ := call(t, http.MethodGet, base+path, nil, nil, nil); status != http.StatusOK {
					t.Errorf("GET %s%s = %d", base, path, status)
				}
			}
		}
	})

	t.Run("catalog is seeded", func(t *testing.T) {
		var products []product
		status, hdr := call(t, http.MethodGet, tg.inventoryURL+"/products", nil, nil, &products)
		if status != http.StatusOK {
			t.Fatalf("GET /products = %d", status)
		}
		if got := hdr.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q; the storefront page cannot list the catalogue", got)
		}
		seeded := 0
		for _, p := range products {
			if strings.HasPrefix(p.SKU, "SKU-") {
				seeded++
				if p.Name == "" || p.Price <= 0 || p.Currency == "" {
					t.Errorf("product %+v lacks a name, price or currency", p)
				}
			}
		}
		if seeded < 5 {
			t.Errorf("%d seeded products, want at least 5", seeded)
		}
		var e errorBody
		if status, _ := call(t, http.MethodGet, tg.inventoryURL+"/products/NO-SUCH-SKU", nil, nil, &e); status != http.StatusNotFound || e.Error.Code == "" {
			t.Errorf("GET /products/NO-SUCH-SKU = %d %+v, want 404 with an error body", status, e)
		}
	})

	t.Run("storefront page", func(t *testing.T) {
		resp, err := httpClient.Get(tg.orderURL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{`"` + tg.inventoryURL + `"`, `fetch("/orders"`, "Idempotency-Key"} {
			if !strings.Contains(string(page), want) {
				t.Errorf("the storefront page lacks %s", want)
			}
		}
	})

	t.Run("order-service serves the API documents", func(t *testing.T) {
		for path, want := range map[string][]byte{"/openapi.yaml": api.OpenAPI, "/asyncapi.yaml": api.AsyncAPI} {
			resp, err := httpClient.Get(tg.orderURL + path)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
				t.Errorf("GET %s = %d with %d bytes, want 200 with the %d bytes of api/%s", path, resp.StatusCode, len(got), len(want), path[1:])
			}
		}
	})

	t.Run("happy path completes and charges the inventory price", func(t *testing.T) {
		s := sku("HAPPY")
		tg.addProduct(t, s, 1250, 10)
		id := tg.placeOrder(t, orderRequest{CustomerID: "alice", Items: []item{{s, 2}}, PaymentMethod: "pm_card_visa"})
		if o := tg.order(t, id); o.TransactionID != id || o.CustomerID != "alice" || o.CreatedAt == "" || !slices.Equal(o.Items, []item{{s, 2}}) {
			t.Errorf("GET right after POST = %+v", o)
		}
		o := tg.settled(t, id)
		if o.Status != "COMPLETED" || o.Amount == nil || *o.Amount != 2500 || o.Currency == "" || o.Reason != "" {
			t.Errorf("order = %+v, want COMPLETED for 2500", o)
		}
		tg.wantHistory(t, id, "ORDER_CREATE", "ITEM_RESERVED", "PAYMENT_COMPLETE")
		if p := tg.product(t, s); p.Available != 8 {
			t.Errorf("available = %d, want 8", p.Available)
		}
		if n := tg.successfulCharges(t, id); n != 1 {
			t.Errorf("%d successful charges, want 1", n)
		}
	})

	t.Run("a customer's orders and an order's stream keep to the document", func(t *testing.T) {
		s := sku("LIST")
		tg.addProduct(t, s, 100, 10)
		customer := "list-" + run
		first := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: customer, Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"}))
		second := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: customer, Items: []item{{s, 2}}, PaymentMethod: "pm_card_visa"}))
		var page struct {
			Orders []order `json:"orders"`
			Next   string  `json:"next"`
		}
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders?customerId="+customer+"&limit=1", nil, nil, &page); status != http.StatusOK ||
			len(page.Orders) != 1 || page.Orders[0].TransactionID != second.TransactionID || page.Next == "" {
			t.Fatalf("first page = %d %+v, want the newer order and a next cursor", status, page)
		}
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders?customerId="+customer+"&limit=1&cursor="+page.Next, nil, nil, &page); status != http.StatusOK ||
			len(page.Orders) != 1 || page.Orders[0].TransactionID != first.TransactionID {
			t.Fatalf("second page = %d %+v, want the older order", status, page)
		}
		var e errorBody
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders", nil, nil, &e); status != http.StatusBadRequest || e.Error.Code == "" {
			t.Errorf("GET /orders without customerId = %d %+v, want 400 with an error body", status, e)
		}
		// The stream of a settled order sends its history and ends.
		resp, err := httpClient.Get(tg.orderURL + "/orders/" + first.TransactionID + "/events")
		if err != nil {
			t.Fatal(err)
		}
		stream, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(stream), "PAYMENT_COMPLETE") {
			t.Errorf("GET /orders/{id}/events = %d %q, want 200 with the history", resp.StatusCode, stream)
		}
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders/"+uuid.NewString()+"/events", nil, nil, &e); status != http.StatusNotFound {
			t.Errorf("GET /orders/{unknown}/events = %d, want 404", status)
		}
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/topics/stream?back=-1", nil, nil, &e); status != http.StatusBadRequest || e.Error.Code != "INVALID_BACK" {
			t.Errorf("GET /topics/stream?back=-1 = %d %+v, want 400 INVALID_BACK", status, e)
		}
	})

	t.Run("out of stock cancels and reserves nothing", func(t *testing.T) {
		s := sku("SHORT")
		tg.addProduct(t, s, 100, 1)
		o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "bob", Items: []item{{s, 2}}, PaymentMethod: "pm_card_visa"}))
		if o.Status != "CANCELLED" || o.Reason != "OUT_OF_STOCK" {
			t.Errorf("order = %+v, want CANCELLED OUT_OF_STOCK", o)
		}
		tg.wantHistory(t, o.TransactionID, "ORDER_CREATE", "OUT_OF_STOCK")
		if p := tg.product(t, s); p.Available != 1 {
			t.Errorf("available = %d, want 1", p.Available)
		}
	})

	t.Run("unknown sku cancels", func(t *testing.T) {
		o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "bob", Items: []item{{sku("NOPE"), 1}}, PaymentMethod: "pm_card_visa"}))
		if o.Status != "CANCELLED" || o.Reason != "UNKNOWN_SKU" {
			t.Errorf("order = %+v, want CANCELLED UNKNOWN_SKU", o)
		}
	})

	t.Run("two items where one is short cancels entirely", func(t *testing.T) {
		plenty, short := sku("PLENTY"), sku("SHORT2")
		tg.addProduct(t, plenty, 100, 10)
		tg.addProduct(t, short, 100, 1)
		o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "bob", Items: []item{{plenty, 3}, {short, 2}}, PaymentMethod: "pm_card_visa"}))
		if o.Status != "CANCELLED" || o.Reason != "OUT_OF_STOCK" {
			t.Errorf("order = %+v, want CANCELLED OUT_OF_STOCK", o)
		}
		if a, b := tg.product(t, plenty).Available, tg.product(t, short).Available; a != 10 || b != 1 {
			t.Errorf("available = %d and %d, want 10 and 1 (nothing reserved)", a, b)
		}
	})

	t.Run("declined payment releases the stock and cancels", func(t *testing.T) {
		s := sku("DECLINE")
		tg.addProduct(t, s, 700, 5)
		o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "carol", Items: []item{{s, 3}}, PaymentMethod: "pm_card_declined"}))
		if o.Status != "CANCELLED" || o.Reason != "PAYMENT_DECLINED" {
			t.Errorf("order = %+v, want CANCELLED PAYMENT_DECLINED", o)
		}
		tg.wantHistory(t, o.TransactionID, "ORDER_CREATE", "ITEM_RESERVED", "ITEM_RELEASED")
		// ITEM_RELEASED reaches the order once inventory has committed the release.
		if p := tg.product(t, s); p.Available != 5 {
			t.Errorf("available = %d, want 5 (released)", p.Available)
		}
		if n := tg.successfulCharges(t, o.TransactionID); n != 0 {
			t.Errorf("a declined card was charged %d times", n)
		}
	})

	t.Run("200 concurrent orders for scarce stock never oversell", func(t *testing.T) {
		s := sku("RUSH")
		const stock, orders = 50, 200
		tg.addProduct(t, s, 999, stock)
		ids := make([]string, orders)
		var wg sync.WaitGroup
		for i := range orders {
			wg.Go(func() {
				var a accepted
				req := orderRequest{CustomerID: fmt.Sprintf("rush-%d", i), Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"}
				status, err := tryCall(context.Background(), tg.orderURL+"/orders", req, "", &a)
				// More at once than order-service's in-flight limit may be refused: a 503
				// stored nothing, so the client sends the order again after Retry-After.
				for deadline := time.Now().Add(time.Minute); err == nil && status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
					time.Sleep(time.Second)
					status, err = tryCall(context.Background(), tg.orderURL+"/orders", req, "", &a)
				}
				if err != nil || status != http.StatusAccepted {
					t.Errorf("order %d: POST /orders = %d, %v", i, status, err)
				}
				ids[i] = a.TransactionID
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		completed, outOfStock := 0, 0
		for _, id := range ids {
			switch o := tg.settled(t, id); {
			case o.Status == "COMPLETED":
				completed++
			case o.Status == "CANCELLED" && o.Reason == "OUT_OF_STOCK":
				outOfStock++
			default:
				t.Errorf("order %s ended %s %s", id, o.Status, o.Reason)
			}
		}
		if completed != stock || outOfStock != orders-stock {
			t.Errorf("%d completed and %d out of stock, want %d and %d", completed, outOfStock, stock, orders-stock)
		}
		if p := tg.product(t, s); p.Available != 0 {
			t.Errorf("available = %d, want 0", p.Available)
		}
	})

	t.Run("the same events delivered twice change nothing", func(t *testing.T) {
		s := sku("TWICE")
		tg.addProduct(t, s, 300, 10)
		id := tg.placeOrder(t, orderRequest{CustomerID: "dave", Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"})
		tg.settled(t, id)
		before := tg.handledOrder(t, id)
		// Re-deliver every event of this order to the topic it was consumed from: ORDER_CREATE,
		// ITEM_RESERVED (to payment and to order), PAYMENT_COMPLETE at least.
		events := tg.orderEvents(t, id)
		if len(events) < 4 {
			t.Fatalf("%d events of order %s read back, want at least 4 to deliver again", len(events), id)
		}
		for _, r := range events {
			inject(t, tg.brokers, r.topic, r.Key, r.Value, r.Headers)
		}
		after := tg.handledOrder(t, id)
		if after.Status != "COMPLETED" || len(after.History) != len(before.History) || after.UpdatedAt != before.UpdatedAt {
			t.Errorf("after duplicates the order is %+v, before %+v", after, before)
		}
		if p := tg.product(t, s); p.Available != 9 {
			t.Errorf("available = %d, want 9", p.Available)
		}
		if n := tg.successfulCharges(t, id); n != 1 {
			t.Errorf("%d successful charges, want 1", n)
		}
	})

	t.Run("a malformed event goes to the dead-letter topic while orders keep completing", func(t *testing.T) {
		key := "malformed-" + run
		inject(t, tg.brokers, tg.topics.Inventory, key, []byte("{not json"), map[string]string{"ce_type": "ORDER_CREATE"})
		s := sku("AFTERDLT")
		tg.addProduct(t, s, 100, 5)
		if o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "erin", Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"})); o.Status != "COMPLETED" {
			t.Errorf("order after the malformed event = %+v", o)
		}
		eventually(t, 30*time.Second, "the malformed event in the DLT", func() bool {
			for _, r := range tg.readEvents(t, tg.topics.Inventory+".dlt") {
				if r.Key == key && r.Headers["dlt_reason"] != "" {
					return true
				}
			}
			return false
		})
	})

	t.Run("an idempotency key makes a retried POST return the same order", func(t *testing.T) {
		s := sku("IDEM")
		tg.addProduct(t, s, 100, 5)
		req := orderRequest{CustomerID: "frank", Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"}
		key := map[string]string{"Idempotency-Key": "key-" + run}
		var first, second accepted
		if status, _ := call(t, http.MethodPost, tg.orderURL+"/orders", req, key, &first); status != http.StatusAccepted {
			t.Fatalf("first POST = %d", status)
		}
		if status, _ := call(t, http.MethodPost, tg.orderURL+"/orders", req, key, &second); status != http.StatusAccepted || second.TransactionID != first.TransactionID {
			t.Fatalf("retried POST = %d %+v, want 202 with %s", status, second, first.TransactionID)
		}
		tg.settled(t, first.TransactionID)
		if p := tg.product(t, s); p.Available != 4 {
			t.Errorf("available = %d, want 4 (one order)", p.Available)
		}
		creates := 0
		for _, r := range tg.readEvents(t, tg.topics.Inventory) {
			if r.Key == first.TransactionID {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("%d ORDER_CREATE events, want 1", creates)
		}
	})

	t.Run("bad requests get 4xx with a JSON error and publish nothing", func(t *testing.T) {
		before := len(tg.readEvents(t, tg.topics.Inventory))
		valid := `"customerId":"alice","paymentMethod":"pm_card_visa"`
		cases := []struct {
			name   string
			body   string
			status int
		}{
			{"malformed JSON", `{"customerId":`, 400},
			{"not an object", `[1,2]`, 400},
			{"empty body", ``, 400},
			{"customerId of the wrong type", `{"customerId":7,"paymentMethod":"pm_card_visa","items":[{"sku":"SKU-1001","quantity":1}]}`, 400},
			{"missing customerId", `{"paymentMethod":"pm_card_visa","items":[{"sku":"SKU-1001","quantity":1}]}`, 400},
			{"missing paymentMethod", `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":1}]}`, 400},
			{"no items", `{` + valid + `}`, 400},
			{"empty items", `{` + valid + `,"items":[]}`, 400},
			{"zero quantity", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":0}]}`, 400},
			{"negative quantity", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":-1}]}`, 400},
			{"fractional quantity", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":1.5}]}`, 400},
			{"quantity as a string", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":"2"}]}`, 400},
			{"absurd quantity", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":1000000000}]}`, 400},
			{"missing sku", `{` + valid + `,"items":[{"quantity":1}]}`, 400},
			{"card number instead of a token", `{"customerId":"alice","paymentMethod":"4242424242424242","items":[{"sku":"SKU-1001","quantity":1}]}`, 400},
			{"trailing garbage", `{` + valid + `,"items":[{"sku":"SKU-1001","quantity":1}]}]`, 400},
			{"body over 1 MiB", `{"customerId":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var e errorBody
				status, hdr := call(t, http.MethodPost, tg.orderURL+"/orders", c.body, nil, &e)
				if status != c.status || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("POST = %d %+v, want %d with an error code and message", status, e, c.status)
				}
				if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
			})
		}
		var e errorBody
		if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders/"+uuid.NewString(), nil, nil, &e); status != http.StatusNotFound || e.Error.Code == "" {
			t.Errorf("GET unknown order = %d %+v, want 404 with an error body", status, e)
		}
		// The outbox relay publishes asynchronously: an order placed after the bad requests
		// settles only once everything stored before it was published, so counting after it
		// settled finds anything a rejected request stored.
		s := sku("PROBE")
		tg.addProduct(t, s, 100, 10)
		probe := tg.placeOrder(t, orderRequest{CustomerID: "alice", Items: []item{{s, 1}}, PaymentMethod: "pm_card_visa"})
		tg.settled(t, probe)
		if after := len(tg.readEvents(t, tg.topics.Inventory)); after != before+1 {
			t.Errorf("rejected requests published %d events", after-before-1)
		}
	})
}

// wantHistory checks order id's history once every event of the order has been handled (see
// handledOrder: a terminal order's history can still lack an earlier step).
func (tg *target) wantHistory(t *testing.T, id string, types ...string) {
	t.Helper()
	o := tg.handledOrder(t, id)
	if got := o.historyTypes(); !slices.Equal(got, types) {
		t.Errorf("history = %v, want %v", got, types)
	}
	var last time.Time
	for _, h := range o.History {
		at, err := time.Parse(time.RFC3339, h.At)
		if err != nil {
			t.Errorf("history entry %+v: at is not RFC 3339", h)
		}
		if at.Before(last) {
			t.Errorf("history entry %+v is older than the one before it: history = %+v, want oldest first", h, o.History)
		}
		last = at
	}
}
