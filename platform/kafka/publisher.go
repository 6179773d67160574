package kafka

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// Publisher publishes messages and returns once the broker acknowledged every one; *Producer is
// one. The outbox relay and payment-service publish through it.
type Publisher interface {
	Publish(ctx context.Context, msgs ...Message) error
}

// PublisherFunc adapts a func to a Publisher.
type PublisherFunc func(ctx context.Context, msgs ...Message) error

// Publish calls f.
func (f PublisherFunc) Publish(ctx context.Context, msgs ...Message) error { return f(ctx, msgs...) }

// PublishMiddleware wraps a Publisher with a cross-cutting concern (metrics, tracing).
type PublishMiddleware func(Publisher) Publisher

// ChainPublisher wraps p in mws; the first middleware is the outermost.
func ChainPublisher(p Publisher, mws ...PublishMiddleware) Publisher {
	for i := len(mws) - 1; i >= 0; i-- {
		p = mws[i](p)
	}
	return p
}

// StampTrace returns m carrying the W3C trace context of the span in ctx, unless m already
// carries one. Outbox stores call it as they store a message, so the relay, which publishes
// later and elsewhere, continues the trace of the request or event that caused the message.
func StampTrace(ctx context.Context, m Message) Message {
	if m.TraceParent != "" {
		return m
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	m.TraceParent, m.TraceState = carrier[HeaderTraceParent], carrier[HeaderTraceState]
	return m
}
