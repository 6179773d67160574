package kafka

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/edmshop/edm-shop/platform/event"
)

// Middleware wraps a Handler with a cross-cutting concern (metrics, tracing, logging), so event
// handlers stay business logic. The consumer applies ConsumerConfig.Middleware around every
// handler once, at NewConsumer; each attempt of a retried event passes through it again.
type Middleware func(Handler) Handler

// Chain wraps h in mws; the first middleware is the outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Delivery is where the message being handled came from. The consumer puts it in the context
// of everything it does for one message (handler, dead-lettering, logs), so middleware and log
// handlers see the topic, the offset and the headers (traceparent) an event.Event does not carry.
type Delivery struct {
	Topic     string
	Partition int32
	Offset    int64
	Group     string
	Key       string
	Headers   map[string]string
	// Timestamp is the record's timestamp: when its producer sent it (CreateTime), or when the
	// broker appended it (LogAppendTime).
	Timestamp time.Time
}

// ID is the message's ce_id header.
func (d Delivery) ID() string { return d.Headers[headerID] }

// Type is the message's ce_type header, as sent (it may be absent or unknown).
func (d Delivery) Type() string { return d.Headers[headerType] }

type deliveryKey struct{}

// DeliveryFrom returns the delivery of the message ctx is handling, if any.
func DeliveryFrom(ctx context.Context) (Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(Delivery)
	return d, ok
}

// WithDelivery returns ctx carrying d; the consumer calls it, and tests of middleware.
func WithDelivery(ctx context.Context, d Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

func withMessage(ctx context.Context, m *ckafka.Message, group string) context.Context {
	h := make(map[string]string, len(m.Headers))
	for _, hd := range m.Headers {
		h[hd.Key] = string(hd.Value)
	}
	d := Delivery{Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset), Group: group, Key: string(m.Key), Headers: h,
		Timestamp: m.Timestamp}
	if m.TopicPartition.Topic != nil {
		d.Topic = *m.TopicPartition.Topic
	}
	return WithDelivery(ctx, d)
}

// PartitionString is the partition as a label or attribute value.
func (d Delivery) PartitionString() string { return strconv.Itoa(int(d.Partition)) }

type duplicateKey struct{}

// MarkDuplicate records that the event being handled was applied before, so this delivery
// changed nothing. A handler calls it on its dedup path and returns nil as usual; metrics count
// the delivery as `duplicate` instead of `applied`. Outside TrackDuplicate it does nothing.
func MarkDuplicate(ctx context.Context) {
	if flag, ok := ctx.Value(duplicateKey{}).(*atomic.Bool); ok {
		flag.Store(true)
	}
}

// TrackDuplicate returns a context in which MarkDuplicate is heard, and a func that reports
// whether it was called.
func TrackDuplicate(ctx context.Context) (context.Context, func() bool) {
	flag := new(atomic.Bool)
	return context.WithValue(ctx, duplicateKey{}, flag), flag.Load
}

// KnownType returns t when it is one of the saga's event types and "unknown" otherwise, so a
// label built from a header stays bounded whatever a producer sends.
func KnownType(t string) string {
	switch event.Type(t) {
	case event.TypeOrderCreate, event.TypeItemReserved, event.TypeOutOfStock, event.TypePaymentComplete, event.TypePaymentFailed, event.TypeItemReleased,
		event.TypeOrderExpired:
		return t
	}
	return "unknown"
}
