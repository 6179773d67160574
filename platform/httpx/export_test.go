package httpx

import (
	"testing"
	"time"
)

// SetSSEWriteTimeout shortens SSEWriteTimeout until the test ends; not for parallel tests.
func SetSSEWriteTimeout(t testing.TB, d time.Duration) {
	old := sseWriteTimeout
	sseWriteTimeout = d
	t.Cleanup(func() { sseWriteTimeout = old })
}
