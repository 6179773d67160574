package app

import (
	"context"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// OnOrderExpired handles ORDER_EXPIRED: order-service cancelled the order at its deadline. It
// puts back exactly what the transaction still holds, once, and emits ITEM_RELEASED (reason
// EXPIRED) to the order topic for the order's history; stock released before (a declined
// payment) is not released again. It also records the expiry, so an ORDER_CREATE of the order
// that comes after it reserves nothing. A redelivered event changes nothing.
func (a *App) OnOrderExpired(ctx context.Context, e event.Event) error {
	expired, err := event.Decode[event.OrderExpired](e)
	if err != nil {
		return err
	}
	if err := checkIDs(e.ID, expired.TransactionID); err != nil {
		return err
	}
	txID := expired.TransactionID
	applied, err := a.repo.Expire(ctx, e.ID, txID, func(lines []domain.Line, status domain.Status) ([]kafka.Message, error) {
		if len(lines) == 0 || status != domain.StatusActive {
			return nil, nil // nothing held: never reserved, or released already
		}
		return a.itemReleased(txID, event.ReasonExpired, lines)
	})
	return a.stored(ctx, applied, err)
}
