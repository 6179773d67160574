package domain

import (
	"time"

	"github.com/edmshop/edm-shop/platform/event"
)

// DefaultDeadline is how long an order may stay in flight (PENDING or RESERVED) before it
// expires, when ORDER_DEADLINE does not say otherwise.
const DefaultDeadline = 30 * time.Second

// Terminal reports whether s ends the saga: COMPLETED or CANCELLED.
func (s Status) Terminal() bool { return s == StatusCompleted || s == StatusCancelled }

// Deadline is when the order expires unless the saga has ended it by then: createdAt + d.
func (o Order) Deadline(d time.Duration) time.Time { return o.CreatedAt.Add(d) }

// Expire cancels the order with reason EXPIRED and records ORDER_EXPIRED in its history when,
// at now, it is still PENDING or RESERVED and its deadline (createdAt + d) has come. It reports
// whether the order changed. A terminal order never changes: whichever of completion,
// cancellation and expiry was recorded first stands, and the events that arrive later are
// recorded by Apply without effect.
func (o *Order) Expire(now time.Time, d time.Duration) bool {
	if o.Status.Terminal() || now.Before(o.Deadline(d)) {
		return false
	}
	at := now.UTC()
	o.Status, o.Reason = StatusCancelled, event.ReasonExpired
	o.record(HistoryEntry{
		EventID: event.IDFor(o.TransactionID, event.TypeOrderExpired),
		Type:    event.TypeOrderExpired,
		At:      at,
		Applied: true,
	})
	return true
}
