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

// InFlight returns how many orders are accepted and not yet terminal (COMPLETED or CANCELLED).
func (a *App) InFlight() int { return a.inFlight.InFlight() }

// InFlightLimit returns the limit LimitInFlight set; 0 means none.
func (a *App) InFlightLimit() int { return a.inFlight.Limit() }

// InFlightLimitInForce returns the limit that applies now: LimitInFlight's, or what
// AdaptInFlight allows; 0 means none.
func (a *App) InFlightLimitInForce() int { return a.inFlight.InForce() }

// RecountInFlight corrects the in-flight count from the store's. One process alone counts
// exactly: it accepts every order and settles every one. With several replicas of
// order-service, an order accepted by one is settled by whichever consumes its partition, so
// each replica's own count drifts for good: up on a replica that accepts more orders than it
// settles, until it refuses every order, and below zero on another, which then refuses none.
// After a recount every replica counts all replicas' orders in flight against its own limit,
// which follows its own settle rate: together they admit less than one process would with the
// same target, never nothing. A difference that the store writes in progress during the count
// can explain is left alone, so one process's exact count is not disturbed.
func (a *App) RecountInFlight(ctx context.Context) error {
	counter, ok := a.repo.(InFlightCounter)
	if !ok {
		return fmt.Errorf("the order store %T cannot count orders in flight", a.repo)
	}
	running, started, local := a.writes.running.Load(), a.writes.started.Load(), a.inFlight.InFlight()
	stored, err := counter.CountInFlight(ctx)
	if err != nil {
		return fmt.Errorf("count orders in flight: %w", err)
	}
	slack := running + a.writes.started.Load() - started
	a.inFlight.Add(drift(stored, local, int(slack)))
	return nil
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

// InFlightRecount is how often RecountEvery corrects the in-flight count: a replica's count
// drifts by at most the orders accepted or settled by another replica in that time.
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
					log.Warn("in-flight recount", "err", err)
				}
			}
		}
	}
}

// countingWrites counts the store writes that create an order or may settle one.
type countingWrites struct {
	running, started atomic.Int64
}

// counted runs write, a store write that creates an order or may settle one together with the
// change of the local count it makes, counted for RecountInFlight: a count taken meanwhile may
// or may not see the write, and the local count may or may not have changed.
func (a *App) counted(write func() error) error {
	a.writes.started.Add(1)
	a.writes.running.Add(1)
	defer a.writes.running.Add(-1)
	return write()
}
