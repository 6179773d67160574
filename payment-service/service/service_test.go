package service_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/payment-service/gateway"
	"github.com/edmshop/edm-shop/payment-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

const timeout = 30 * time.Second

// produceReserved writes an ITEM_RESERVED as inventory-service would, in CloudEvents binary mode.
func produceReserved(t *testing.T, brokers, topic, txID, paymentMethod string) {
	t.Helper()
	value, err := json.Marshal(event.ItemReserved{
		TransactionID: txID, CustomerID: "c-1",
		Items:  []event.PricedItem{{SKU: "sku-1", Quantity: 2, UnitPrice: 1500}},
		Amount: 3000, Currency: "EUR", PaymentMethod: paymentMethod,
	})
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.Produce(t, brokers, topic, txID, value, headers(txID, event.TypeItemReserved))
}

func headers(txID string, typ event.Type) map[string]string {
	return kafkatest.Headers(event.Event{ID: event.IDFor(txID, typ), Type: typ, Source: "/inventory-service", Time: time.Now()})
}

// waitFor reads topic until it holds want records with key, and returns them.
func waitFor(t *testing.T, brokers, topic, key string, want int) []kafkatest.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []kafkatest.Record
		for _, r := range kafkatest.ReadAll(t, brokers, topic) {
			if r.Key == key {
				got = append(got, r)
			}
		}
		if len(got) >= want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d records with key %s after %v, want %d", topic, len(got), key, timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestService(t *testing.T) {
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.All()...)
	sim := gateway.NewServer()
	// In front of the simulator, a gateway that refuses one key for good (422), as a real one
	// does for a charge it will never accept.
	simHandler := sim.Handler()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(gateway.IdempotencyKeyHeader) == "tx-refused" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"error":{"code":"amount_too_large","message":"refused"}}`))
			return
		}
		simHandler.ServeHTTP(w, r)
	}))
	defer gw.Close()

	addr := nettest.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, service.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics}, GatewayURL: gw.URL},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return after its context was cancelled")
		}
	}
	defer stop()

	// Everything is produced up front; the service works through it while we check.
	produceReserved(t, brokers, topics.Payment, "tx-visa", gateway.TokenVisa)
	produceReserved(t, brokers, topics.Payment, "tx-declined", gateway.TokenDeclined)
	produceReserved(t, brokers, topics.Payment, "tx-broke", gateway.TokenInsufficientFunds)
	produceReserved(t, brokers, topics.Payment, "tx-refused", gateway.TokenVisa)
	produceReserved(t, brokers, topics.Payment, "tx-flaky", gateway.TokenFlaky)
	produceReserved(t, brokers, topics.Payment, "tx-twice", gateway.TokenMastercard)
	produceReserved(t, brokers, topics.Payment, "tx-twice", gateway.TokenMastercard)
	kafkatest.Produce(t, brokers, topics.Payment, "tx-garbled", []byte("{not json"), headers("tx-garbled", event.TypeItemReserved))
	kafkatest.Produce(t, brokers, topics.Payment, "tx-incomplete", []byte(`{"transactionId":"tx-incomplete"}`), headers("tx-incomplete", event.TypeItemReserved))

	outcomes := []struct {
		txID        string
		topic       string
		typ         event.Type
		declineCode string
	}{
		{"tx-visa", topics.Order, event.TypePaymentComplete, ""},
		{"tx-flaky", topics.Order, event.TypePaymentComplete, ""},
		{"tx-declined", topics.Inventory, event.TypePaymentFailed, gateway.CodeCardDeclined},
		{"tx-broke", topics.Inventory, event.TypePaymentFailed, gateway.CodeInsufficientFunds},
		// A refusal for good is a failed payment with the gateway's code, not a dead letter.
		{"tx-refused", topics.Inventory, event.TypePaymentFailed, "amount_too_large"},
	}
	for _, o := range outcomes {
		t.Run(o.txID, func(t *testing.T) {
			r := waitFor(t, brokers, o.topic, o.txID, 1)[0]
			if r.Headers["ce_type"] != string(o.typ) || r.Headers["ce_source"] != "/payment-service" ||
				r.Headers["ce_id"] != event.IDFor(o.txID, o.typ) || r.Headers["ce_specversion"] != "1.0" {
				t.Fatalf("headers %v, want a %s from /payment-service", r.Headers, o.typ)
			}
			if o.typ == event.TypePaymentComplete {
				var p event.PaymentComplete
				if err := json.Unmarshal(r.Value, &p); err != nil || p.TransactionID != o.txID || p.Amount != 3000 || p.Currency != "EUR" || p.ChargeID == "" {
					t.Fatalf("payload %s (%v)", r.Value, err)
				}
				if n := sim.SuccessfulCharges(o.txID); n != 1 {
					t.Fatalf("%d successful charges, want 1", n)
				}
				return
			}
			var p event.PaymentFailed
			if err := json.Unmarshal(r.Value, &p); err != nil || p.TransactionID != o.txID || p.Reason != event.ReasonPaymentDeclined ||
				p.DeclineCode != o.declineCode || p.Amount != 3000 || p.Currency != "EUR" {
				t.Fatalf("payload %s (%v)", r.Value, err)
			}
			if n := sim.SuccessfulCharges(o.txID); n != 0 {
				t.Fatalf("%d successful charges, want 0", n)
			}
		})
	}

	t.Run("redelivered ITEM_RESERVED charges once and re-sends the same event", func(t *testing.T) {
		records := waitFor(t, brokers, topics.Order, "tx-twice", 2)
		if len(records) != 2 || records[0].Headers["ce_id"] != records[1].Headers["ce_id"] {
			t.Fatalf("got %d records with ce_ids %q and %q, want 2 with the same id", len(records), records[0].Headers["ce_id"], records[1].Headers["ce_id"])
		}
		if n := sim.SuccessfulCharges("tx-twice"); n != 1 {
			t.Fatalf("%d successful charges, want 1", n)
		}
	})

	for _, key := range []string{"tx-garbled", "tx-incomplete"} {
		t.Run("poison "+key+" is dead-lettered", func(t *testing.T) {
			r := waitFor(t, brokers, kafka.DeadLetterTopic(topics.Payment), key, 1)[0]
			if r.Headers[kafka.HeaderDLTReason] == "" || r.Headers[kafka.HeaderDLTGroup] != service.DefaultGroupID {
				t.Fatalf("dead letter headers %v", r.Headers)
			}
		})
	}

	t.Run("readyz follows the gateway", func(t *testing.T) {
		deadline := time.Now().Add(timeout)
		for get(t, "http://"+addr+"/readyz") != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("readyz not 200 with everything up after %v", timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
		gw.Close()
		if status := get(t, "http://"+addr+"/readyz"); status != http.StatusServiceUnavailable {
			t.Fatalf("readyz %d with the gateway down, want 503", status)
		}
		if status := get(t, "http://"+addr+"/healthz"); status != http.StatusOK {
			t.Fatalf("healthz %d, want 200", status)
		}
	})

	stop()
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0 // not listening yet
	}
	resp.Body.Close()
	return resp.StatusCode
}
