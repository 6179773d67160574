package telemetry

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"
)

// HTTPTracing returns gin middleware that starts a server span per request (continuing a
// traceparent the client sent), so POST /orders begins the order's trace. Probes and /metrics
// are not traced.
func HTTPTracing(service string, tp trace.TracerProvider) gin.HandlerFunc {
	return otelgin.Middleware(service,
		otelgin.WithTracerProvider(tp),
		otelgin.WithPropagators(Propagator),
		otelgin.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}))
}
