package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes is the largest request body a service reads (1 MiB); a larger one gets 413.
const MaxBodyBytes = 1 << 20

// Check reports whether a dependency (a broker, a store) works right now.
type Check func(ctx context.Context) error

// NewEngine returns a gin engine with the shared conventions: panics recovered (a JSON 500), bodies limited
// to MaxBodyBytes, a WriteTimeout per request (not on text/event-stream: WriteDeadline), JSON 404 and 405 answers, and GET /healthz and GET /readyz. /readyz answers 200
// only while every check passes. Middleware mws (metrics, tracing, request ids) run around every
// route, these included, after panic recovery.
func NewEngine(checks map[string]Check, mws ...gin.HandlerFunc) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// "/orders/" is not "/orders": a 301 with an HTML body is no answer for an API client.
	r.RedirectTrailingSlash = false
	r.Use(gin.CustomRecovery(func(c *gin.Context, _ any) {
		if c.Writer.Written() { // a stream already under way: no second answer, just the end
			c.Abort()
			return
		}
		Error(c, http.StatusInternalServerError, "INTERNAL", "internal error")
	}))
	r.Use(WriteDeadline(WriteTimeout))
	r.Use(mws...)
	r.Use(func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	})
	r.NoRoute(func(c *gin.Context) { Error(c, http.StatusNotFound, "NOT_FOUND", "no such resource") })
	r.NoMethod(func(c *gin.Context) {
		Error(c, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed here")
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		failed := gin.H{}
		for name, check := range checks {
			if err := check(ctx); err != nil {
				failed[name] = err.Error()
			}
		}
		if len(failed) > 0 {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failed": failed})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	return r
}

// Server timeouts. ReadTimeout bounds reading a whole request (a MaxBodyBytes body included),
// so a slow client cannot hold a connection; IdleTimeout closes kept-alive connections nobody
// uses. There is deliberately no server WriteTimeout: NewEngine bounds each response with
// WriteDeadline, which leaves Server-Sent-Events streams open.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	IdleTimeout       = 120 * time.Second
)

// Serve serves h on addr until ctx is cancelled, then shuts down gracefully.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, l, h)
}

// ServeListener serves h on l, which it closes, until ctx is cancelled, then shuts down
// gracefully.
func ServeListener(ctx context.Context, l net.Listener, h http.Handler) error {
	// Streams (StreamContext) end when shutdown begins instead of holding it up.
	down, shuttingDown := context.WithCancel(context.Background())
	defer shuttingDown()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout, IdleTimeout: IdleTimeout,
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), shutdownKey{}, down)
		}}
	srv.RegisterOnShutdown(shuttingDown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
			// Shutdown waits 5 s for connections a client opened but never used (net/http
			// issue 22682); those hold no request, so closing them loses nothing.
			return srv.Close()
		} else if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
