// Package event is the saga's event contract: the event types, their JSON payloads and the
// envelope every service publishes and consumes. It is the one place a newcomer reads to know
// what travels between order-service, inventory-service and payment-service.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
)

// Type names a saga event; it travels in the ce_type header.
type Type string

// The saga's events. The comment of each says who publishes it and to which topic.
const (
	// TypeOrderCreate is published by order-service to the inventory topic when an order is accepted.
	TypeOrderCreate Type = "ORDER_CREATE"
	// TypeItemReserved is published by inventory-service to the payment and order topics once every
	// item of the order is reserved; it carries the amount to charge.
	TypeItemReserved Type = "ITEM_RESERVED"
	// TypeOutOfStock is published by inventory-service to the order topic when it reserved nothing.
	TypeOutOfStock Type = "OUT_OF_STOCK"
	// TypePaymentComplete is published by payment-service to the order topic after a successful
	// charge.
	TypePaymentComplete Type = "PAYMENT_COMPLETE"
	// TypePaymentFailed is published by payment-service to the inventory topic after a decline.
	TypePaymentFailed Type = "PAYMENT_FAILED"
	// TypeItemReleased is published by inventory-service to the order topic once it has released
	// the stock of a declined order.
	TypeItemReleased Type = "ITEM_RELEASED"
)

// Reasons carried by events that cancel an order.
const (
	ReasonOutOfStock = "OUT_OF_STOCK"
	ReasonUnknownSKU = "UNKNOWN_SKU"
	// ReasonMixedCurrency: the order's products are priced in different currencies, and one
	// charge has one currency.
	ReasonMixedCurrency   = "MIXED_CURRENCY"
	ReasonPaymentDeclined = "PAYMENT_DECLINED"
)

// SpecVersion is the CloudEvents version of every event's envelope.
const SpecVersion = "1.0"

// ErrInvalid marks an event that can never be processed: a consumer sends it to the dead-letter
// topic instead of retrying it.
var ErrInvalid = errors.New("invalid event")

// Event is one saga event: CloudEvents attributes plus a JSON payload. Key is the transactionId;
// it is the Kafka message key, so all events of one order stay in order on a partition.
type Event struct {
	ID     string
	Type   Type
	Source string
	Time   time.Time
	Key    string
	Data   json.RawMessage
}

// IDFor derives the ce_id of the event of type t for a transaction. Each type happens at most once
// per transaction, so the id is deterministic: whoever re-sends the event (an outbox relay after a
// crash, payment-service after a redelivery) re-sends it with the same id.
func IDFor(transactionID string, t Type) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("edm-shop:"+transactionID+":"+string(t))).String()
}

// New builds the event of type t for a transaction from its payload.
func New(t Type, source, transactionID string, payload any) (Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s payload: %w", t, err)
	}
	return Event{
		ID:     IDFor(transactionID, t),
		Type:   t,
		Source: source,
		Time:   time.Now().UTC(),
		Key:    transactionID,
		Data:   data,
	}, nil
}

// Payload is implemented by every event payload: it reports what makes the payload unusable.
type Payload interface {
	Validate() error
}

// Decode unmarshals the event's payload into p and validates it: the payload's own rules, the
// item limits (MaxItems, MaxQuantity) and that its transactionId is the message key. Any
// failure wraps ErrInvalid: a payload that does not decode today will not decode tomorrow.
func Decode[P Payload](e Event) (P, error) {
	var p P
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%w: %s payload: %v", ErrInvalid, e.Type, err)
	}
	// One JSON value and nothing after it: a payload with trailing bytes is not what was sent.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p, fmt.Errorf("%w: %s payload: data after the JSON value", ErrInvalid, e.Type)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %s payload: %v", ErrInvalid, e.Type, err)
	}
	if err := checkKey(p, e.Key); err != nil {
		return p, fmt.Errorf("%w: %s: %v", ErrInvalid, e.Type, err)
	}
	return p, nil
}
