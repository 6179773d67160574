package kafka

import (
	"encoding/json"
	"fmt"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/edmshop/edm-shop/platform/event"
)

// CloudEvents 1.0 Kafka protocol binding, binary mode: attributes travel as ce_ headers and the
// payload is the message value.
const (
	headerSpecVersion = "ce_specversion"
	headerID          = "ce_id"
	headerType        = "ce_type"
	headerSource      = "ce_source"
	headerTime        = "ce_time"
	headerContentType = "content-type"
	contentTypeJSON   = "application/json"
	// W3C trace context, so an order's events continue the trace its POST /orders began.
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

// Message is an event addressed to a topic.
type Message struct {
	Topic string
	Event event.Event
	// TraceParent and TraceState are the W3C trace context the event continues; they travel
	// as the traceparent and tracestate headers when set. Outboxes store them with the event.
	TraceParent string
	TraceState  string
}

// toKafka maps a Message to a Kafka message in CloudEvents binary mode.
func toKafka(m Message) *ckafka.Message {
	topic := m.Topic
	e := m.Event
	km := &ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &topic, Partition: ckafka.PartitionAny},
		Key:            []byte(e.Key),
		Value:          e.Data,
		Headers: []ckafka.Header{
			{Key: headerSpecVersion, Value: []byte(event.SpecVersion)},
			{Key: headerID, Value: []byte(e.ID)},
			{Key: headerType, Value: []byte(e.Type)},
			{Key: headerSource, Value: []byte(e.Source)},
			{Key: headerTime, Value: []byte(e.Time.UTC().Format(time.RFC3339Nano))},
			{Key: headerContentType, Value: []byte(contentTypeJSON)},
		},
	}
	if m.TraceParent != "" {
		km.Headers = append(km.Headers, ckafka.Header{Key: HeaderTraceParent, Value: []byte(m.TraceParent)})
		if m.TraceState != "" {
			km.Headers = append(km.Headers, ckafka.Header{Key: HeaderTraceState, Value: []byte(m.TraceState)})
		}
	}
	return km
}

// fromKafka reads an event from a Kafka message. Every error wraps event.ErrInvalid.
func fromKafka(m *ckafka.Message) (event.Event, error) {
	h := make(map[string]string, len(m.Headers))
	for _, hd := range m.Headers {
		h[hd.Key] = string(hd.Value)
	}
	invalid := func(format string, args ...any) (event.Event, error) {
		return event.Event{}, fmt.Errorf("%w: %s", event.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if v := h[headerSpecVersion]; v != event.SpecVersion {
		return invalid("%s is %q, want %q", headerSpecVersion, v, event.SpecVersion)
	}
	for _, name := range []string{headerID, headerType, headerSource} {
		if h[name] == "" {
			return invalid("header %s is missing", name)
		}
	}
	if ct := h[headerContentType]; ct != "" && ct != contentTypeJSON {
		return invalid("content-type %q is not %s", ct, contentTypeJSON)
	}
	if len(m.Key) == 0 {
		return invalid("message has no key (the transactionId)")
	}
	if !json.Valid(m.Value) {
		return invalid("value is not JSON")
	}
	var at time.Time
	if v := h[headerTime]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return invalid("%s %q is not RFC 3339", headerTime, v)
		}
		at = t
	}
	return event.Event{
		ID:     h[headerID],
		Type:   event.Type(h[headerType]),
		Source: h[headerSource],
		Time:   at,
		Key:    string(m.Key),
		Data:   json.RawMessage(m.Value),
	}, nil
}
