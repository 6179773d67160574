package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// TestService runs order-service against an in-process broker and SQLite: an order goes out as
// ORDER_CREATE on the inventory topic, and events on the order topic move it to COMPLETED.
func TestService(t *testing.T) {
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.Order, topics.Inventory, topics.OrderStatus)
	repo := newRepo(t)
	addr := nettest.FreeAddr(t)
	base := "http://" + addr

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "order-service"}}, repo, slog.New(slog.DiscardHandler))
	}()
	waitReady(t, base)

	// Rejected requests publish nothing: checked below, the topic holds only the good order.
	for _, body := range []string{`{"customerId":`, `{"customerId":"alice","items":[],"paymentMethod":"pm"}`} {
		if status, _ := post(t, base, body); status != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", body, status)
		}
	}

	status, resp := post(t, base, `{"customerId":"alice","items":[{"sku":"SKU-1001","quantity":2}],"paymentMethod":"pm_card_visa"}`)
	if status != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s", status, resp)
	}
	var accepted struct{ TransactionID string }
	json.Unmarshal(resp, &accepted)
	id := accepted.TransactionID

	var records []kafkatest.Record
	eventually(t, 20*time.Second, "ORDER_CREATE on the inventory topic", func() bool {
		records = kafkatest.ReadAll(t, brokers, topics.Inventory)
		return len(records) > 0
	})
	if len(records) != 1 {
		t.Fatalf("inventory topic has %d records, want only the accepted order's", len(records))
	}
	rec := records[0]
	if rec.Key != id {
		t.Errorf("key = %q, want %s", rec.Key, id)
	}
	wantHeaders := map[string]string{"ce_specversion": "1.0", "ce_id": event.IDFor(id, event.TypeOrderCreate),
		"ce_type": "ORDER_CREATE", "ce_source": "/order-service", "content-type": "application/json"}
	for k, want := range wantHeaders {
		if rec.Headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, rec.Headers[k], want)
		}
	}
	if _, err := time.Parse(time.RFC3339, rec.Headers["ce_time"]); err != nil {
		t.Errorf("ce_time %q: %v", rec.Headers["ce_time"], err)
	}
	var created event.OrderCreate
	if err := json.Unmarshal(rec.Value, &created); err != nil {
		t.Fatal(err)
	}
	if created.TransactionID != id || created.CustomerID != "alice" || created.PaymentMethod != "pm_card_visa" ||
		len(created.Items) != 1 || created.Items[0] != (event.Item{SKU: "SKU-1001", Quantity: 2}) {
		t.Errorf("payload = %s", rec.Value)
	}

	produce(t, brokers, topics.Order, event.TypeItemReserved, id, event.ItemReserved{TransactionID: id, CustomerID: "alice",
		Items: []event.PricedItem{{SKU: "SKU-1001", Quantity: 2, UnitPrice: 999}}, Amount: 1998, Currency: "EUR", PaymentMethod: "pm_card_visa"})
	produce(t, brokers, topics.Order, event.TypePaymentComplete, id, event.PaymentComplete{TransactionID: id, Amount: 1998, Currency: "EUR", ChargeID: "ch_1"})
	var order struct {
		Status   string
		Amount   int64
		Currency string
		History  []struct{ Type string }
	}
	eventually(t, 20*time.Second, "order COMPLETED", func() bool {
		get(t, base+"/orders/"+id, &order)
		return order.Status == "COMPLETED"
	})
	if order.Amount != 1998 || order.Currency != "EUR" || len(order.History) != 3 {
		t.Errorf("order = %+v, want 1998 EUR with three history entries", order)
	}

	// Reaching COMPLETED announces it once on the order-status topic.
	var statuses []kafkatest.Record
	eventually(t, 20*time.Second, "ORDER_COMPLETED on the order-status topic", func() bool {
		statuses = kafkatest.ReadAll(t, brokers, topics.OrderStatus)
		return len(statuses) > 0
	})
	if len(statuses) != 1 || statuses[0].Key != id || statuses[0].Headers["ce_type"] != "ORDER_COMPLETED" ||
		statuses[0].Headers["ce_id"] != event.IDFor(id, event.TypeOrderCompleted) {
		t.Fatalf("order-status topic = %+v, want one ORDER_COMPLETED for %s", statuses, id)
	}
	var outcome event.OrderOutcome
	if err := json.Unmarshal(statuses[0].Value, &outcome); err != nil {
		t.Fatal(err)
	}
	if outcome.TransactionID != id || outcome.CustomerID != "alice" || outcome.Status != "COMPLETED" || outcome.Amount != 1998 ||
		outcome.Currency != "EUR" || len(outcome.Items) != 1 || outcome.Items[0] != (event.Item{SKU: "SKU-1001", Quantity: 2}) {
		t.Errorf("ORDER_COMPLETED payload = %s", statuses[0].Value)
	}

	// Events on different topics arrive out of order: PAYMENT_COMPLETE before ITEM_RESERVED
	// completes the order at once; the late ITEM_RESERVED is recorded but not applied, a
	// redelivered PAYMENT_COMPLETE (same ce_id) changes nothing, and a later cancel is too late.
	// All have the same key, so they are consumed in this order.
	status, resp = post(t, base, `{"customerId":"bob","items":[{"sku":"SKU-1002","quantity":1}],"paymentMethod":"pm_card_visa"}`)
	if status != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s", status, resp)
	}
	json.Unmarshal(resp, &accepted)
	id2 := accepted.TransactionID
	paid := event.PaymentComplete{TransactionID: id2, Amount: 500, Currency: "EUR", ChargeID: "ch_2"}
	produce(t, brokers, topics.Order, event.TypePaymentComplete, id2, paid)
	produce(t, brokers, topics.Order, event.TypeItemReserved, id2, event.ItemReserved{TransactionID: id2, CustomerID: "bob",
		Items: []event.PricedItem{{SKU: "SKU-1002", Quantity: 1, UnitPrice: 500}}, Amount: 500, Currency: "EUR", PaymentMethod: "pm_card_visa"})
	produce(t, brokers, topics.Order, event.TypePaymentComplete, id2, paid)
	produce(t, brokers, topics.Order, event.TypeOutOfStock, id2, event.OutOfStock{TransactionID: id2, Reason: event.ReasonOutOfStock})
	var order2 struct {
		Status, Reason string
		Amount         int64
		History        []struct {
			Type    string
			Applied bool
		}
	}
	eventually(t, 20*time.Second, "OUT_OF_STOCK recorded", func() bool {
		get(t, base+"/orders/"+id2, &order2)
		return len(order2.History) > 0 && order2.History[len(order2.History)-1].Type == "OUT_OF_STOCK"
	})
	want := "[{ORDER_CREATE true} {PAYMENT_COMPLETE true} {ITEM_RESERVED false} {OUT_OF_STOCK false}]"
	if got := fmt.Sprint(order2.History); got != want || order2.Status != "COMPLETED" || order2.Reason != "" || order2.Amount != 500 {
		t.Errorf("order = %+v, want COMPLETED 500 with history %s", order2, want)
	}
	// One announcement per order, however many events it saw after its outcome.
	eventually(t, 20*time.Second, "the second order announced", func() bool {
		return len(kafkatest.ReadAll(t, brokers, topics.OrderStatus)) >= 2
	})
	statuses = kafkatest.ReadAll(t, brokers, topics.OrderStatus)
	perOrder := map[string]int{}
	for _, r := range statuses {
		if r.Headers["ce_type"] == "ORDER_COMPLETED" {
			perOrder[r.Key]++
		}
	}
	if len(statuses) != 2 || perOrder[id] != 1 || perOrder[id2] != 1 {
		t.Errorf("order-status topic = %+v, want one ORDER_COMPLETED per order", statuses)
	}

	// An event for an order that does not exist can never apply: it is dead-lettered.
	unknown := "00000000-0000-4000-8000-000000000000"
	produce(t, brokers, topics.Order, event.TypeItemReleased, unknown, event.ItemReleased{TransactionID: unknown, Reason: event.ReasonPaymentDeclined})
	eventually(t, 20*time.Second, "event for an unknown order dead-lettered", func() bool {
		return len(kafkatest.ReadAll(t, brokers, kafka.DeadLetterTopic(topics.Order))) == 1
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop within 10 s of cancel")
	}
}

// newRepo opens an order store in SQLite in the test's directory, closed when the test ends.
func newRepo(t *testing.T) *adapters.SQLiteRepository {
	t.Helper()
	repo, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// waitReady polls base's /readyz until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	eventually(t, 20*time.Second, "service ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startService runs order-service with cfg over repo and waits until it is ready; stop cancels
// it and fails the test if Run returned an error.
func startService(t *testing.T, cfg service.Config, repo app.Repository) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg, repo, slog.New(slog.DiscardHandler)) }()
	waitReady(t, "http://"+cfg.HTTPAddr)
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, base, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// produce writes an event the way the other services do: CloudEvents headers, key = transactionId.
func produce(t *testing.T, brokers, topic string, typ event.Type, id string, payload any) {
	t.Helper()
	source := "/inventory-service"
	if typ == event.TypePaymentComplete {
		source = "/payment-service"
	}
	e, err := event.New(typ, source, id, payload)
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.ProduceEvent(t, brokers, topic, e)
}
