package telemetry

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Outcomes of a consumed event (the outcome label of edm_events_consumed_total).
const (
	OutcomeApplied      = "applied"
	OutcomeDuplicate    = "duplicate"
	OutcomeDeadLettered = "dead_lettered"
	OutcomeRetried      = "retried"
)

// ConsumerMetrics counts what a service's consumer does with events:
// edm_events_consumed_total{topic,type,outcome}, edm_event_handle_duration_seconds{topic,type}
// and edm_event_delivery_delay_seconds{topic,type}, the time from a record's timestamp to the
// start of a handler attempt: how long an event waited in the producer, the broker and the
// consumer's queues and lanes before its handler ran (the hops' latency, where handle duration
// is the work).
// Its Middleware counts handler calls (applied, duplicate, retried); DeadLettered, the consumer's
// OnDeadLetter hook, counts dead letters, also those of messages that never reached a handler.
type ConsumerMetrics struct {
	consumed *prometheus.CounterVec
	duration *prometheus.HistogramVec
	delay    *prometheus.HistogramVec
}

// NewConsumerMetrics registers the consumer metrics with reg.
func NewConsumerMetrics(reg prometheus.Registerer) *ConsumerMetrics {
	m := &ConsumerMetrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edm_events_consumed_total",
			Help: "Events consumed, by topic, type and outcome (applied, duplicate, dead_lettered, retried: one per transient handler failure).",
		}, []string{"topic", "type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edm_event_handle_duration_seconds",
			Help:    "Time a handler took for one attempt at an event, by topic and type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"topic", "type"}),
		delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edm_event_delivery_delay_seconds",
			Help:    "Time from a record's timestamp (sent by its producer) to the start of a handler attempt, by topic and type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"topic", "type"}),
	}
	reg.MustRegister(m.consumed, m.duration, m.delay)
	return m
}

// Middleware observes every handler call.
func (m *ConsumerMetrics) Middleware() kafka.Middleware {
	return func(next kafka.Handler) kafka.Handler {
		return func(ctx context.Context, e event.Event) error {
			d, _ := kafka.DeliveryFrom(ctx)
			typ := kafka.KnownType(string(e.Type))
			ctx, duplicate := kafka.TrackDuplicate(ctx)
			start := time.Now()
			if !d.Timestamp.IsZero() {
				// Clocks of other hosts may run ahead: a negative delay counts as none.
				m.delay.WithLabelValues(d.Topic, typ).Observe(max(start.Sub(d.Timestamp), 0).Seconds())
			}
			err := next(ctx, e)
			m.duration.WithLabelValues(d.Topic, typ).Observe(time.Since(start).Seconds())
			switch {
			case err == nil && duplicate():
				m.consumed.WithLabelValues(d.Topic, typ, OutcomeDuplicate).Inc()
			case err == nil:
				m.consumed.WithLabelValues(d.Topic, typ, OutcomeApplied).Inc()
			case errors.Is(err, event.ErrInvalid):
				// Counted by DeadLettered once the dead-letter topic has it.
			default:
				m.consumed.WithLabelValues(d.Topic, typ, OutcomeRetried).Inc()
			}
			return err
		}
	}
}

// DeadLettered counts the message of ctx's delivery as dead-lettered; its type label is its
// ce_type when that is a saga event type, "unknown" otherwise.
func (m *ConsumerMetrics) DeadLettered(ctx context.Context) {
	d, _ := kafka.DeliveryFrom(ctx)
	m.consumed.WithLabelValues(d.Topic, kafka.KnownType(d.Type()), OutcomeDeadLettered).Inc()
}
