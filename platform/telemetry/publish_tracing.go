package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// PublishTracing returns publisher middleware that sends each message in a producer span and
// stamps the span's context on the message (the traceparent header). The span's parent is the
// trace context the message carries (an outbox row stores the one it was written in) or else
// the span in ctx (payment-service publishes while it handles an event).
func PublishTracing(tp trace.TracerProvider) kafka.PublishMiddleware {
	tracer := tp.Tracer(tracerName)
	return func(next kafka.Publisher) kafka.Publisher {
		return kafka.PublisherFunc(func(ctx context.Context, msgs ...kafka.Message) error {
			stamped := make([]kafka.Message, len(msgs))
			spans := make([]trace.Span, len(msgs))
			for i, m := range msgs {
				parent := ctx
				if m.TraceParent != "" {
					parent = Propagator.Extract(ctx, propagation.MapCarrier{kafka.HeaderTraceParent: m.TraceParent, kafka.HeaderTraceState: m.TraceState})
				}
				sctx, span := tracer.Start(parent, "send "+m.Topic, trace.WithSpanKind(trace.SpanKindProducer))
				if span.IsRecording() {
					span.SetAttributes(
						semconv.MessagingSystemKafka,
						semconv.MessagingDestinationName(m.Topic),
						semconv.MessagingOperationTypeSend,
						semconv.MessagingOperationName("send"),
						semconv.MessagingMessageID(m.Event.ID),
						semconv.MessagingKafkaMessageKey(m.Event.Key),
						eventType.String(string(m.Event.Type)),
					)
				}
				m.TraceParent, m.TraceState = "", ""
				stamped[i], spans[i] = kafka.StampTrace(sctx, m), span
			}
			err := next.Publish(ctx, stamped...)
			for _, span := range spans {
				EndSpan(span, err)
			}
			return err
		})
	}
}
