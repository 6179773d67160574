package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/inventory-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// harness is a running inventory-service over SQLite and an in-process Kafka.
type harness struct {
	t       *testing.T
	brokers string
	base    string
}

// adminToken is the operator token of the harness's service.
const adminToken = "test-admin"

func start(t *testing.T) *harness {
	t.Helper()
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.All()...)
	ctx := context.Background()
	repo, err := adapters.NewSQLiteRepository(ctx, filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	for _, p := range []domain.Product{
		{SKU: "T-A", Name: "Test Synth", Price: 2500, Currency: "EUR", Available: 10},
		{SKU: "T-B", Name: "Test Vinyl", Price: 1000, Currency: "EUR", Available: 1},
		{SKU: "T-U", Name: "Test Import", Price: 900, Currency: "USD", Available: 5},
	} {
		if err := repo.UpsertProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	addr := nettest.FreeAddr(t)
	cfg := service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "inventory-service"}, AdminToken: adminToken}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- service.Run(runCtx, cfg, repo, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not stop within 15 s of cancel")
		}
	})
	h := &harness{t: t, brokers: brokers, base: "http://" + addr}
	h.poll("ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run stopped: %v", err)
		default:
		}
		status, _ := h.get("/readyz")
		return status == http.StatusOK
	})
	return h
}

// poll waits until cond holds, for at most 30 s.
func (h *harness) poll(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) get(path string) (int, []byte) {
	resp, err := http.Get(h.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (h *harness) product(sku string) domain.Product {
	h.t.Helper()
	status, body := h.get("/products/" + sku)
	var p struct {
		SKU       string `json:"sku"`
		Available int    `json:"available"`
		Reserved  int    `json:"reserved"`
	}
	if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil {
		h.t.Fatalf("GET /products/%s: %d %s", sku, status, body)
	}
	return domain.Product{SKU: p.SKU, Available: p.Available, Reserved: p.Reserved}
}

// send produces e to the inventory topic as a CloudEvents binary-mode message.
func (h *harness) send(e event.Event) {
	h.t.Helper()
	kafkatest.ProduceEvent(h.t, h.brokers, "inventory", e)
}

// records returns the messages on topic with key txID and ce_type typ.
func (h *harness) records(topic, txID string, typ event.Type) []kafkatest.Record {
	h.t.Helper()
	var out []kafkatest.Record
	for _, r := range kafkatest.ReadAll(h.t, h.brokers, topic) {
		if r.Key == txID && (typ == "" || r.Headers["ce_type"] == string(typ)) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls until topic holds a message of type typ for txID and returns the first.
func (h *harness) waitFor(topic, txID string, typ event.Type) kafkatest.Record {
	h.t.Helper()
	var got []kafkatest.Record
	h.poll(fmt.Sprintf("%s for %s on %s", typ, txID, topic), func() bool {
		got = h.records(topic, txID, typ)
		return len(got) > 0
	})
	return got[0]
}

func orderCreated(t *testing.T, txID string, items ...event.Item) event.Event {
	e, err := event.New(event.TypeOrderCreate, "/order-service", txID, event.OrderCreate{TransactionID: txID, CustomerID: "cust-7", Items: items, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func paymentFailed(t *testing.T, txID string) event.Event {
	e, err := event.New(event.TypePaymentFailed, "/payment-service", txID, event.PaymentFailed{TransactionID: txID, Reason: "card_declined", Amount: 1, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func unmarshal(t *testing.T, r kafkatest.Record, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Value, v); err != nil {
		t.Fatalf("payload %s: %v", r.Value, err)
	}
}

func TestService(t *testing.T) {
	h := start(t)

	// The catalogue: sorted, seeded, and a JSON 404 for an unknown SKU.
	status, body := h.get("/products")
	var products []map[string]any
	if err := json.Unmarshal(body, &products); status != http.StatusOK || err != nil || len(products) != 8 {
		t.Fatalf("GET /products: %d %s", status, body)
	}
	var skus []string
	for _, p := range products {
		skus = append(skus, p["sku"].(string))
	}
	if got := strings.Join(skus, " "); got != "SKU-1001 SKU-1002 SKU-1003 SKU-1004 SKU-1005 T-A T-B T-U" {
		t.Fatalf("skus %s", got)
	}
	status, body = h.get("/products/NOPE")
	if status != http.StatusNotFound || !strings.Contains(string(body), `"code":"PRODUCT_NOT_FOUND"`) {
		t.Fatalf("GET /products/NOPE: %d %s", status, body)
	}

	// Reserved: ITEM_RESERVED on payment and order, priced by inventory.
	h.send(orderCreated(t, "tx-1", event.Item{SKU: "T-A", Quantity: 2}, event.Item{SKU: "T-B", Quantity: 1}))
	for _, topic := range []string{"payment", "order"} {
		r := h.waitFor(topic, "tx-1", event.TypeItemReserved)
		var p event.ItemReserved
		unmarshal(t, r, &p)
		if p.Amount != 6000 || p.Currency != "EUR" || p.CustomerID != "cust-7" || p.PaymentMethod != "pm_card_visa" || len(p.Items) != 2 ||
			r.Headers["ce_source"] != "/inventory-service" || r.Headers["ce_id"] != event.IDFor("tx-1", event.TypeItemReserved) {
			t.Fatalf("ITEM_RESERVED on %s: %+v %v", topic, p, r.Headers)
		}
	}
	if p := h.product("T-A"); p.Available != 8 || p.Reserved != 2 {
		t.Fatalf("T-A after reserve: %+v", p)
	}

	// T-B is sold out now: OUT_OF_STOCK on order, and T-A is not touched.
	h.send(orderCreated(t, "tx-2", event.Item{SKU: "T-A", Quantity: 1}, event.Item{SKU: "T-B", Quantity: 1}))
	var rejected event.OutOfStock
	unmarshal(t, h.waitFor("order", "tx-2", event.TypeOutOfStock), &rejected)
	if rejected.Reason != event.ReasonOutOfStock || rejected.SKU != "T-B" {
		t.Fatalf("OUT_OF_STOCK %+v", rejected)
	}
	if p := h.product("T-A"); p.Available != 8 {
		t.Fatalf("T-A after a rejected order: %+v", p)
	}

	// Products priced in two currencies cannot be one charge: the order is rejected with the
	// reason (order-service cancels it), not dead-lettered, and nothing is reserved.
	h.send(orderCreated(t, "tx-mixed", event.Item{SKU: "T-A", Quantity: 1}, event.Item{SKU: "T-U", Quantity: 1}))
	unmarshal(t, h.waitFor("order", "tx-mixed", event.TypeOutOfStock), &rejected)
	if rejected.Reason != event.ReasonMixedCurrency || rejected.SKU != "T-U" {
		t.Fatalf("OUT_OF_STOCK for mixed currencies %+v", rejected)
	}
	if a, u := h.product("T-A"), h.product("T-U"); a.Available != 8 || u.Available != 5 {
		t.Fatalf("stock after a mixed-currency order: %+v %+v", a, u)
	}
	if dead := kafkatest.ReadAll(t, h.brokers, kafka.DeadLetterTopic("inventory")); len(dead) != 0 {
		t.Fatalf("%d dead letters after a mixed-currency order", len(dead))
	}

	// PAYMENT_FAILED: ITEM_RELEASED on order, stock back.
	h.send(paymentFailed(t, "tx-1"))
	var released event.ItemReleased
	unmarshal(t, h.waitFor("order", "tx-1", event.TypeItemReleased), &released)
	if released.Reason != event.ReasonPaymentDeclined || len(released.Items) != 2 {
		t.Fatalf("ITEM_RELEASED %+v", released)
	}
	if a, b := h.product("T-A"), h.product("T-B"); a.Available != 10 || a.Reserved != 0 || b.Available != 1 || b.Reserved != 0 {
		t.Fatalf("after release: %+v %+v", a, b)
	}

	// The same ORDER_CREATE twice, then poison with the same key: once the poison reached the
	// DLT, both copies were processed (one partition, in order).
	dup := orderCreated(t, "tx-3", event.Item{SKU: "T-A", Quantity: 3})
	h.send(dup)
	h.send(dup)
	kafkatest.Produce(t, h.brokers, "inventory", "tx-3", []byte(`{"transactionId":`), map[string]string{
		"ce_specversion": "1.0", "ce_id": "bad-json", "ce_type": string(event.TypeOrderCreate), "ce_source": "/order-service", "content-type": "application/json",
	})
	kafkatest.Produce(t, h.brokers, "inventory", "tx-3", []byte(`{}`), map[string]string{"ce_type": string(event.TypeOrderCreate)})
	kafkatest.Produce(t, h.brokers, "inventory", "tx-3", []byte(`{}`), map[string]string{
		"ce_specversion": "1.0", "ce_id": "unknown-type", "ce_type": "SOMETHING_ELSE", "ce_source": "/test",
	})
	var dead []kafkatest.Record
	h.poll("3 dead letters", func() bool {
		dead = h.records("inventory.dlt", "tx-3", "")
		return len(dead) == 3
	})
	for _, r := range dead {
		if r.Headers[kafka.HeaderDLTReason] == "" {
			t.Fatalf("dead letter without %s: %v", kafka.HeaderDLTReason, r.Headers)
		}
	}
	for _, topic := range []string{"payment", "order"} {
		if n := len(h.records(topic, "tx-3", event.TypeItemReserved)); n != 1 {
			t.Fatalf("%d ITEM_RESERVED for tx-3 on %s, want 1", n, topic)
		}
	}
	if p := h.product("T-A"); p.Available != 7 || p.Reserved != 3 {
		t.Fatalf("T-A after a duplicated order: %+v", p)
	}

	// Later events still flow after the poison.
	h.send(orderCreated(t, "tx-3b", event.Item{SKU: "NOPE", Quantity: 1}))
	unmarshal(t, h.waitFor("order", "tx-3b", event.TypeOutOfStock), &rejected)
	if rejected.Reason != event.ReasonUnknownSKU || rejected.SKU != "NOPE" {
		t.Fatalf("OUT_OF_STOCK %+v", rejected)
	}
	h.send(paymentFailed(t, "tx-3"))
	h.waitFor("order", "tx-3", event.TypeItemReleased)
	if p := h.product("T-A"); p.Available != 10 || p.Reserved != 0 {
		t.Fatalf("T-A at the end: %+v", p)
	}
}

// TestRunFailsWithoutBroker checks that Run reports an unreachable broker instead of hanging.
func TestRunFailsWithoutBroker(t *testing.T) {
	repo, err := adapters.NewSQLiteRepository(context.Background(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cfg := service.Config{Service: config.Service{HTTPAddr: nettest.FreeAddr(t), Brokers: nettest.FreeAddr(t), Topics: config.DefaultTopics, GroupID: "inventory-service"}}
	err = service.Run(ctx, cfg, repo, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "ensure topics") {
		t.Fatalf("Run without a broker: %v, want the topics' creation to fail", err)
	}
}
