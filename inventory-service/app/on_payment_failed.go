package app

import (
	"context"
	"fmt"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// OnPaymentFailed handles PAYMENT_FAILED: it puts back exactly what the transaction reserved and
// emits ITEM_RELEASED to the order topic. A transaction released before changes nothing. A
// transaction without a reservation is a broken contract (payment-service charges only after
// ITEM_RESERVED, which is published only once the reservation committed): the event goes to
// the dead-letter topic for an operator, and nothing is recorded.
func (a *App) OnPaymentFailed(ctx context.Context, e event.Event) error {
	declined, err := event.Decode[event.PaymentFailed](e)
	if err != nil {
		return err
	}
	if err := checkIDs(e.ID, declined.TransactionID); err != nil {
		return err
	}
	txID := declined.TransactionID
	applied, err := a.repo.Release(ctx, e.ID, txID, func(lines []domain.Line, status domain.Status) ([]kafka.Message, error) {
		switch {
		case len(lines) == 0:
			return nil, fmt.Errorf("%w: PAYMENT_FAILED for transaction %s, which has no reservation", event.ErrInvalid, txID)
		case status != domain.StatusActive:
			return nil, nil // released by an earlier PAYMENT_FAILED; ITEM_RELEASED went out then
		}
		return a.itemReleased(txID, event.ReasonPaymentDeclined, lines)
	})
	return a.stored(ctx, applied, err)
}
