// Package domain holds order-service's pure logic: what makes an order acceptable and how the
// saga's events move it through its statuses. It does no I/O.
package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edmshop/edm-shop/platform/event"
)

// Status is where an order stands in the saga.
type Status string

// The statuses of an order. COMPLETED and CANCELLED are terminal.
const (
	StatusPending   Status = "PENDING"
	StatusReserved  Status = "RESERVED"
	StatusCompleted Status = "COMPLETED"
	StatusCancelled Status = "CANCELLED"
)

// rank orders statuses: an order only ever moves to a status of higher rank, so events that
// arrive out of order (they travel on different topics) can never move it backwards.
func (s Status) rank() int {
	switch s {
	case StatusReserved:
		return 1
	case StatusCompleted, StatusCancelled:
		return 2
	default:
		return 0
	}
}

// Limits on an order request. Anything larger is a client bug or abuse, not a real order.
const (
	MaxItems       = event.MaxItems // consumers hold events to the same limits
	MaxQuantity    = event.MaxQuantity
	MaxFieldLength = 128
)

// Item is a quantity of one SKU.
type Item struct {
	SKU      string
	Quantity int
}

// HistoryEntry is one event the order saw; an order's history is in order of At, the time the
// event was emitted. Applied is false for an event that was recorded but did not change the
// order (it arrived after the order had moved past it).
type HistoryEntry struct {
	EventID string
	Type    event.Type
	At      time.Time
	Applied bool
}

// Order is a customer's order and the saga's progress on it.
type Order struct {
	TransactionID string
	CustomerID    string
	Items         []Item
	PaymentMethod string
	Status        Status
	// Reason says why a CANCELLED order was cancelled (event.Reason*); empty otherwise.
	Reason string
	// Amount is the total in minor units of Currency; both are known once Currency is set.
	Amount    int64
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time
	History   []HistoryEntry
	// Version is the stored version this order was read at; stores write only over that
	// version (optimistic concurrency) and bump it.
	Version int64
}

// AmountKnown reports whether Amount and Currency have been set by an event yet.
func (o Order) AmountKnown() bool { return o.Currency != "" }

// ValidationError says why an order request is not acceptable. Code is meant for programs.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

// Validation error codes.
const (
	CodeInvalidCustomerID    = "INVALID_CUSTOMER_ID"
	CodeInvalidPaymentMethod = "INVALID_PAYMENT_METHOD"
	CodeInvalidItems         = "INVALID_ITEMS"
	CodeInvalidSKU           = "INVALID_SKU"
	CodeInvalidQuantity      = "INVALID_QUANTITY"
	CodeDuplicateSKU         = "DUPLICATE_SKU"
)

func invalid(code, format string, args ...any) error {
	return &ValidationError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// paymentToken is the shape of a payment-method token (pm_card_visa, pm_1Nx...).
var paymentToken = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,64}$`)

// minCardDigits: card numbers have 12 to 19 digits, so a token holding 12 digits or more, in
// a row or not (pm_4242_4242_4242_4242, pm_4242x4242x4242x4242), may carry one, and is refused.
// A gateway's random token of 24 letters and digits holds about four.
const minCardDigits = 12

// holdsCardNumber reports whether token holds minCardDigits digits or more.
func holdsCardNumber(token string) bool {
	n := 0
	for _, r := range token {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n >= minCardDigits
}

// checkText reports what is wrong with a required free-text field, or "".
func checkText(name, v string) string {
	switch {
	case strings.TrimSpace(v) == "":
		return name + " is required"
	case utf8.RuneCountInString(v) > MaxFieldLength:
		return fmt.Sprintf("%s must be at most %d characters", name, MaxFieldLength)
	}
	return ""
}

// NewOrder validates an order request and returns the new PENDING order, with ORDER_CREATE as
// the first entry of its history. The error is a *ValidationError.
func NewOrder(transactionID, customerID string, items []Item, paymentMethod string, now time.Time) (Order, error) {
	if msg := checkText("customerId", customerID); msg != "" {
		return Order{}, invalid(CodeInvalidCustomerID, "%s", msg)
	}
	if msg := checkText("paymentMethod", paymentMethod); msg != "" {
		return Order{}, invalid(CodeInvalidPaymentMethod, "%s", msg)
	}
	if !paymentToken.MatchString(paymentMethod) || holdsCardNumber(paymentMethod) {
		// Only tokens travel in events; a card number must never reach the order topic.
		return Order{}, invalid(CodeInvalidPaymentMethod, "paymentMethod must be a payment-method token such as pm_card_visa, never card data")
	}
	if len(items) == 0 {
		return Order{}, invalid(CodeInvalidItems, "items must not be empty")
	}
	if len(items) > MaxItems {
		return Order{}, invalid(CodeInvalidItems, "an order has at most %d items, not %d", MaxItems, len(items))
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if msg := checkText(fmt.Sprintf("items[%d].sku", i), it.SKU); msg != "" {
			return Order{}, invalid(CodeInvalidSKU, "%s", msg)
		}
		if strings.ContainsFunc(it.SKU, unicode.IsControl) {
			// A SKU reaches the customer's e-mail: no line breaks or other control characters.
			return Order{}, invalid(CodeInvalidSKU, "items[%d].sku must not contain control characters", i)
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return Order{}, invalid(CodeInvalidQuantity, "items[%d].quantity must be between 1 and %d", i, MaxQuantity)
		}
		if seen[it.SKU] {
			return Order{}, invalid(CodeDuplicateSKU, "sku %q appears more than once; list it once with the total quantity", it.SKU)
		}
		seen[it.SKU] = true
	}
	now = now.UTC()
	return Order{
		TransactionID: transactionID,
		CustomerID:    customerID,
		Items:         append([]Item(nil), items...),
		PaymentMethod: paymentMethod,
		Status:        StatusPending,
		CreatedAt:     now,
		UpdatedAt:     now,
		History: []HistoryEntry{{
			EventID: event.IDFor(transactionID, event.TypeOrderCreate),
			Type:    event.TypeOrderCreate,
			At:      now,
			Applied: true,
		}},
	}, nil
}

// Event is what the domain needs to know of a saga event that arrived for the order.
type Event struct {
	ID   string
	Type event.Type
	// At is when the order saw the event.
	At time.Time
	// Amount and Currency come with ITEM_RESERVED and PAYMENT_COMPLETE.
	Amount   int64
	Currency string
	// Reason comes with OUT_OF_STOCK (event.ReasonOutOfStock, event.ReasonUnknownSKU or event.ReasonMixedCurrency).
	Reason string
}

// target returns the status and reason an event moves an order to.
func target(e Event) (Status, string, error) {
	switch e.Type {
	case event.TypeItemReserved:
		return StatusReserved, "", nil
	case event.TypePaymentComplete:
		return StatusCompleted, "", nil
	case event.TypeOutOfStock:
		return StatusCancelled, e.Reason, nil
	case event.TypeItemReleased:
		return StatusCancelled, event.ReasonPaymentDeclined, nil
	}
	return "", "", fmt.Errorf("order does not handle %s events", e.Type)
}

// Apply records e in the order's history and applies its effect when it moves the order
// forward. It reports whether the order changed: a duplicate (an event whose ID is already in
// the history) changes nothing at all. The error is for an event type an order does not handle.
func (o *Order) Apply(e Event) (changed bool, err error) {
	to, reason, err := target(e)
	if err != nil {
		return false, err
	}
	for _, h := range o.History {
		if h.EventID == e.ID {
			return false, nil
		}
	}
	at := e.At.UTC()
	applied := to.rank() > o.Status.rank()
	if applied {
		o.Status, o.Reason = to, reason
	}
	// The amount is a fact whichever order the events come in, so the first event that
	// carries it fills it in.
	if !o.AmountKnown() && e.Currency != "" {
		o.Amount, o.Currency = e.Amount, e.Currency
	}
	o.record(HistoryEntry{EventID: e.ID, Type: e.Type, At: at, Applied: applied})
	return true, nil
}

// record puts h into the history in order of time, after any entry of the same time, and
// moves UpdatedAt forward to it. Events for one order come from different services over
// different topics, so a step can arrive after the next one (ITEM_RESERVED's copy to the
// order topic after the PAYMENT_COMPLETE it led to): kept in arrival order the history would
// tell the saga backwards, and updatedAt would move back to the late event's time.
func (o *Order) record(h HistoryEntry) {
	i := len(o.History)
	for i > 0 && o.History[i-1].At.After(h.At) {
		i--
	}
	o.History = slices.Insert(o.History, i, h)
	if h.At.After(o.UpdatedAt) {
		o.UpdatedAt = h.At
	}
}
