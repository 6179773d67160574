package telemetry

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of requests no route matched (404, 405), so a scan of random
// paths cannot grow the label set.
const UnmatchedRoute = "unmatched"

// HTTPMetrics returns gin middleware that observes http_server_request_duration_seconds
// {method, route, status}, route being the route template (/orders/:transactionId), never the
// raw path. It registers the histogram with reg.
func HTTPMetrics(reg prometheus.Registerer) gin.HandlerFunc {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_server_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method, route template and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"method", "route", "status"})
	reg.MustRegister(duration)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = UnmatchedRoute
		}
		duration.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
	}
}
