package telemetry

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// ContextHandler wraps a slog.Handler so that a line logged with a context carries what the
// context knows: for an event being consumed its transactionId, ce_id and type, for an HTTP
// request its request_id, and in both cases the trace_id. Call sites only pass ctx
// (log.InfoContext); nobody repeats those attributes by hand.
func ContextHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(contextHandler); ok {
		return h
	}
	return contextHandler{inner: h}
}

type contextHandler struct{ inner slog.Handler }

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if d, ok := kafka.DeliveryFrom(ctx); ok {
			r.AddAttrs(slog.String("transactionId", d.Key), slog.String("ce_id", d.ID()), slog.String("type", d.Type()))
			if id := traceID(ctx); id != "" {
				r.AddAttrs(slog.String("trace_id", id))
			} else if id := traceIDOf(d.Headers[kafka.HeaderTraceParent]); id != "" {
				r.AddAttrs(slog.String("trace_id", id))
			}
		} else if id := traceID(ctx); id != "" {
			r.AddAttrs(slog.String("trace_id", id))
		}
		if id := RequestIDFrom(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.inner.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{inner: h.inner.WithGroup(name)}
}

func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// traceIDOf returns the trace id of a traceparent header (00-<trace id>-<span id>-<flags>).
func traceIDOf(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}
