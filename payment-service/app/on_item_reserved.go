package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// OnItemReserved charges the order whose items inventory-service reserved, then reports the
// outcome: PAYMENT_COMPLETE to the order topic, or PAYMENT_FAILED to the inventory topic so the
// stock is released. A charge the gateway refuses for good is a failed payment too, its decline
// code the gateway's error code.
//
// There is no database and no outbox: the charge is idempotent per transactionId and the event's
// ce_id is derived from the transactionId, so when ITEM_RESERVED is delivered again (say, we
// crashed between the charge and the publish) the gateway replays its answer without charging,
// and we re-send the very same event, which consumers recognise as a duplicate.
func (a *App) OnItemReserved(ctx context.Context, e event.Event) error {
	reserved, err := event.Decode[event.ItemReserved](e)
	if err != nil {
		return err
	}
	result := domain.ChargeResult{Approved: true} // a free order is paid without a charge
	if domain.NeedsCharge(reserved) {
		result, err = a.gateway.Charge(ctx, domain.ChargeFor(reserved))
		if errors.Is(err, domain.ErrChargeRejected) {
			// Refused for good: a failed payment, so the saga releases the stock and cancels
			// the order instead of leaving both stranded behind a dead letter.
			a.log.Warn("payment gateway rejected the charge", "transactionId", reserved.TransactionID, "error", err)
			result, err = domain.Rejected(err), nil
		}
		if err != nil {
			return fmt.Errorf("charge %s: %w", reserved.TransactionID, err)
		}
	}

	outcome := domain.OutcomeOf(reserved, result)
	out, err := event.New(outcome.Type, Source, reserved.TransactionID, outcome.Payload)
	if err != nil {
		return err
	}
	topic := a.topics.Order
	if outcome.Type == event.TypePaymentFailed {
		topic = a.topics.Inventory
	}
	if err := a.publisher.Publish(ctx, kafka.Message{Topic: topic, Event: out}); err != nil {
		return fmt.Errorf("publish %s for %s: %w", outcome.Type, reserved.TransactionID, err)
	}
	if result.Replayed {
		// The gateway had answered this order before: ITEM_RESERVED came again and the
		// outcome was re-sent, with the same ce_id.
		kafka.MarkDuplicate(ctx)
	}
	a.log.InfoContext(ctx, "payment processed", "outcome", outcome.Type,
		"chargeId", result.ChargeID, "declineCode", result.DeclineCode, "replayed", result.Replayed)
	return nil
}
