// Package domain holds payment-service's pure logic: what to ask the gateway for when an order's
// items are reserved, and which event reports the gateway's answer. It does no I/O.
package domain

import (
	"errors"
	"fmt"

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

// RejectionError is the gateway's refusal of a request for good, with the gateway's error code.
// It matches ErrChargeRejected under errors.Is.
type RejectionError struct {
	Code    string // the gateway's error code, such as invalid_request
	Message string
}

func (e *RejectionError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrChargeRejected, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrChargeRejected) true.
func (e *RejectionError) Is(target error) bool { return target == ErrChargeRejected }

// RejectedCodeDefault is the decline code of a rejection that carries no code of its own.
const RejectedCodeDefault = "charge_rejected"

// Rejected is the result reporting a charge the gateway refused for good: a failed payment,
// declined with the gateway's error code, so the saga compensates instead of stalling.
func Rejected(err error) ChargeResult {
	var rej *RejectionError
	if errors.As(err, &rej) && rej.Code != "" {
		return ChargeResult{DeclineCode: rej.Code}
	}
	return ChargeResult{DeclineCode: RejectedCodeDefault}
}

// RefundRequest asks the gateway to give back the charge made (or yet to be made) under
// ChargeIdempotencyKey. IdempotencyKey is the refund's own key; a charge is refunded once
// whatever the keys of the requests that ask for it.
type RefundRequest struct {
	IdempotencyKey       string
	ChargeIdempotencyKey string
	Reason               string
}

// Refund outcomes, as the gateway names them.
const (
	RefundRefunded   = "refunded"    // the charged amount went back
	RefundVoided     = "voided"      // nothing was charged; a later charge with the key is declined
	RefundNotCharged = "not_charged" // the charge was declined; nothing to give back
)

// RefundResult is the gateway's answer to a refund request.
type RefundResult struct {
	RefundID string
	Status   string // RefundRefunded, RefundVoided or RefundNotCharged
	Amount   int64
}

// NeedsCharge reports whether the order has anything to charge; the gateway refuses a charge of
// zero, and a free order is simply paid.
func NeedsCharge(r event.ItemReserved) bool { return r.Amount > 0 }

// ChargeFor is the charge that pays for reserved items. It carries the payment-method token the
// customer chose, never card data.
func ChargeFor(r event.ItemReserved) ChargeRequest {
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
func OutcomeOf(r event.ItemReserved, res ChargeResult) Outcome {
	if res.Approved {
		return Outcome{Type: event.TypePaymentComplete, Payload: event.PaymentComplete{
			TransactionID: r.TransactionID,
			Amount:        r.Amount,
			Currency:      r.Currency,
			ChargeID:      res.ChargeID,
		}}
	}
	return Outcome{Type: event.TypePaymentFailed, Payload: event.PaymentFailed{
		TransactionID: r.TransactionID,
		Reason:        event.ReasonPaymentDeclined,
		DeclineCode:   res.DeclineCode,
		Amount:        r.Amount,
		Currency:      r.Currency,
	}}
}
