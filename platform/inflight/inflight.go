// Package inflight bounds work that is accepted now and finished later, elsewhere: an order
// accepted over HTTP is finished when a Kafka event makes it terminal. Admitting more than the
// system can finish only makes everybody wait longer, so a service refuses the excess instead
// (see httpx.Overloaded).
package inflight

import (
	"sync"
	"sync/atomic"
	"time"
)

// Window is how often a Gate with a target measures the rate at which work finishes.
const Window = 250 * time.Millisecond

// Gate counts work accepted and not yet finished, and admits new work only below its limit.
// The zero Gate admits everything and counts. Its methods are safe for concurrent use.
//
// With a target (SetTarget), the limit in force follows the rate at which work finishes: by
// Little's law, work admitted while rate x target pieces are in flight waits about target. A
// fixed limit holds a wait only on the machine it was tuned on: the same limit that kept the
// sandbox's p99 under a second on one machine let it reach 1.5 s on a slower one, and left
// throughput unused on a faster one.
type Gate struct {
	n       atomic.Int64
	limit   atomic.Int64 // set by SetLimit; 0 or less: none
	inForce atomic.Int64 // the limit TryAcquire applies; 0 or less: none
	// finished counts Finish calls in the current window; due is when the window closes
	// (UnixNano), 0 without a target.
	finished atomic.Int64
	due      atomic.Int64

	mu     sync.Mutex // guards what follows, and closing a window
	target time.Duration
	floor  int
	start  time.Time // of the current window
	rate   float64   // pieces finished per second, smoothed over the windows
	share  func() float64
	now    func() time.Time
}

// SetLimit sets how much work may be in flight at once; 0 or less means no limit. With a
// target, it bounds what the target allows.
func (g *Gate) SetLimit(limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit.Store(int64(limit))
	g.enforce()
}

// SetTarget makes the limit in force the rate at which work finished lately (Finish, measured
// every Window and smoothed) times target, at least floor and at most SetLimit's limit. The
// floor admits work from a standstill, before anything has finished. 0 switches it off.
func (g *Gate) SetTarget(target time.Duration, floor int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.now == nil {
		g.now = time.Now
	}
	g.target, g.floor, g.rate = max(target, 0), floor, 0
	g.start = g.now()
	g.finished.Store(0)
	if g.target > 0 {
		g.due.Store(g.start.Add(Window).UnixNano())
	} else {
		g.due.Store(0)
	}
	g.enforce()
}

// SetShare tells a Gate with a target which part of all the work in flight it sees finish:
// share returns a fraction in (0, 1], or 0 when that is not known. Replicas of a service may
// each count all replicas' work in flight while each finishes only its own part of it (its
// partitions' events), so the limit in force follows the rate at which this process finishes
// work divided by its share, the rate at which all of them do. Without it, or while share
// returns 0 or anything else outside (0, 1], the rate is taken as it is. share is called under
// the Gate's lock each time a window closes, so it must be cheap and must not call the Gate.
func (g *Gate) SetShare(share func() float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.share = share
	g.enforce()
}

// enforce sets the limit in force from the limit, the target, the rate and the share. Called
// under mu.
func (g *Gate) enforce() {
	limit := g.limit.Load()
	if g.target <= 0 {
		g.inForce.Store(limit)
		return
	}
	rate := g.rate
	if g.share != nil {
		if s := g.share(); s > 0 && s <= 1 {
			rate /= s
		}
	}
	allowed := max(int64(g.floor), int64(rate*g.target.Seconds()))
	if limit > 0 {
		allowed = min(allowed, limit)
	}
	g.inForce.Store(max(allowed, 1))
}

// adapt closes the measuring window once it is due: the rate becomes the mean of the last
// one and the window's.
func (g *Gate) adapt() {
	due := g.due.Load()
	if due == 0 {
		return
	}
	now := g.now() // set before due was (SetTarget)
	if now.UnixNano() < due {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.due.Load() != due { // another caller closed it
		return
	}
	rate := float64(g.finished.Swap(0)) / now.Sub(g.start).Seconds()
	if g.rate > 0 {
		rate = (g.rate + rate) / 2
	}
	g.rate, g.start = rate, now
	g.due.Store(now.Add(Window).UnixNano())
	g.enforce()
}

// Limit returns the limit SetLimit set; 0 means none.
func (g *Gate) Limit() int { return int(max(0, g.limit.Load())) }

// InForce returns the limit TryAcquire applies now: Limit, or what the target allows; 0
// means none.
func (g *Gate) InForce() int {
	g.adapt()
	return int(max(0, g.inForce.Load()))
}

// TryAcquire counts one more piece of work in flight and reports true, unless that would pass
// the limit in force: then it counts nothing and reports false.
func (g *Gate) TryAcquire() bool {
	g.adapt()
	for {
		n, limit := g.n.Load(), g.inForce.Load()
		if limit > 0 && n >= limit {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Full reports whether TryAcquire would refuse now: a check that counts nothing, for a caller
// that has work to do before it acquires.
func (g *Gate) Full() bool {
	g.adapt()
	limit := g.inForce.Load()
	return limit > 0 && g.n.Load() >= limit
}

// Release gives back an acquired slot that was not used.
func (g *Gate) Release() { g.n.Add(-1) }

// Finish counts one piece of work as finished; the rate SetTarget follows counts it.
func (g *Gate) Finish() {
	g.n.Add(-1)
	g.finished.Add(1)
}

// Add counts n pieces of work already in flight, such as those a store holds at start.
func (g *Gate) Add(n int) { g.n.Add(int64(n)) }

// InFlight returns how much work is in flight.
func (g *Gate) InFlight() int { return int(g.n.Load()) }
