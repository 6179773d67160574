package httpx

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// CodeOverloaded is the code of a 503 for work refused because too much is in flight.
const CodeOverloaded = "OVERLOADED"

// Overloaded answers 503 OVERLOADED with a Retry-After header of retryAfter (whole seconds, at
// least 1): the request did nothing and may be sent again then.
func Overloaded(c *gin.Context, retryAfter time.Duration, message string) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds())))))
	Error(c, http.StatusServiceUnavailable, CodeOverloaded, message)
}

// Slots bounds how many requests hold a slot at once: long-lived streams, each of which keeps
// something busy (a Kafka consumer, a store poll) for as long as its client stays.
type Slots chan struct{}

// NewSlots returns n slots.
func NewSlots(n int) Slots { return make(Slots, n) }

// Take takes a slot for the request; call release when it ends. With none free it answers 503
// with code, message and Retry-After: 10, and reports false.
func (s Slots) Take(c *gin.Context, code, message string) (release func(), ok bool) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, true
	default:
		c.Header("Retry-After", "10")
		Error(c, http.StatusServiceUnavailable, code, message)
		return nil, false
	}
}
