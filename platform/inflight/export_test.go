package inflight

import "time"

// SetClock makes g read the time from now; call it before SetTarget.
func SetClock(g *Gate, now func() time.Time) { g.now = now }
