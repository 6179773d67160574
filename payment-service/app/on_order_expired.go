package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// RefundKeyPrefix starts the idempotency key of the refund of an expired order; the rest is
// the transactionId, the key its charge is (or would be) made with.
const RefundKeyPrefix = "expired-"

// OnOrderExpired handles ORDER_EXPIRED: order-service cancelled the order at its deadline, so
// no money may stay taken for it. payment-service keeps no state, so the gateway decides: a
// charge made under the transactionId is refunded; if none was made, the key is voided and a
// charge attempted with it later (ITEM_RESERVED still on its way) is declined, which makes a
// PAYMENT_FAILED that inventory ignores for stock it released already. However the two events
// interleave, the order ends with no standing charge. The refund is idempotent, so a
// redelivery changes nothing.
func (a *App) OnOrderExpired(ctx context.Context, e event.Event) error {
	expired, err := event.Decode[event.OrderExpired](e)
	if err != nil {
		return err
	}
	txID := expired.TransactionID
	res, err := a.gateway.Refund(ctx, domain.RefundRequest{
		IdempotencyKey:       RefundKeyPrefix + txID,
		ChargeIdempotencyKey: txID,
		Reason:               event.ReasonExpired,
	})
	if errors.Is(err, domain.ErrChargeRejected) {
		// Refused for good (a malformed key, say): an operator has to look.
		return fmt.Errorf("%w: refund of expired order %s: %v", event.ErrInvalid, txID, err)
	}
	if err != nil {
		return fmt.Errorf("refund expired order %s: %w", txID, err)
	}
	a.log.InfoContext(ctx, "expired order refunded", "transactionId", txID, "refund", res.Status, "refundId", res.RefundID, "amount", res.Amount)
	return nil
}
