package service

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/payment-service/app"
	"github.com/edmshop/edm-shop/payment-service/domain"
)

// gatewayMetrics wraps the gateway client with edm_payment_gateway_requests_total{outcome} and
// edm_payment_gateway_request_duration_seconds. One request is one Charge call, the client's own
// retries included; outcome is approved, declined or error.
type gatewayMetrics struct {
	next     app.Gateway
	requests *prometheus.CounterVec
	duration prometheus.Histogram
}

func newGatewayMetrics(next app.Gateway, reg prometheus.Registerer) *gatewayMetrics {
	m := &gatewayMetrics{
		next: next,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edm_payment_gateway_requests_total",
			Help: "Charge requests to the payment gateway, by outcome (approved, declined, error).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edm_payment_gateway_request_duration_seconds",
			Help:    "Time a charge request to the payment gateway took, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	for _, o := range []string{"approved", "declined", "error"} {
		m.requests.WithLabelValues(o)
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Charge implements app.Gateway.
func (m *gatewayMetrics) Charge(ctx context.Context, req domain.ChargeRequest) (domain.ChargeResult, error) {
	start := time.Now()
	res, err := m.next.Charge(ctx, req)
	m.duration.Observe(time.Since(start).Seconds())
	switch {
	case err != nil:
		m.requests.WithLabelValues("error").Inc()
	case res.Approved:
		m.requests.WithLabelValues("approved").Inc()
	default:
		m.requests.WithLabelValues("declined").Inc()
	}
	return res, err
}

// Refund implements app.Gateway; refunds are not counted as charge requests.
func (m *gatewayMetrics) Refund(ctx context.Context, req domain.RefundRequest) (domain.RefundResult, error) {
	return m.next.Refund(ctx, req)
}
