package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ParentTracerProvider starts each span with the tracer provider of the span already in the
// context, and records nothing where there is none. Store and client instrumentation built
// before a service's telemetry (otelaws, otelhttp) use it: their spans are children of the
// request or event being handled, in that service's provider, and background polling (the
// outbox relay's scans, health checks) makes no root spans of its own.
var ParentTracerProvider trace.TracerProvider = parentProvider{}

type parentProvider struct{ embedded.TracerProvider }

func (parentProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return parentTracer{name: name, opts: opts}
}

type parentTracer struct {
	embedded.Tracer
	name string
	opts []trace.TracerOption
}

func (t parentTracer) Start(ctx context.Context, spanName string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer(t.name, t.opts...).Start(ctx, spanName, opts...)
}

// StartStoreSpan starts a client span for a store call (a SQL transaction, a query) as a child
// of the span in ctx; with no span in ctx it records nothing. End it with EndSpan.
func StartStoreSpan(ctx context.Context, system, operation string) (context.Context, trace.Span) {
	ctx, span := ParentTracerProvider.Tracer(tracerName).Start(ctx, operation, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(dbSystem.String(system), dbOperation.String(operation))
	}
	return ctx, span
}
