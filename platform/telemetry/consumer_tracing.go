package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// ConsumerTracing returns consumer middleware that runs each handler call in a consumer span,
// a child of the traceparent the message carries (messaging semantic conventions: system kafka,
// destination, operation process, message id = ce_id). What the handler stores or publishes
// inside that span continues the same trace.
func ConsumerTracing(tp trace.TracerProvider) kafka.Middleware {
	tracer := tp.Tracer(tracerName)
	return func(next kafka.Handler) kafka.Handler {
		return func(ctx context.Context, e event.Event) error {
			d, _ := kafka.DeliveryFrom(ctx)
			parent := Propagator.Extract(ctx, propagation.MapCarrier(d.Headers))
			ctx, span := tracer.Start(parent, "process "+d.Topic, trace.WithSpanKind(trace.SpanKindConsumer))
			if span.IsRecording() { // the attributes cost allocations nobody reads otherwise
				span.SetAttributes(
					semconv.MessagingSystemKafka,
					semconv.MessagingDestinationName(d.Topic),
					semconv.MessagingOperationTypeProcess,
					semconv.MessagingOperationName("process"),
					semconv.MessagingMessageID(e.ID),
					semconv.MessagingConsumerGroupName(d.Group),
					semconv.MessagingDestinationPartitionID(d.PartitionString()),
					semconv.MessagingKafkaOffset(int(d.Offset)),
					semconv.MessagingKafkaMessageKey(e.Key),
					eventType.String(string(e.Type)),
				)
			}
			err := next(ctx, e)
			EndSpan(span, err)
			return err
		}
	}
}
