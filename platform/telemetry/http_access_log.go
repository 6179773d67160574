package telemetry

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// AccessLog returns gin middleware that logs one line per request with its method, route,
// status and duration; the request id and trace id come from the context (ContextHandler).
// Probes (/healthz, /readyz, /metrics) are not logged: they would drown the rest.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		switch c.FullPath() {
		case "/healthz", "/readyz", "/metrics":
			return
		}
		log.InfoContext(c.Request.Context(), "http request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"route", c.FullPath(), "status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}
