package event

import (
	"errors"
	"time"
)

// TypeOrderExpired is published by order-service, through its outbox, to the inventory and
// payment topics when an order was still PENDING or RESERVED at its deadline (createdAt +
// ORDER_DEADLINE). The order is then CANCELLED with reason ReasonExpired for good: inventory
// releases what it still holds for it (and reserves nothing for it afterwards), payment-service
// refunds its charge or voids its key so that no later charge succeeds.
const TypeOrderExpired Type = "ORDER_EXPIRED"

// ReasonExpired is the reason of an order cancelled because its deadline passed.
const ReasonExpired = "EXPIRED"

// OrderExpired is the payload of ORDER_EXPIRED.
type OrderExpired struct {
	TransactionID string    `json:"transactionId"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"createdAt"`
	Deadline      time.Time `json:"deadline"`
}

// Validate reports what makes the payload unusable.
func (p OrderExpired) Validate() error {
	switch {
	case p.TransactionID == "":
		return errNoTransaction
	case p.Reason != ReasonExpired:
		return errors.New("reason must be " + ReasonExpired)
	}
	return nil
}
