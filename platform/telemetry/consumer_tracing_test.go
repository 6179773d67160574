package telemetry_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func recorder() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	return rec, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
}

const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestConsumerTracingContinuesTheIncomingTrace(t *testing.T) {
	cases := []struct {
		name       string
		headers    map[string]string
		wantTrace  string // "" for a new trace
		wantParent string
	}{
		{"child of the traceparent header", map[string]string{"traceparent": incoming}, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{"a new trace without one", map[string]string{}, "", ""},
		{"a new trace for a malformed one", map[string]string{"traceparent": "garbage"}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, tp := recorder()
			var inHandler trace.SpanContext
			h := kafka.Chain(func(ctx context.Context, e event.Event) error {
				inHandler = trace.SpanContextFromContext(ctx)
				return nil
			}, telemetry.ConsumerTracing(tp))
			ctx := kafka.WithDelivery(context.Background(), kafka.Delivery{Topic: "inventory", Partition: 3, Offset: 7, Group: "inventory-service", Headers: c.headers})
			if err := h(ctx, event.Event{ID: "ce-1", Type: event.TypeOrderCreate, Key: "tx-1"}); err != nil {
				t.Fatal(err)
			}
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.SpanKind() != trace.SpanKindConsumer || s.Name() != "process inventory" {
				t.Errorf("span %s of kind %s", s.Name(), s.SpanKind())
			}
			if s.SpanContext().SpanID() != inHandler.SpanID() {
				t.Error("the handler does not run in the consumer span")
			}
			if c.wantTrace != "" && (s.SpanContext().TraceID().String() != c.wantTrace || s.Parent().SpanID().String() != c.wantParent) {
				t.Errorf("trace %s parent %s, want %s %s", s.SpanContext().TraceID(), s.Parent().SpanID(), c.wantTrace, c.wantParent)
			}
			if c.wantTrace == "" && s.Parent().IsValid() {
				t.Errorf("parent %s, want a root span", s.Parent().SpanID())
			}
			attrs := map[string]string{}
			for _, a := range s.Attributes() {
				attrs[string(a.Key)] = a.Value.Emit()
			}
			for k, v := range map[string]string{"messaging.system": "kafka", "messaging.destination.name": "inventory", "messaging.operation.type": "process",
				"messaging.message.id": "ce-1", "messaging.consumer.group.name": "inventory-service", "messaging.destination.partition.id": "3"} {
				if attrs[k] != v {
					t.Errorf("%s = %q, want %q", k, attrs[k], v)
				}
			}
		})
	}
}
