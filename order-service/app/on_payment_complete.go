package app

import (
	"context"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// OnPaymentComplete: the customer was charged, so the order is COMPLETED.
func (a *App) OnPaymentComplete(ctx context.Context, e event.Event) error {
	p, err := event.Decode[event.PaymentComplete](e)
	if err != nil {
		return err
	}
	return a.apply(ctx, e, p.TransactionID, func(de *domain.Event) { de.Amount, de.Currency = p.Amount, p.Currency })
}
