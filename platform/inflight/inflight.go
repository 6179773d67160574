// Package inflight bounds work that is accepted now and finished later, elsewhere: an order
// accepted over HTTP is finished when a Kafka event makes it terminal. Admitting more than the
// system can finish only makes everybody wait longer, so a service refuses the excess instead
// (see httpx.Overloaded).
package inflight

import "sync/atomic"

// Gate counts work accepted and not yet finished, and admits new work only below its limit.
// The zero Gate admits everything and counts. Its methods are safe for concurrent use.
type Gate struct {
	n     atomic.Int64
	limit atomic.Int64
}

// SetLimit sets how much work may be in flight at once; 0 or less means no limit.
func (g *Gate) SetLimit(limit int) { g.limit.Store(int64(limit)) }

// Limit returns the limit; 0 means none.
func (g *Gate) Limit() int { return int(max(0, g.limit.Load())) }

// TryAcquire counts one more piece of work in flight and reports true, unless that would pass
// the limit: then it counts nothing and reports false.
func (g *Gate) TryAcquire() bool {
	for {
		n, limit := g.n.Load(), g.limit.Load()
		if limit > 0 && n >= limit {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release counts one piece of work as finished (or an acquired slot as unused).
func (g *Gate) Release() { g.n.Add(-1) }

// Add counts n pieces of work already in flight, such as those a store holds at start.
func (g *Gate) Add(n int) { g.n.Add(int64(n)) }

// InFlight returns how much work is in flight.
func (g *Gate) InFlight() int { return int(g.n.Load()) }
