package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestContextHandlerAddsWhatTheContextKnows(t *testing.T) {
	_, tp := recorder()
	delivery := kafka.WithDelivery(context.Background(), kafka.Delivery{Key: "tx-1", Headers: map[string]string{"ce_id": "ce-1", "ce_type": "ORDER_CREATE", "traceparent": incoming}})
	spanCtx, span := tp.Tracer("test").Start(delivery, "process")
	defer span.End()
	cases := []struct {
		name string
		ctx  context.Context
		want map[string]string
	}{
		{"an event, before its span", delivery, map[string]string{"transactionId": "tx-1", "ce_id": "ce-1", "type": "ORDER_CREATE", "trace_id": "0af7651916cd43dd8448eb211c80319c"}},
		{"an event in its span", spanCtx, map[string]string{"transactionId": "tx-1", "ce_id": "ce-1", "type": "ORDER_CREATE", "trace_id": span.SpanContext().TraceID().String()}},
		{"nothing known", context.Background(), map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(telemetry.ContextHandler(slog.NewJSONHandler(&buf, nil))).With("service", "s")
			log.InfoContext(c.ctx, "hello")
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %q", k, line[k], v)
				}
			}
			if len(c.want) == 0 {
				for _, k := range []string{"transactionId", "ce_id", "type", "trace_id", "request_id"} {
					if _, ok := line[k]; ok {
						t.Errorf("%s logged without a context that knows it", k)
					}
				}
			}
			if line["service"] != "s" {
				t.Errorf("service = %v", line["service"])
			}
		})
	}
}
