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
