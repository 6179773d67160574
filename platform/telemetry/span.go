package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var (
	dbSystem    = attribute.Key("db.system.name")
	dbOperation = attribute.Key("db.operation.name")
)

// EndSpan records err on span, if any, and ends it.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// eventType is the saga event type of a message span (its ce_type).
var eventType = attribute.Key("cloudevents.event_type")
