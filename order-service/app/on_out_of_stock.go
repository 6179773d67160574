package app

import (
	"context"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// OnOutOfStock: inventory could not reserve the items, so the order is CANCELLED with the
// payload's reason (OUT_OF_STOCK, UNKNOWN_SKU or MIXED_CURRENCY).
func (a *App) OnOutOfStock(ctx context.Context, e event.Event) error {
	p, err := event.Decode[event.OutOfStock](e)
	if err != nil {
		return err
	}
	return a.apply(ctx, e, p.TransactionID, func(de *domain.Event) { de.Reason = p.Reason })
}
