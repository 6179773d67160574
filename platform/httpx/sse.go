package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// SSE writes a Server-Sent Events stream (text/event-stream) to a client, one event at a time,
// each flushed as it is written. A client that takes no event for SSEWriteTimeout is cut off.
type SSE struct {
	w       gin.ResponseWriter
	started bool
}

// SSEWriteTimeout bounds the write of one event: a client that stops reading would otherwise
// hold its stream, and whatever feeds it, for good.
const SSEWriteTimeout = 30 * time.Second

var sseWriteTimeout = SSEWriteTimeout // tests shorten it

// NewSSE returns a stream on c. Nothing is written until the first Send, so a handler can still
// answer with an ordinary JSON error (404, 400) until then.
func NewSSE(c *gin.Context) *SSE { return &SSE{w: c.Writer} }

// Started reports whether the stream's headers were sent.
func (s *SSE) Started() bool { return s.started }

// Start sends the stream's headers now (they go with the first Send otherwise).
func (s *SSE) Start() {
	if s.started {
		return
	}
	s.started = true
	// A stream outlives the per-request write deadline (WriteDeadline spares only requests
	// that say they accept text/event-stream, and curl does not), and its read deadline goes
	// too: only the client, a shutdown (StreamContext) and an event the client takes too long
	// to read (SSEWriteTimeout, per event) end an open stream.
	rc := http.NewResponseController(s.w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// Reverse proxies (nginx) would otherwise buffer the stream.
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.w.Flush()
}

// Send writes one event of type name (empty for the default "message") with id (may be empty)
// and data encoded as JSON on one line, and flushes it.
func (s *SSE) Send(name, id string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	s.Start()
	var msg strings.Builder
	if id != "" {
		fmt.Fprintf(&msg, "id: %s\n", oneLine(id))
	}
	if name != "" {
		fmt.Fprintf(&msg, "event: %s\n", oneLine(name))
	}
	fmt.Fprintf(&msg, "data: %s\n\n", b)
	return s.write(msg.String())
}

// write writes and flushes text within SSEWriteTimeout.
func (s *SSE) write(text string) error {
	rc := http.NewResponseController(s.w)
	_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := s.w.WriteString(text); err != nil {
		return err
	}
	return rc.Flush()
}

// Comment writes a comment line, which clients ignore: it keeps idle connections open through
// proxies and finds clients that went away.
func (s *SSE) Comment(text string) error {
	s.Start()
	return s.write(": " + oneLine(text) + "\n\n")
}

// oneLine keeps a field from ending the line it is on (a newline would start another field).
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

type shutdownKey struct{}

// StreamContext returns the context a long-lived response (an SSE stream) should run in: done
// when the request is, and also when the server begins a graceful shutdown, which otherwise
// waits for open streams until its deadline.
func StreamContext(c *gin.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.Request.Context())
	if down, ok := c.Request.Context().Value(shutdownKey{}).(context.Context); ok {
		stop := context.AfterFunc(down, cancel)
		return ctx, func() { stop(); cancel() }
	}
	return ctx, cancel
}
