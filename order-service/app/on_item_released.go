package app

import (
	"context"

	"github.com/edmshop/edm-shop/platform/event"
)

// OnItemReleased: the payment was declined and inventory put the stock back, so the order is
// CANCELLED with reason PAYMENT_DECLINED.
func (a *App) OnItemReleased(ctx context.Context, e event.Event) error {
	p, err := event.Decode[event.ItemReleased](e)
	if err != nil {
		return err
	}
	return a.apply(ctx, e, p.TransactionID, nil)
}
