package event

import "fmt"

// Limits on the items of an event payload: the same as order-service's HTTP limits on an order
// request (order-service/domain.MaxItems and MaxQuantity). An event over them was not made
// from an accepted order; it is invalid (a dead letter), never a giant transaction.
const (
	MaxItems    = 100
	MaxQuantity = 1000
)

// keyed is a payload that names its order: the message key must be its transactionId, or the
// event would be applied to one order while Kafka orders it with another's.
type keyed interface{ transaction() string }

func (p OrderCreate) transaction() string     { return p.TransactionID }
func (p ItemReserved) transaction() string    { return p.TransactionID }
func (p OutOfStock) transaction() string      { return p.TransactionID }
func (p PaymentComplete) transaction() string { return p.TransactionID }
func (p PaymentFailed) transaction() string   { return p.TransactionID }
func (p ItemReleased) transaction() string    { return p.TransactionID }
func (p OrderExpired) transaction() string    { return p.TransactionID }

// checkKey reports a payload whose transactionId is not the message key.
func checkKey(p any, key string) error {
	if k, ok := p.(keyed); ok && k.transaction() != key {
		return fmt.Errorf("the message key %q is not the payload's transactionId %q", key, k.transaction())
	}
	return nil
}

// checkItemLimits reports a list of n items, or a quantity, over the limits.
func checkItemLimits(n int, at func(int) (string, int)) error {
	if n > MaxItems {
		return fmt.Errorf("%d items, more than the %d an order may have", n, MaxItems)
	}
	for i := range n {
		if _, qty := at(i); qty > MaxQuantity {
			return fmt.Errorf("items[%d].quantity %d is more than %d", i, qty, MaxQuantity)
		}
	}
	return nil
}

func (p OrderOutcome) transaction() string { return p.TransactionID }
