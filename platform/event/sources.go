package event

import "fmt"

// Producers is who may publish each event type: the ce_source values of its rightful
// producers. A consumer refuses an event of a listed type from any other source (CheckSource),
// so a client that may write to a topic cannot pass itself off as another service; broker ACLs
// (docs/kafka-auth.md) say who may write to the topic at all. A new event type is added here
// beside its constant.
var Producers = map[Type][]string{
	TypeOrderCreate:     {"/order-service"},
	TypeOrderExpired:    {"/order-service"},
	TypeItemReserved:    {"/inventory-service"},
	TypeOutOfStock:      {"/inventory-service"},
	TypeItemReleased:    {"/inventory-service"},
	TypePaymentComplete: {"/payment-service"},
	TypePaymentFailed:   {"/payment-service"},
	TypeOrderCompleted:  {"/order-service"},
	TypeOrderCancelled:  {"/order-service"},
}

// CheckSource returns an error wrapping ErrInvalid when e's type has rightful producers and
// e.Source is not one of them. Types not in Producers pass: the consumer's handler table
// decides what to do with them.
func CheckSource(e Event) error {
	allowed, ok := Producers[e.Type]
	if !ok {
		return nil
	}
	for _, s := range allowed {
		if e.Source == s {
			return nil
		}
	}
	return fmt.Errorf("%w: %s from source %q, only %v publish it", ErrInvalid, e.Type, e.Source, allowed)
}
