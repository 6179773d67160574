package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// maxConflicts bounds how often apply re-reads an order that others keep changing; past it the
// error is transient and the consumer retries the event later.
const maxConflicts = 20

// apply records a saga event on its order: read (from what this process stored last, when it
// has it), domain.Apply, write over the version read, again from the store on a conflict. An
// event for an order that does not exist can never apply.
func (a *App) apply(ctx context.Context, e event.Event, transactionID string, fill func(*domain.Event)) error {
	if transactionID != e.Key {
		return fmt.Errorf("%w: %s payload is for transaction %q but the message key is %q", event.ErrInvalid, e.Type, transactionID, e.Key)
	}
	de := domain.Event{ID: e.ID, Type: e.Type, At: a.now()}
	if fill != nil {
		fill(&de)
	}
	for range maxConflicts {
		o, ok := a.recent.get(transactionID)
		if !ok {
			var err error
			o, err = a.repo.GetOrder(ctx, transactionID)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: %s for unknown order %s", event.ErrInvalid, e.Type, transactionID)
			}
			if err != nil {
				return err
			}
		}
		wasTerminal := terminal(o.Status)
		changed, err := o.Apply(de)
		if err != nil {
			return fmt.Errorf("%w: %v", event.ErrInvalid, err)
		}
		if !changed {
			kafka.MarkDuplicate(ctx)
			return nil
		}
		settled := !wasTerminal && terminal(o.Status)
		var msgs []kafka.Message
		if settled {
			if msgs, err = a.statusMessages(o); err != nil {
				return err
			}
		}
		if settled {
			err = a.settle(func() error { return a.repo.UpdateOrder(ctx, o, msgs...) })
		} else {
			err = a.repo.UpdateOrder(ctx, o, msgs...)
		}
		if err == nil {
			if settled {
				a.notify()
				a.observer.OrderSettled(o)
			}
			a.recorded(o)
			o.Version++ // what UpdateOrder stored
			if terminal(o.Status) {
				// No saga event is due for a settled order, so keeping it would only grow the
				// heap every GC cycle scans (in the sandbox: p99 at a calm rate 86 -> 318 ms
				// after 100,000 orders, with the other histories below); a late duplicate
				// reads it from the store.
				a.recent.drop(transactionID)
			} else {
				a.recent.put(o)
			}
			return nil
		}
		a.recent.drop(transactionID) // stale, or its write's outcome is unknown
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("apply %s to order %s: %w %d times", e.Type, transactionID, ErrConflict, maxConflicts)
}
