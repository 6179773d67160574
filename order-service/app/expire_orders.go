package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Deadlines is what the deadline sweeper needs of a store.
type Deadlines interface {
	// DueOrders returns the transactionIds of up to limit orders still PENDING or RESERVED
	// that were created at or before createdBefore. It may also return orders that have just
	// become terminal (an index lagging behind): the caller reads each again.
	DueOrders(ctx context.Context, createdBefore time.Time, limit int) ([]string, error)
	// UpdateOrderWithEvents stores o only if the stored version is still o.Version (bumping
	// it), together with msgs in the outbox, in one atomic write; otherwise it returns an error
	// matching ErrConflict and writes nothing. Unlike UpdateOrder, which keys outbox records by
	// ce_id, every message is its own record: ORDER_EXPIRED is one event sent to two topics.
	UpdateOrderWithEvents(ctx context.Context, o domain.Order, msgs []kafka.Message) error
}

// Expirer expires the orders whose deadline (createdAt + Deadline) passed while they were
// still PENDING or RESERVED: each becomes CANCELLED with reason EXPIRED, and ORDER_EXPIRED goes
// through the outbox to the topics of the services that compensate. Any number of replicas may
// run one: the write is conditional on the version read, so an order expires once, and never
// after completion or cancellation were recorded.
type Expirer struct {
	app      *App
	deadline time.Duration
	topics   []string
	log      *slog.Logger
	// Interval is how often Run looks for due orders; an order expires at most about Interval
	// after its deadline (plus the time to expire the ones before it).
	Interval time.Duration
	// Batch bounds how many due orders one look reads; Run looks again at once after a full one.
	Batch int
}

// Expirer returns the sweeper of a's orders: deadline after creation, ORDER_EXPIRED goes to
// topics. It looks every deadline/4, at least every second and at most every 50 ms.
func (a *App) Expirer(deadline time.Duration, log *slog.Logger, topics ...string) *Expirer {
	return &Expirer{app: a, deadline: deadline, topics: topics, log: log,
		Interval: min(max(deadline/4, 50*time.Millisecond), time.Second), Batch: 100}
}

// Run expires due orders until ctx is cancelled. A store that cannot be reached is tried again
// at the next interval: what came due meanwhile (or while no replica ran) expires then.
func (x *Expirer) Run(ctx context.Context) error {
	for {
		n, err := x.ExpireDue(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			x.log.Warn("expire due orders", "error", err)
		case n > 0:
			x.log.Info("orders expired", "count", n)
		}
		wait := x.Interval
		if err == nil && n >= x.Batch {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// ExpireDue expires the orders due now (up to Batch) and reports how many this call expired.
func (x *Expirer) ExpireDue(ctx context.Context) (int, error) {
	now := x.app.now()
	ids, err := x.app.repo.DueOrders(ctx, now.Add(-x.deadline), x.Batch)
	if err != nil {
		return 0, fmt.Errorf("find due orders: %w", err)
	}
	expired := 0
	var errs []error
	for _, id := range ids {
		ok, err := x.Expire(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			expired++
		}
	}
	if expired > 0 {
		x.app.notify()
	}
	return expired, errors.Join(errs...)
}

// Expire expires one order if it is due and still in flight, and reports whether this call
// expired it.
func (x *Expirer) Expire(ctx context.Context, transactionID string) (bool, error) {
	for range maxConflicts {
		o, err := x.app.repo.GetOrder(ctx, transactionID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		now := x.app.now()
		if !o.Expire(now, x.deadline) {
			return false, nil // settled first, or not due
		}
		e, err := event.New(event.TypeOrderExpired, Source, o.TransactionID, event.OrderExpired{
			TransactionID: o.TransactionID, Reason: event.ReasonExpired,
			CreatedAt: o.CreatedAt, Deadline: o.Deadline(x.deadline),
		})
		if err != nil {
			return false, err
		}
		msgs := make([]kafka.Message, len(x.topics))
		for i, t := range x.topics {
			msgs[i] = kafka.Message{Topic: t, Event: e}
		}
		status, err := x.app.statusMessages(o) // ORDER_CANCELLED (EXPIRED) on order-status
		if err != nil {
			return false, err
		}
		msgs = append(msgs, status...)
		err = x.app.settle(func() error { return x.app.repo.UpdateOrderWithEvents(ctx, o, msgs) })
		x.app.recent.drop(transactionID) // apply reads the expired order, not what it stored before
		if err == nil {
			x.app.recorded(o) // followers of the order see ORDER_EXPIRED now
			x.app.observer.OrderSettled(o)
			return true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return false, fmt.Errorf("expire order %s: %w", transactionID, err)
		}
	}
	return false, fmt.Errorf("expire order %s: %w %d times", transactionID, ErrConflict, maxConflicts)
}
