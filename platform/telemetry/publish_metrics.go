package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// PublishMetrics returns publisher middleware that counts edm_events_published_total{topic,type}:
// messages the broker acknowledged.
func PublishMetrics(reg prometheus.Registerer) kafka.PublishMiddleware {
	published := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edm_events_published_total",
		Help: "Events the broker acknowledged, by topic and type.",
	}, []string{"topic", "type"})
	reg.MustRegister(published)
	return func(next kafka.Publisher) kafka.Publisher {
		return kafka.PublisherFunc(func(ctx context.Context, msgs ...kafka.Message) error {
			err := next.Publish(ctx, msgs...)
			if err == nil {
				for _, m := range msgs {
					published.WithLabelValues(m.Topic, kafka.KnownType(string(m.Event.Type))).Inc()
				}
			}
			return err
		})
	}
}
