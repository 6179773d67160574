package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

// servedMetrics are the metrics of the contract each program serves once an order went
// through (a counter appears with its first count).
var servedMetrics = map[string][]string{
	"order": {"http_server_request_duration_seconds", "edm_events_consumed_total", "edm_event_handle_duration_seconds", "edm_event_delivery_delay_seconds",
		"edm_events_published_total", "edm_outbox_pending", "edm_outbox_oldest_pending_age_seconds", "edm_consumer_lag",
		"edm_saga_duration_seconds", "edm_orders_in_flight", "edm_orders_in_flight_limit", "go_goroutines", "go_sched_latencies_seconds", "process_cpu_seconds_total"},
	"inventory": {"http_server_request_duration_seconds", "edm_events_consumed_total", "edm_event_handle_duration_seconds", "edm_event_delivery_delay_seconds",
		"edm_events_published_total", "edm_outbox_pending", "edm_outbox_oldest_pending_age_seconds", "edm_consumer_lag",
		"go_goroutines", "go_sched_latencies_seconds", "process_cpu_seconds_total"},
	"payment": {"http_server_request_duration_seconds", "edm_events_consumed_total", "edm_event_handle_duration_seconds", "edm_event_delivery_delay_seconds",
		"edm_events_published_total", "edm_consumer_lag", "edm_payment_gateway_requests_total",
		"edm_payment_gateway_request_duration_seconds", "go_goroutines", "go_sched_latencies_seconds", "process_cpu_seconds_total"},
	"gateway": {"http_server_request_duration_seconds", "go_goroutines", "go_sched_latencies_seconds", "process_cpu_seconds_total"},
}

// checkServedTelemetry checks what a running platform serves, wherever it runs: every program's
// /metrics has the contract's metrics and passes promlint, and an order's events all carry a
// traceparent of one trace.
func checkServedTelemetry(t *testing.T, tg *target) {
	run := strings.ToUpper(uuid.NewString()[:8])
	sku := "TEL-" + run
	tg.addProduct(t, sku, 100, 5)
	o := tg.settled(t, tg.placeOrder(t, orderRequest{CustomerID: "tel", Items: []item{{sku, 1}}, PaymentMethod: "pm_card_visa"}))
	if o.Status != "COMPLETED" {
		t.Fatalf("order = %+v", o)
	}
	orderTrace(t, tg, o.TransactionID, 4)

	bases := map[string]string{"order": tg.orderURL, "inventory": tg.inventoryURL, "payment": tg.paymentURL, "gateway": tg.gatewayURL}
	for name, base := range bases {
		var missing []string
		eventually(t, 20*time.Second, name+"'s metrics", func() bool {
			s := scrapeMetrics(t, base)
			missing = missing[:0]
			for _, m := range servedMetrics[name] {
				if _, ok := s[m]; !ok {
					missing = append(missing, m)
				}
			}
			return len(missing) == 0
		})
		s := scrapeMetrics(t, base)
		for name, mf := range s {
			if want, ok := metricContract[name]; ok && !strings.EqualFold(mf.GetType().String(), want) {
				t.Errorf("%s is a %s, the contract (and the dashboard) want a %s", name, mf.GetType(), want)
			}
		}
		problems, err := s.lint()
		if err != nil || len(problems) > 0 {
			t.Errorf("%s: promlint: %v %v", name, err, problems)
		}
	}
}

// orderTrace returns the one trace id that every event of the order carries in its traceparent
// header, on the three topics; it fails unless there are want events and they agree. It waits
// for them: an order is terminal before all of its events are written, as payment-service may
// publish PAYMENT_COMPLETE before inventory's copy of ITEM_RESERVED reaches the order topic.
func orderTrace(t *testing.T, tg *target, transactionID string, want int) trace.TraceID {
	t.Helper()
	var events []topicRecord
	eventually(t, 30*time.Second, fmt.Sprintf("%d events of order %s on the three topics", want, transactionID), func() bool {
		events = tg.orderEvents(t, transactionID)
		return len(events) >= want
	})
	var (
		tr    trace.TraceID
		types []string
	)
	for _, r := range events {
		types = append(types, r.topic+":"+r.Headers["ce_type"])
		tp := r.Headers["traceparent"]
		if tp == "" {
			t.Errorf("%s %s on %s has no traceparent header", transactionID, r.Headers["ce_type"], r.topic)
			continue
		}
		got := traceIDOf(t, tp)
		if tr.IsValid() && got != tr {
			t.Errorf("%s %s on %s is in trace %s, the order's other events in %s", transactionID, r.Headers["ce_type"], r.topic, got, tr)
		}
		tr = got
	}
	if len(types) != want {
		t.Errorf("order %s: events %v, want %d", transactionID, types, want)
	}
	return tr
}
