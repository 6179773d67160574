package gateway

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// maxLatency bounds injected latency, so a typo cannot park requests for hours.
const maxLatency = 10 * time.Minute

// Faults is what PUT /v1/faults injects into every POST: LatencyMs of delay, then an HTTP 503
// (before anything is charged or refunded) with probability ErrorRate.
type Faults struct {
	LatencyMs int64   `json:"latencyMs"`
	ErrorRate float64 `json:"errorRate"`
}

func (f Faults) validate() error {
	switch {
	case f.LatencyMs < 0 || time.Duration(f.LatencyMs)*time.Millisecond > maxLatency:
		return fmt.Errorf("latencyMs must be between 0 and %d, not %d", maxLatency.Milliseconds(), f.LatencyMs)
	case !(f.ErrorRate >= 0 && f.ErrorRate <= 1):
		return fmt.Errorf("errorRate must be between 0 and 1, not %v", f.ErrorRate)
	}
	return nil
}

// faultState holds the faults in force. They live in memory only: a restarted gateway is healthy.
type faultState struct {
	mu sync.Mutex
	f  Faults
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
}

// SetFaults injects f into every later POST, as PUT /v1/faults does.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// injectFaults applies the faults in force to the request for key: it waits out the latency with
// the key marked in progress (a concurrent request with the key gets 409 request_in_progress),
// then fails at the error rate. It reports whether the request may go on; if not, it has answered.
func (s *Server) injectFaults(c *gin.Context, key string) bool {
	f := s.faults.get()
	if f.LatencyMs > 0 {
		s.mu.Lock()
		busy := s.inProgress[key]
		s.inProgress[key] = true
		s.mu.Unlock()
		if busy {
			httpx.Error(c, http.StatusConflict, CodeRequestInProgress,
				"another request with this idempotency key is in progress; retry later")
			return false
		}
		// A client that gives up does not stop the gateway: the request completes as a real
		// one would, which is what makes idempotent retries necessary.
		time.Sleep(time.Duration(f.LatencyMs) * time.Millisecond)
		s.mu.Lock()
		delete(s.inProgress, key)
		s.mu.Unlock()
	}
	if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
		httpx.Error(c, http.StatusServiceUnavailable, CodeUnavailable, "injected fault: the gateway is unavailable; nothing was charged")
		return false
	}
	return true
}

func (s *Server) getFaults(c *gin.Context) { c.JSON(http.StatusOK, s.faults.get()) }

func (s *Server) putFaults(c *gin.Context) {
	var f Faults
	if !httpx.BindJSON(c, &f) {
		return
	}
	if err := s.SetFaults(f); err != nil {
		httpx.Error(c, http.StatusBadRequest, CodeInvalidRequest, err.Error())
		return
	}
	c.JSON(http.StatusOK, f)
}

func (s *Server) deleteFaults(c *gin.Context) {
	s.faults.set(Faults{})
	c.Status(http.StatusNoContent)
}
