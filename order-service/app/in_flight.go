package app

import (
	"context"
	"errors"
	"fmt"
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
// HTTP server starts. The count is this process's view, right for one order-service instance.
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
