// Package domain holds payment-service's pure logic: what to ask the gateway for when an order's
// items are reserved, and which event reports the gateway's answer. It does no I/O.
package domain

import (
	"errors"

	"github.com/edmshop/edm-shop/platform/event"
)

// ChargeRequest asks the payment gateway to charge an order. IdempotencyKey is the order's
// transactionId, so however often the request is repeated the customer is charged once.
type ChargeRequest struct {
	IdempotencyKey string
	Amount         int64
	Currency       string
	PaymentMethod  string
	Description    string
}

// ChargeResult is the gateway's final answer to a charge request: approved with a charge id, or
// declined with the gateway's decline code. A decline is a business outcome, not an error.
type ChargeResult struct {
	Approved    bool
	ChargeID    string
	DeclineCode string
	// Replayed is true when the gateway answered from an earlier request with the same
	// idempotency key: nothing was charged now.
	Replayed bool
}

// ErrChargeRejected means the gateway refused the request itself (a malformed request, an
// idempotency key reused with other parameters): sending it again cannot succeed.
var ErrChargeRejected = errors.New("payment gateway rejected the charge request")

// NeedsCharge reports whether the order has anything to charge; the gateway refuses a charge of
// zero, and a free order is simply paid.
func NeedsCharge(r event.ItemsReserved) bool { return r.Amount > 0 }

// ChargeFor is the charge that pays for reserved items. It carries the payment-method token the
// customer chose, never card data.
func ChargeFor(r event.ItemsReserved) ChargeRequest {
	return ChargeRequest{
		IdempotencyKey: r.TransactionID,
		Amount:         r.Amount,
		Currency:       r.Currency,
		PaymentMethod:  r.PaymentMethod,
		Description:    "EDM Shop order " + r.TransactionID,
	}
}

// Outcome is the event that reports how paying for an order went.
type Outcome struct {
	Type    event.Type
	Payload event.Payload
}

// OutcomeOf maps the gateway's answer for reserved items to the event that reports it:
// PAYMENT_COMPLETE for an approval, PAYMENT_FAILED (so inventory releases the stock) for a decline.
func OutcomeOf(r event.ItemsReserved, res ChargeResult) Outcome {
	if res.Approved {
		return Outcome{Type: event.PaymentComplete, Payload: event.PaymentCompleted{
			TransactionID: r.TransactionID,
			Amount:        r.Amount,
			Currency:      r.Currency,
			ChargeID:      res.ChargeID,
		}}
	}
	return Outcome{Type: event.PaymentFailed, Payload: event.PaymentDeclined{
		TransactionID: r.TransactionID,
		Reason:        event.ReasonPaymentDeclined,
		DeclineCode:   res.DeclineCode,
		Amount:        r.Amount,
		Currency:      r.Currency,
	}}
}
