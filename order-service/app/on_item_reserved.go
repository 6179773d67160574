package app

import (
	"context"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// OnItemReserved: inventory reserved every item, so the order is RESERVED and its amount known.
func (a *App) OnItemReserved(ctx context.Context, e event.Event) error {
	p, err := event.Decode[event.ItemReserved](e)
	if err != nil {
		return err
	}
	return a.apply(ctx, e, p.TransactionID, func(de *domain.Event) { de.Amount, de.Currency = p.Amount, p.Currency })
}
