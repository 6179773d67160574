package service

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// sagaMetrics observes edm_saga_duration_seconds{outcome} (createdAt to COMPLETED or
// CANCELLED, once per order) and counts the orders in flight for edm_orders_in_flight.
type sagaMetrics struct {
	duration *prometheus.HistogramVec
	inFlight atomic.Int64
}

func newSagaMetrics(reg prometheus.Registerer) *sagaMetrics {
	m := &sagaMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edm_saga_duration_seconds",
		Help:    "Time from an order's acceptance to COMPLETED or CANCELLED, by outcome (COMPLETED or the cancel reason).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"outcome"})}
	reg.MustRegister(m.duration)
	return m
}

// registerInFlight serves edm_orders_in_flight from count.
func registerInFlight(reg prometheus.Registerer, count func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edm_orders_in_flight",
		Help: "Orders accepted and not yet COMPLETED or CANCELLED.",
	}, count))
}

// OrderAccepted implements app.Observer.
func (m *sagaMetrics) OrderAccepted(domain.Order) { m.inFlight.Add(1) }

// OrderSettled implements app.Observer.
func (m *sagaMetrics) OrderSettled(o domain.Order) {
	outcome := string(o.Status)
	if o.Status == domain.StatusCancelled && o.Reason != "" {
		outcome = o.Reason
	}
	m.duration.WithLabelValues(outcome).Observe(max(o.UpdatedAt.Sub(o.CreatedAt).Seconds(), 0))
	m.inFlight.Add(-1)
}

// inFlightCount is what this instance accepted and saw settle: it starts at zero on every
// start, and orders settled by another instance never leave it. The overload limiter's
// counter replaces it when there is one.
func (m *sagaMetrics) inFlightCount() float64 { return float64(max(m.inFlight.Load(), 0)) }
