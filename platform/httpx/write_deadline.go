package httpx

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// WriteTimeout is how long a request may take to be answered once its headers are read.
const WriteTimeout = 30 * time.Second

// WriteDeadline is the middleware that gives each request WriteTimeout to be answered, except
// a stream: a request that accepts text/event-stream gets no write deadline, so a
// Server-Sent-Events route can stay open. The server itself has no WriteTimeout because
// net/http's applies to every route alike; a streaming handler may also clear or push back its
// deadline with http.NewResponseController(w).SetWriteDeadline.
func WriteDeadline(timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !strings.Contains(c.GetHeader("Accept"), "text/event-stream") {
			// An error means the writer cannot take deadlines (a test recorder): nothing to bound.
			_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(timeout))
		}
		c.Next()
	}
}
