package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// sagaMetrics observes edm_saga_duration_seconds{outcome} (createdAt to COMPLETED or
// CANCELLED, once per order). edm_orders_in_flight comes from the overload limiter's count
// (app.App.InFlight), which starts from the store's non-terminal orders.
type sagaMetrics struct {
	duration *prometheus.HistogramVec
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

// registerInFlight serves edm_orders_in_flight from count and edm_orders_in_flight_limit from
// limit.
func registerInFlight(reg prometheus.Registerer, count, limit func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edm_orders_in_flight",
		Help: "Orders accepted and not yet COMPLETED or CANCELLED.",
	}, count), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edm_orders_in_flight_limit",
		Help: "The in-flight limit in force: past it POST /orders answers 503 OVERLOADED (0: none). It follows the rate at which orders settle times ORDER_ADMISSION_TARGET, up to ORDER_MAX_IN_FLIGHT.",
	}, limit))
}

// OrderAccepted implements app.Observer.
func (m *sagaMetrics) OrderAccepted(domain.Order) {}

// OrderSettled implements app.Observer.
func (m *sagaMetrics) OrderSettled(o domain.Order) {
	outcome := string(o.Status)
	if o.Status == domain.StatusCancelled && o.Reason != "" {
		outcome = o.Reason
	}
	m.duration.WithLabelValues(outcome).Observe(max(o.UpdatedAt.Sub(o.CreatedAt).Seconds(), 0))
}
