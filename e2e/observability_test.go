package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/telemetry"
	"github.com/edmshop/edm-shop/sandbox"
)

// TestSandboxObservability checks the metrics every service serves and the trace an order
// leaves across the three services, against the in-process sandbox with a span recorder.
func TestSandboxObservability(t *testing.T) {
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	spans := tracetest.NewSpanRecorder()
	sb, err := sandbox.Start(context.Background(), sandbox.Config{
		Log:       slog.New(slog.NewTextHandler(logOut, nil)),
		Telemetry: telemetry.Options{SpanProcessors: []sdktrace.SpanProcessor{spans}, DisableExport: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if err := sb.Wait(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	tg := &target{
		orderURL: sb.OrderURL, inventoryURL: sb.InventoryURL, paymentURL: sb.PaymentURL, gatewayURL: sb.GatewayURL,
		brokers: sb.Brokers, topics: sb.Topics,
		addProduct: func(t *testing.T, sku string, price int64, available int) {
			if err := sb.Inventory.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: price, Currency: "EUR", Available: available}); err != nil {
				t.Fatal(err)
			}
		},
	}
	registerServices(tg)
	t.Run("metrics move by exactly what happened", func(t *testing.T) { checkMetrics(t, tg) })
	t.Run("one trace per order across the services", func(t *testing.T) { checkTraces(t, tg, spans) })
	t.Run("every program serves its metrics", func(t *testing.T) { checkServedTelemetry(t, tg) })
}

// expectation is how much one series of one service must have moved.
type expectation struct {
	service string
	metric  string
	labels  map[string]string
	delta   float64
}

func (e expectation) String() string {
	return fmt.Sprintf("%s %s%v", e.service, e.metric, e.labels)
}

func checkMetrics(t *testing.T, tg *target) {
	bases := map[string]string{"order": tg.orderURL, "inventory": tg.inventoryURL, "payment": tg.paymentURL, "gateway": tg.gatewayURL}
	scrapeAll := func(t *testing.T) map[string]scrape {
		out := map[string]scrape{}
		for name, base := range bases {
			out[name] = scrapeMetrics(t, base)
		}
		return out
	}
	// expectMoves polls until every expectation holds against before, or fails with the misses.
	expectMoves := func(t *testing.T, before map[string]scrape, want []expectation) {
		t.Helper()
		var misses []string
		deadline := time.Now().Add(20 * time.Second)
		for {
			after := scrapeAll(t)
			misses = misses[:0]
			for _, e := range want {
				got := after[e.service].value(e.metric, e.labels) - before[e.service].value(e.metric, e.labels)
				if got != e.delta {
					misses = append(misses, fmt.Sprintf("%v moved by %v, want %v (series: %v)", e, got, e.delta, after[e.service].series(e.metric)))
				}
			}
			if len(misses) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, m := range misses {
			t.Error(m)
		}
	}
	consumed := func(service, topic, typ, outcome string, delta float64) expectation {
		return expectation{service, "edm_events_consumed_total", labels("topic", topic, "type", typ, "outcome", outcome), delta}
	}
	published := func(service, topic, typ string, delta float64) expectation {
		return expectation{service, "edm_events_published_total", labels("topic", topic, "type", typ), delta}
	}
	topics := tg.topics
	run := strings.ToUpper(uuid.NewString()[:8])

	before := scrapeAll(t)
	okSKU, shortSKU, declineSKU := "OBS-"+run+"-OK", "OBS-"+run+"-SHORT", "OBS-"+run+"-DECLINE"
	tg.addProduct(t, okSKU, 500, 10)
	tg.addProduct(t, shortSKU, 100, 0)
	tg.addProduct(t, declineSKU, 300, 5)
	completed := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "obs", Items: []item{{okSKU, 1}}, PaymentMethod: "pm_card_visa"}))
	outOfStock := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "obs", Items: []item{{shortSKU, 1}}, PaymentMethod: "pm_card_visa"}))
	declined := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "obs", Items: []item{{declineSKU, 1}}, PaymentMethod: "pm_card_declined"}))
	if completed.Status != "COMPLETED" || outOfStock.Reason != "OUT_OF_STOCK" || declined.Reason != "PAYMENT_DECLINED" {
		t.Fatalf("orders ended %s, %s %s, %s %s", completed.Status, outOfStock.Status, outOfStock.Reason, declined.Status, declined.Reason)
	}
	// A poison event of a known type and one of a type nobody knows: both dead-lettered.
	inject(t, tg.brokers, topics.Inventory, "poison-"+run, []byte("{not json"), map[string]string{"ce_type": "ORDER_CREATE"})
	inject(t, tg.brokers, topics.Inventory, "stranger-"+run, []byte("{}"), map[string]string{
		"ce_specversion": "1.0", "ce_id": "stranger-" + run, "ce_type": "NOT_A_SAGA_EVENT", "ce_source": "/e2e"})
	if status, _ := call(t, http.MethodGet, tg.orderURL+"/no/such/"+run, nil, nil, nil); status != http.StatusNotFound {
		t.Errorf("GET an unknown path = %d", status)
	}

	expectMoves(t, before, []expectation{
		// order-service
		{"order", "http_server_request_duration_seconds", labels("method", "POST", "route", "/orders", "status", "202"), 3},
		{"order", "http_server_request_duration_seconds", labels("method", "GET", "route", "unmatched", "status", "404"), 1},
		published("order", topics.Inventory, "ORDER_CREATE", 3),
		consumed("order", topics.Order, "ITEM_RESERVED", "applied", 2),
		consumed("order", topics.Order, "PAYMENT_COMPLETE", "applied", 1),
		consumed("order", topics.Order, "OUT_OF_STOCK", "applied", 1),
		consumed("order", topics.Order, "ITEM_RELEASED", "applied", 1),
		consumed("order", topics.Order, "", "duplicate", 0),
		consumed("order", topics.Order, "", "dead_lettered", 0),
		{"order", "edm_event_handle_duration_seconds", labels("topic", topics.Order), 5},
		{"order", "edm_event_delivery_delay_seconds", labels("topic", topics.Order), 5},
		{"order", "edm_saga_duration_seconds", labels("outcome", "COMPLETED"), 1},
		{"order", "edm_saga_duration_seconds", labels("outcome", "OUT_OF_STOCK"), 1},
		{"order", "edm_saga_duration_seconds", labels("outcome", "PAYMENT_DECLINED"), 1},
		// inventory-service
		consumed("inventory", topics.Inventory, "ORDER_CREATE", "applied", 3),
		consumed("inventory", topics.Inventory, "PAYMENT_FAILED", "applied", 1),
		consumed("inventory", topics.Inventory, "ORDER_CREATE", "dead_lettered", 1),
		consumed("inventory", topics.Inventory, "unknown", "dead_lettered", 1),
		consumed("inventory", topics.Inventory, "", "duplicate", 0),
		published("inventory", topics.Payment, "ITEM_RESERVED", 2),
		published("inventory", topics.Order, "ITEM_RESERVED", 2),
		published("inventory", topics.Order, "OUT_OF_STOCK", 1),
		published("inventory", topics.Order, "ITEM_RELEASED", 1),
		// payment-service
		consumed("payment", topics.Payment, "ITEM_RESERVED", "applied", 2),
		published("payment", topics.Order, "PAYMENT_COMPLETE", 1),
		published("payment", topics.Inventory, "PAYMENT_FAILED", 1),
		{"payment", "edm_payment_gateway_requests_total", labels("outcome", "approved"), 1},
		{"payment", "edm_payment_gateway_requests_total", labels("outcome", "declined"), 1},
		{"payment", "edm_payment_gateway_requests_total", labels("outcome", "error"), 0},
		{"payment", "edm_payment_gateway_request_duration_seconds", nil, 2},
		// the gateway simulator
		{"gateway", "http_server_request_duration_seconds", labels("method", "POST", "route", "/v1/charges", "status", "201"), 1},
		{"gateway", "http_server_request_duration_seconds", labels("method", "POST", "route", "/v1/charges", "status", "402"), 1},
	})

	t.Run("duplicates are counted as such and change nothing", func(t *testing.T) {
		before := scrapeAll(t)
		id := completed.TransactionID
		// orderEvents reads everything first: what payment-service re-sends must not be re-sent
		// again here.
		for _, r := range tg.orderEvents(t, id) {
			inject(t, tg.brokers, r.topic, r.Key, r.Value, r.Headers)
		}
		expectMoves(t, before, []expectation{
			consumed("inventory", topics.Inventory, "ORDER_CREATE", "duplicate", 1),
			consumed("inventory", topics.Inventory, "ORDER_CREATE", "applied", 0),
			// The gateway replays its answer, and payment-service sends PAYMENT_COMPLETE again.
			consumed("payment", topics.Payment, "ITEM_RESERVED", "duplicate", 1),
			consumed("payment", topics.Payment, "ITEM_RESERVED", "applied", 0),
			published("payment", topics.Order, "PAYMENT_COMPLETE", 1),
			consumed("order", topics.Order, "ITEM_RESERVED", "duplicate", 1),
			consumed("order", topics.Order, "PAYMENT_COMPLETE", "duplicate", 2),
			consumed("order", topics.Order, "", "applied", 0),
			{"order", "edm_saga_duration_seconds", nil, 0},
			published("order", "", "", 0),
			published("inventory", "", "", 0),
		})
	})

	t.Run("outboxes drain, lag returns to zero, nothing is in flight", func(t *testing.T) {
		eventually(t, 30*time.Second, "empty outboxes, zero lag and no order in flight", func() bool {
			o, inv, pay := scrapeMetrics(t, tg.orderURL), scrapeMetrics(t, tg.inventoryURL), scrapeMetrics(t, tg.paymentURL)
			for _, s := range []scrape{o, inv} {
				if _, ok := s["edm_outbox_pending"]; !ok || s.value("edm_outbox_pending", nil) != 0 || s.value("edm_outbox_oldest_pending_age_seconds", nil) != 0 {
					return false
				}
			}
			for s, topic := range map[*scrape]string{&o: topics.Order, &inv: topics.Inventory, &pay: topics.Payment} {
				if len((*s)["edm_consumer_lag"].GetMetric()) == 0 || s.value("edm_consumer_lag", labels("topic", topic)) != 0 {
					return false
				}
			}
			return o.value("edm_orders_in_flight", nil) == 0
		})
	})

	t.Run("labels stay bounded and names pass promlint", func(t *testing.T) {
		for name, base := range bases {
			s := scrapeMetrics(t, base)
			problems, err := s.lint()
			if err != nil {
				t.Errorf("%s: promlint: %v", name, err)
			}
			for _, p := range problems {
				t.Errorf("%s: %s", name, p)
			}
			for _, series := range s.series("http_server_request_duration_seconds") {
				if strings.Contains(series, completed.TransactionID) || strings.Contains(series, run) {
					t.Errorf("%s: a raw path in a label: %s", name, series)
				}
			}
		}
	})
}

// spanIndex finds recorded spans.
type spanIndex []sdktrace.ReadOnlySpan

func serviceOf(s sdktrace.ReadOnlySpan) string {
	v, _ := s.Resource().Set().Value(semconv.ServiceNameKey)
	return v.AsString()
}

// find returns the spans of service, kind and name in trace whose parent is parent (any
// parent when parent is invalid and anyParent is set).
func (ix spanIndex) find(tr trace.TraceID, service string, kind trace.SpanKind, name string, parent trace.SpanID) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range ix {
		if s.SpanContext().TraceID() == tr && serviceOf(s) == service && s.SpanKind() == kind &&
			(name == "" || s.Name() == name) && s.Parent().SpanID() == parent {
			out = append(out, s)
		}
	}
	return out
}

func traceIDOf(t testing.TB, traceparent string) trace.TraceID {
	t.Helper()
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 {
		t.Fatalf("traceparent %q is not W3C", traceparent)
	}
	id, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		t.Fatalf("traceparent %q: %v", traceparent, err)
	}
	return id
}

func checkTraces(t *testing.T, tg *target, rec *tracetest.SpanRecorder) {
	run := strings.ToUpper(uuid.NewString()[:8])
	okSKU, declineSKU := "TRACE-"+run+"-OK", "TRACE-"+run+"-DECLINE"
	tg.addProduct(t, okSKU, 500, 10)
	tg.addProduct(t, declineSKU, 300, 10)
	completed := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "trace", Items: []item{{okSKU, 1}}, PaymentMethod: "pm_card_visa"}))
	declined := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "trace", Items: []item{{declineSKU, 1}}, PaymentMethod: "pm_card_declined"}))

	// Every event of an order carries a traceparent with the order's one trace id.
	tr := orderTrace(t, tg, completed.TransactionID, 4)
	if declinedTrace := orderTrace(t, tg, declined.TransactionID, 5); declinedTrace == tr {
		t.Fatal("two orders share one trace")
	}

	// The spans of the completed order form one tree across the three services.
	var ix spanIndex
	one := func(what string, found []sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
		if len(found) != 1 {
			return nil
		}
		return found[0]
	}
	var post, sendCreate, processCreate, sendReservedPay, sendReservedOrder, processPay, charge, sendComplete sdktrace.ReadOnlySpan
	var processReserved, processComplete sdktrace.ReadOnlySpan
	build := func() bool {
		ix = spanIndex(rec.Ended())
		post = one("POST /orders", ix.find(tr, "order-service", trace.SpanKindServer, "POST /orders", trace.SpanID{}))
		if post == nil {
			return false
		}
		sendCreate = one("send ORDER_CREATE", ix.find(tr, "order-service", trace.SpanKindProducer, "send "+tg.topics.Inventory, post.SpanContext().SpanID()))
		if sendCreate == nil {
			return false
		}
		processCreate = one("process ORDER_CREATE", ix.find(tr, "inventory-service", trace.SpanKindConsumer, "process "+tg.topics.Inventory, sendCreate.SpanContext().SpanID()))
		if processCreate == nil {
			return false
		}
		pid := processCreate.SpanContext().SpanID()
		sendReservedPay = one("send ITEM_RESERVED to payment", ix.find(tr, "inventory-service", trace.SpanKindProducer, "send "+tg.topics.Payment, pid))
		sendReservedOrder = one("send ITEM_RESERVED to order", ix.find(tr, "inventory-service", trace.SpanKindProducer, "send "+tg.topics.Order, pid))
		if sendReservedPay == nil || sendReservedOrder == nil {
			return false
		}
		processPay = one("process ITEM_RESERVED", ix.find(tr, "payment-service", trace.SpanKindConsumer, "process "+tg.topics.Payment, sendReservedPay.SpanContext().SpanID()))
		if processPay == nil {
			return false
		}
		charge = one("charge", ix.find(tr, "payment-service", trace.SpanKindClient, "", processPay.SpanContext().SpanID()))
		sendComplete = one("send PAYMENT_COMPLETE", ix.find(tr, "payment-service", trace.SpanKindProducer, "send "+tg.topics.Order, processPay.SpanContext().SpanID()))
		if charge == nil || sendComplete == nil {
			return false
		}
		processReserved = one("process ITEM_RESERVED in order", ix.find(tr, "order-service", trace.SpanKindConsumer, "process "+tg.topics.Order, sendReservedOrder.SpanContext().SpanID()))
		processComplete = one("process PAYMENT_COMPLETE", ix.find(tr, "order-service", trace.SpanKindConsumer, "process "+tg.topics.Order, sendComplete.SpanContext().SpanID()))
		return processReserved != nil && processComplete != nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for !build() {
		if time.Now().After(deadline) {
			var names []string
			for _, s := range ix {
				if s.SpanContext().TraceID() == tr {
					names = append(names, fmt.Sprintf("%s/%s(%s) %s<-%s", serviceOf(s), s.Name(), s.SpanKind(), s.SpanContext().SpanID(), s.Parent().SpanID()))
				}
			}
			t.Fatalf("the completed order's trace %s lacks a span or a link; it has:\n%s", tr, strings.Join(names, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantAttr := func(s sdktrace.ReadOnlySpan, key, value string) {
		t.Helper()
		for _, a := range s.Attributes() {
			if string(a.Key) == key {
				if got := a.Value.Emit(); got != value {
					t.Errorf("%s %s: %s = %q, want %q", serviceOf(s), s.Name(), key, got, value)
				}
				return
			}
		}
		t.Errorf("%s %s: no attribute %s", serviceOf(s), s.Name(), key)
	}
	wantAttr(processCreate, "messaging.system", "kafka")
	wantAttr(processCreate, "messaging.destination.name", tg.topics.Inventory)
	wantAttr(processCreate, "messaging.operation.type", "process")
	wantAttr(processCreate, "messaging.message.id", event.IDFor(completed.TransactionID, event.TypeOrderCreate))
	wantAttr(processComplete, "messaging.message.id", event.IDFor(completed.TransactionID, event.TypePaymentComplete))
	wantAttr(sendCreate, "messaging.operation.type", "send")
	// Store calls are children of the span they serve.
	if len(ix.find(tr, "inventory-service", trace.SpanKindClient, "", processCreate.SpanContext().SpanID())) == 0 {
		t.Error("inventory's store transaction is not a child span of its consumer span")
	}
	if len(ix.find(tr, "order-service", trace.SpanKindClient, "CreateOrder", post.SpanContext().SpanID())) != 1 {
		t.Error("order's CreateOrder is not a child span of POST /orders")
	}

	t.Run("a redelivered event keeps its trace", func(t *testing.T) {
		for _, r := range tg.readEvents(t, tg.topics.Inventory) {
			if r.Key == completed.TransactionID {
				inject(t, tg.brokers, tg.topics.Inventory, r.Key, r.Value, r.Headers)
			}
		}
		eventually(t, 15*time.Second, "a second consumer span of ORDER_CREATE in the order's trace", func() bool {
			ix := spanIndex(rec.Ended())
			return len(ix.find(tr, "inventory-service", trace.SpanKindConsumer, "process "+tg.topics.Inventory, sendCreate.SpanContext().SpanID())) == 2
		})
	})
}
