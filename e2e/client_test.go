package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/kafkatest"
)

// target is a running platform the contract is checked against: the in-process sandbox or the
// services as processes on real servers.
type target struct {
	orderURL, inventoryURL, paymentURL, gatewayURL string
	brokers                                        string
	topics                                         config.Topics
	// addProduct creates or resets a product, so a test owns its stock.
	addProduct func(t *testing.T, sku string, price int64, available int)
}

// httpClient checks every exchange against api/openapi.yaml (contractTransport).
var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: contractTransport{next: http.DefaultTransport}}

// call sends a JSON request and decodes the JSON answer into out (when not nil).
func call(t testing.TB, method, url string, body any, headers map[string]string, out any) (int, http.Header) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %v: %s", method, url, resp.StatusCode, err, data)
		}
	}
	return resp.StatusCode, resp.Header
}

type item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type orderRequest struct {
	CustomerID    string `json:"customerId"`
	Items         []item `json:"items"`
	PaymentMethod string `json:"paymentMethod"`
}

type accepted struct {
	TransactionID string `json:"transactionId"`
	Status        string `json:"status"`
}

type historyEntry struct {
	Type string `json:"type"`
	At   string `json:"at"`
}

type order struct {
	TransactionID string         `json:"transactionId"`
	CustomerID    string         `json:"customerId"`
	Items         []item         `json:"items"`
	Status        string         `json:"status"`
	Reason        string         `json:"reason"`
	Amount        *int64         `json:"amount"`
	Currency      string         `json:"currency"`
	CreatedAt     string         `json:"createdAt"`
	UpdatedAt     string         `json:"updatedAt"`
	History       []historyEntry `json:"history"`
}

func (o order) historyTypes() []string {
	var out []string
	for _, h := range o.History {
		out = append(out, h.Type)
	}
	return out
}

type product struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	Currency  string `json:"currency"`
	Available int    `json:"available"`
	Reserved  int    `json:"reserved"`
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// placeOrder posts an order and expects it accepted.
func (tg *target) placeOrder(t testing.TB, req orderRequest) string {
	t.Helper()
	var a accepted
	status, hdr := call(t, http.MethodPost, tg.orderURL+"/orders", req, nil, &a)
	if status != http.StatusAccepted || a.TransactionID == "" || a.Status != "PENDING" {
		t.Fatalf("POST /orders = %d %+v, want 202 with a transactionId and PENDING", status, a)
	}
	if loc := hdr.Get("Location"); loc != "/orders/"+a.TransactionID {
		t.Errorf("Location = %q, want /orders/%s", loc, a.TransactionID)
	}
	return a.TransactionID
}

func (tg *target) order(t testing.TB, id string) order {
	t.Helper()
	var o order
	if status, _ := call(t, http.MethodGet, tg.orderURL+"/orders/"+id, nil, nil, &o); status != http.StatusOK {
		t.Fatalf("GET /orders/%s = %d", id, status)
	}
	return o
}

func terminal(status string) bool { return status == "COMPLETED" || status == "CANCELLED" }

// settled polls the order until it is COMPLETED or CANCELLED.
func (tg *target) settled(t testing.TB, id string) order {
	t.Helper()
	var o order
	eventually(t, 60*time.Second, fmt.Sprintf("order %s to settle", id), func() bool {
		o = tg.order(t, id)
		return terminal(o.Status)
	})
	return o
}

func (tg *target) product(t testing.TB, sku string) product {
	t.Helper()
	var p product
	if status, _ := call(t, http.MethodGet, tg.inventoryURL+"/products/"+sku, nil, nil, &p); status != http.StatusOK {
		t.Fatalf("GET /products/%s = %d", sku, status)
	}
	return p
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drained returns once the consumers of the three topics have processed every event of key sent
// before the call. It sends each topic a marker no consumer can process, with the same key (so
// the same partition, behind those events), and waits for the marker in the dead-letter topic.
// The topics are drained in saga order, so what one consumer re-published is drained by the next.
func (tg *target) drained(t testing.TB, key string) {
	t.Helper()
	for _, topic := range []string{tg.topics.Inventory, tg.topics.Payment, tg.topics.Order} {
		marker := "drain-marker-" + uuid.NewString()
		inject(t, tg.brokers, topic, key, []byte(marker), nil)
		eventually(t, 30*time.Second, "the drain marker in "+topic+".dlt", func() bool {
			for _, r := range tg.readEvents(t, topic+".dlt") {
				if string(r.Value) == marker {
					return true
				}
			}
			return false
		})
	}
}

// handledOrder returns order id once every event of it sent so far has been handled. A terminal
// status is not the order's last event: inventory-service and payment-service both publish to
// the order topic, and payment-service may act on its copy of ITEM_RESERVED and publish
// PAYMENT_COMPLETE before inventory's copy reaches the order topic (order-service then sorts
// the late entry into the history by its time).
func (tg *target) handledOrder(t testing.TB, id string) order {
	t.Helper()
	tg.drained(t, id)
	return tg.order(t, id)
}

// topicRecord is an event as read from one of the saga's topics.
type topicRecord struct {
	topic string
	kafkatest.Record
}

// orderEvents reads the events of order id (its key) on the three saga topics, all of them
// before it returns, so that a caller may re-send them without reading its own re-sends.
func (tg *target) orderEvents(t testing.TB, id string) []topicRecord {
	t.Helper()
	var events []topicRecord
	for _, topic := range []string{tg.topics.Inventory, tg.topics.Payment, tg.topics.Order} {
		for _, r := range tg.readEvents(t, topic) {
			if r.Key == id {
				events = append(events, topicRecord{topic, r})
			}
		}
	}
	return events
}

// successfulCharges asks the payment gateway how many approved charges it made for an order:
// payment-service charges with the transactionId as the idempotency key.
func (tg *target) successfulCharges(t testing.TB, transactionID string) int {
	t.Helper()
	var list struct {
		Data []struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	if status, _ := call(t, http.MethodGet, tg.gatewayURL+"/v1/charges?idempotencyKey="+transactionID, nil, nil, &list); status != http.StatusOK {
		t.Fatalf("GET /v1/charges = %d", status)
	}
	n := 0
	for _, c := range list.Data {
		if c.Status == "succeeded" {
			n++
		}
	}
	return n
}

// tryCall is call for loops that expect failures: it returns errors instead of failing the test.
func tryCall(ctx context.Context, url string, body any, idempotencyKey string, out any) (int, error) {
	method := http.MethodGet
	var r io.Reader
	if body != nil {
		method = http.MethodPost
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}
