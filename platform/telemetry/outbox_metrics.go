package telemetry

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/outbox"
)

// outboxCollector reads edm_outbox_pending and edm_outbox_oldest_pending_age_seconds from the
// store at scrape time, so the gauges are never stale; a store that does not answer within
// the timeout leaves them out of that scrape.
type outboxCollector struct {
	store   outbox.StatsStore
	log     *slog.Logger
	pending *prometheus.Desc
	age     *prometheus.Desc
}

// outboxStatsTimeout bounds the store query of one scrape.
const outboxStatsTimeout = 2 * time.Second

// RegisterOutboxMetrics registers the outbox gauges of store with reg.
func RegisterOutboxMetrics(reg prometheus.Registerer, store outbox.StatsStore, log *slog.Logger) {
	reg.MustRegister(&outboxCollector{
		store:   store,
		log:     log,
		pending: prometheus.NewDesc("edm_outbox_pending", "Outbox records stored but not yet published.", nil, nil),
		age:     prometheus.NewDesc("edm_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox record; 0 when none is pending.", nil, nil),
	})
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.age
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), outboxStatsTimeout)
	defer cancel()
	s, err := c.store.OutboxStats(ctx)
	if err != nil {
		// Leaving the gauges out fails nothing else in the scrape.
		c.log.Warn("outbox stats", "error", err)
		return
	}
	age := 0.0
	if s.Pending > 0 && !s.Oldest.IsZero() {
		age = max(time.Since(s.Oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
