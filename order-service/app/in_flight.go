package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrOverloaded: as many orders as the limit allows are accepted and not yet terminal, so a new
// one is refused; nothing was stored or published.
var ErrOverloaded = errors.New("too many orders in flight")

// InFlightCounter is implemented by stores that can count their orders that are not terminal
// yet (PENDING or RESERVED).
type InFlightCounter interface {
	CountInFlight(ctx context.Context) (int, error)
}

// LimitInFlight makes PlaceOrder refuse a new order with ErrOverloaded while limit orders are
// accepted and not yet terminal (0 or less: no limit). It starts the count from the store's
// non-terminal orders, so it stays right across restarts: call it before the consumer or the
// HTTP server starts. With replicas, RecountInFlight keeps the count right.
func (a *App) LimitInFlight(ctx context.Context, limit int) error {
	counter, ok := a.repo.(InFlightCounter)
	if !ok {
		return fmt.Errorf("the order store %T cannot count orders in flight", a.repo)
	}
	n, err := counter.CountInFlight(ctx)
	if err != nil {
		return fmt.Errorf("count orders in flight: %w", err)
	}
	a.inFlight.Add(n - a.inFlight.InFlight())
	a.inFlight.SetLimit(limit)
	return nil
}

// AdaptInFlight makes the limit follow the rate at which orders become terminal: it admits
// about as many orders as settle within target, so an accepted order waits about target
// whatever the machine (Little's law), at least floor and at most LimitInFlight's limit. The
// floor admits orders from a standstill, before any has settled. 0 switches it off.
func (a *App) AdaptInFlight(target time.Duration, floor int) { a.inFlight.SetTarget(target, floor) }

// SettleShare tells AdaptInFlight which part of all orders this process settles: the part of
// the order topic's partitions it consumes (0 while not known). Each replica counts all
// replicas' orders in flight (RecountInFlight) but settles only those of its partitions, so
// its limit follows its own settle rate divided by its share, the rate at which all replicas
// settle: together they admit what one process would, instead of 1/k of it with k replicas.
func (a *App) SettleShare(share func() float64) { a.inFlight.SetShare(share) }

// InFlight returns how many orders are accepted and not yet terminal (COMPLETED or CANCELLED).
func (a *App) InFlight() int { return a.inFlight.InFlight() }

// InFlightLimit returns the limit LimitInFlight set; 0 means none.
func (a *App) InFlightLimit() int { return a.inFlight.Limit() }

// InFlightLimitInForce returns the limit that applies now: LimitInFlight's, or what
// AdaptInFlight allows; 0 means none.
func (a *App) InFlightLimitInForce() int { return a.inFlight.InForce() }

// InFlightRecounter is implemented by stores that can count their orders in flight cheaply
// enough to do it every second (RecountEvery): ok is false while they cannot, as a DynamoDB
// table whose in-flight index is not built yet.
type InFlightRecounter interface {
	CountInFlightCheaply(ctx context.Context) (n int, ok bool, err error)
}

// RecountInFlight corrects the in-flight count from the store's. With several replicas of
// order-service, an order accepted by one is settled by whichever consumes its partition, so
// each replica's own count (accepted minus settled here) drifts for good: up on a replica that
// accepts more orders than it settles, until it refuses every order, and below zero on another,
// which then refuses none. One process alone drifts only by a write whose outcome it never
// learnt (a timeout after the store committed). After a recount each replica counts all
// replicas' orders in flight against its own limit, which follows the rate at which all
// replicas settle orders (SettleShare; docs/replicas.md).
//
// What the count cannot settle is left alone: the writes in progress while it ran may or may
// not be in it, and a store whose count lags its writes (DynamoDB's index) misses the newest
// for a moment, so only the part of the difference beyond the writes in progress that the
// previous recount also saw is corrected.
func (a *App) RecountInFlight(ctx context.Context) error {
	counter, ok := a.repo.(InFlightRecounter)
	if !ok {
		return fmt.Errorf("the order store %T cannot count orders in flight cheaply", a.repo)
	}
	// A write that ended before done was read is in local and in the store; one that started
	// after started is read, in neither; any other is counted in started - done.
	done, local := a.writes.done.Load(), a.inFlight.InFlight()
	stored, ok, err := counter.CountInFlightCheaply(ctx)
	if err != nil || !ok {
		return err
	}
	d := drift(stored, local, int(a.writes.started.Load()-done))
	c := persistent(d, int(a.writes.uncorrected.Load()))
	a.writes.uncorrected.Store(int64(d - c))
	a.inFlight.Add(c)
	if c > 0 {
		a.writes.added.Add(int64(c))
	} else {
		a.writes.removed.Add(int64(-c))
	}
	return nil
}

// InFlightCorrections returns how many orders recounts (RecountInFlight) added to the in-flight
// count and took off it since the start. One process alone corrects nothing in normal
// operation; with replicas each replica's count follows the others' orders through them.
func (a *App) InFlightCorrections() (added, removed int64) {
	return a.writes.added.Load(), a.writes.removed.Load()
}

// drift is how far the local count is off the stored count beyond slack, the difference that
// writes in progress can explain either way.
func drift(stored, local, slack int) int {
	switch d := stored - local; {
	case d > slack:
		return d - slack
	case d < -slack:
		return d + slack
	}
	return 0
}

// persistent is the part of drift d that the previous recount saw too (prev, what it left
// uncorrected): the same way, at most as far.
func persistent(d, prev int) int {
	switch {
	case d > 0 && prev > 0:
		return min(d, prev)
	case d < 0 && prev < 0:
		return max(d, prev)
	}
	return 0
}

// InFlightRecount is how often RecountEvery corrects the in-flight count: a replica's count is
// off by at most what the other replicas accepted or settled of its orders in about two.
const InFlightRecount = time.Second

// RecountEvery runs RecountInFlight every interval until ctx ends; a failed count is logged
// and tried again at the next tick.
func (a *App) RecountEvery(interval time.Duration, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
				if err := a.RecountInFlight(ctx); err != nil && ctx.Err() == nil {
					log.Warn("in-flight recount failed", "error", err)
				}
			}
		}
	}
}

// countingWrites counts the store writes that create an order or settle one (counted), and
// keeps what the last recount left uncorrected.
type countingWrites struct {
	started, done atomic.Int64
	uncorrected   atomic.Int64
	// added and removed are the orders recounts added to the count and took off it, in all.
	added, removed atomic.Int64
}

// counted runs write, a store write that creates an order or settles one together with the
// change of the local count it makes, counted for RecountInFlight: a count taken meanwhile may
// or may not see the write, and the local count may or may not have changed.
func (a *App) counted(write func() error) error {
	a.writes.started.Add(1)
	defer a.writes.done.Add(1)
	return write()
}

// settle runs write, the store write that makes an order terminal, and takes the order out of
// the in-flight count once it is stored.
func (a *App) settle(write func() error) error {
	return a.counted(func() error {
		err := write()
		if err == nil {
			a.inFlight.Finish() // the saga is done with this order
		}
		return err
	})
}
