package telemetry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

type capture struct {
	sent []kafka.Message
	err  error
}

func (c *capture) Publish(_ context.Context, msgs ...kafka.Message) error {
	if c.err != nil {
		return c.err
	}
	c.sent = append(c.sent, msgs...)
	return nil
}

func TestPublishTracingStampsEachMessageWithItsProducerSpan(t *testing.T) {
	rec, tp := recorder()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	stored := kafka.Message{Topic: "inventory", Event: event.Event{ID: "a", Type: event.TypeOrderCreate}, TraceParent: incoming, TraceState: "vendor=x"}
	direct := kafka.Message{Topic: "order", Event: event.Event{ID: "b", Type: event.TypePaymentComplete}}
	out := &capture{}
	if err := kafka.ChainPublisher(out, telemetry.PublishTracing(tp)).Publish(ctx, stored, direct); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := map[string]trace.SpanContext{}
	parents := map[string]trace.SpanID{}
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindProducer {
			spans[s.Name()], parents[s.Name()] = s.SpanContext(), s.Parent().SpanID()
		}
	}
	cases := []struct {
		msg        kafka.Message
		span       string
		wantTrace  string
		wantParent string
		wantState  string
	}{
		{out.sent[0], "send inventory", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "vendor=x"},
		{out.sent[1], "send order", parent.SpanContext().TraceID().String(), parent.SpanContext().SpanID().String(), ""},
	}
	for _, c := range cases {
		sc, ok := spans[c.span]
		if !ok {
			t.Fatalf("no span %s", c.span)
		}
		if sc.TraceID().String() != c.wantTrace || parents[c.span].String() != c.wantParent {
			t.Errorf("%s: trace %s parent %s, want %s %s", c.span, sc.TraceID(), parents[c.span], c.wantTrace, c.wantParent)
		}
		if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"; c.msg.TraceParent != want {
			t.Errorf("%s: traceparent %q, want the producer span's %q", c.span, c.msg.TraceParent, want)
		}
		if c.msg.TraceState != c.wantState {
			t.Errorf("%s: tracestate %q, want %q", c.span, c.msg.TraceState, c.wantState)
		}
	}
}

func TestPublishMetricsCountOnlyAcknowledgedMessages(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want float64
	}{
		{"acknowledged", nil, 2},
		{"failed", errors.New("broker down"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			p := kafka.ChainPublisher(&capture{err: c.err}, telemetry.PublishMetrics(reg))
			msg := kafka.Message{Topic: "order", Event: event.Event{Type: event.TypeItemReserved}}
			err := p.Publish(context.Background(), msg, msg)
			if (err != nil) != (c.err != nil) {
				t.Fatalf("err = %v", err)
			}
			if got := sample(t, reg, "edm_events_published_total", map[string]string{"topic": "order", "type": "ITEM_RESERVED"}); got != c.want {
				t.Errorf("published = %v, want %v", got, c.want)
			}
		})
	}
}

func TestStoreSpansAreChildrenOnly(t *testing.T) {
	rec, tp := recorder()
	_, orphan := telemetry.StartStoreSpan(context.Background(), "sqlite", "GetOrder")
	if orphan.IsRecording() {
		t.Error("a store call outside any span recorded a root span")
	}
	orphan.End()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	_, child := telemetry.StartStoreSpan(ctx, "sqlite", "GetOrder")
	telemetry.EndSpan(child, nil)
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "GetOrder" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		var names []string
		for _, s := range ended {
			names = append(names, s.Name())
		}
		t.Errorf("spans %s, want GetOrder as a child of handler", strings.Join(names, ", "))
	}
}
