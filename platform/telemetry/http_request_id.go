package telemetry

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// RequestIDHeader carries a request's id: taken from the client when it sends one, generated
// otherwise, and echoed back on the answer.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLength bounds an id a client sends; a longer one is replaced, not logged.
const maxRequestIDLength = 128

type requestIDKey struct{}

// RequestIDFrom returns the id of the HTTP request ctx belongs to, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID returns gin middleware that gives every request an id (X-Request-ID), echoes it on
// the answer and puts it in the request's context, where log lines pick it up.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if id == "" || len(id) > maxRequestIDLength || !printable(id) {
			id = uuid.NewString()
		}
		c.Header(RequestIDHeader, id)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
		c.Next()
	}
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
