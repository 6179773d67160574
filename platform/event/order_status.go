package event

import "errors"

// The order-status events: order-service announces an order's outcome, once, to whoever cares
// (notification-service e-mails the customer). They go to the order-status topic, which no saga
// service consumes, so adding a subscriber changes nothing in the saga.
const (
	// TypeOrderCompleted is published by order-service to the order-status topic when an order
	// reaches COMPLETED, in the same store write as the state change.
	TypeOrderCompleted Type = "ORDER_COMPLETED"
	// TypeOrderCancelled is published by order-service to the order-status topic when an order
	// reaches CANCELLED, with the reason, in the same store write as the state change.
	TypeOrderCancelled Type = "ORDER_CANCELLED"
)

// OrderOutcome is the payload of ORDER_COMPLETED and ORDER_CANCELLED: what a customer needs to
// hear about the order. Reason is set only for ORDER_CANCELLED (OUT_OF_STOCK, UNKNOWN_SKU, MIXED_CURRENCY,
// PAYMENT_DECLINED, or any later reason such as EXPIRED); Amount and Currency once inventory
// priced the order.
type OrderOutcome struct {
	TransactionID string `json:"transactionId"`
	CustomerID    string `json:"customerId"`
	Status        string `json:"status"`
	Reason        string `json:"reason,omitempty"`
	Items         []Item `json:"items"`
	Amount        int64  `json:"amount,omitempty"`
	Currency      string `json:"currency,omitempty"`
}

// The statuses an OrderOutcome announces.
const (
	StatusCompleted = "COMPLETED"
	StatusCancelled = "CANCELLED"
)

// Validate reports what makes the payload unusable.
func (p OrderOutcome) Validate() error {
	switch {
	case p.TransactionID == "":
		return errNoTransaction
	case p.CustomerID == "":
		return errors.New("customerId is required")
	case p.Amount < 0:
		return errors.New("amount must not be negative")
	case p.Amount > 0 && p.Currency == "":
		return errors.New("currency is required with an amount")
	}
	switch p.Status {
	case StatusCompleted:
		if p.Reason != "" {
			return errors.New("a completed order has no reason")
		}
	case StatusCancelled:
		if p.Reason == "" {
			return errors.New("reason is required for a cancelled order")
		}
	default:
		return errors.New("status must be COMPLETED or CANCELLED")
	}
	return validateItems(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
}

// OutcomeType is the event type that announces status: ORDER_COMPLETED or ORDER_CANCELLED.
func OutcomeType(status string) (Type, bool) {
	switch status {
	case StatusCompleted:
		return TypeOrderCompleted, true
	case StatusCancelled:
		return TypeOrderCancelled, true
	}
	return "", false
}

// OrderCompleted and OrderCancelled name the payloads of ORDER_COMPLETED and ORDER_CANCELLED as
// api/asyncapi.yaml does; both events carry an OrderOutcome.
type (
	OrderCompleted = OrderOutcome
	OrderCancelled = OrderOutcome
)
