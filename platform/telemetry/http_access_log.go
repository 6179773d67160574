package telemetry

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// AccessLog returns gin middleware that logs one line per request with its method, route,
// status and duration; the request id and trace id come from the context (ContextHandler).
// Successful reads are logged at debug level and probes (/healthz, /readyz, /metrics) not at
// all: clients polling an order would drown the writes and the failures.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		switch c.FullPath() {
		case "/healthz", "/readyz", "/metrics":
			return
		}
		level := slog.LevelInfo
		if (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && c.Writer.Status() < http.StatusBadRequest {
			level = slog.LevelDebug
		}
		log.Log(c.Request.Context(), level, "http request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"route", c.FullPath(), "status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}
