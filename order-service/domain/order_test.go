package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newOrder(t *testing.T) domain.Order {
	t.Helper()
	o, err := domain.NewOrder("tx-1", "alice", []domain.Item{{SKU: "SKU-1001", Quantity: 2}}, "pm_card_visa", t0)
	if err != nil {
		t.Fatalf("NewOrder: %v", err)
	}
	return o
}

func TestNewOrder(t *testing.T) {
	o := newOrder(t)
	if o.Status != domain.StatusPending || o.Reason != "" || o.AmountKnown() {
		t.Errorf("new order = %+v, want PENDING with no reason and no amount", o)
	}
	if !o.CreatedAt.Equal(t0) || !o.UpdatedAt.Equal(t0) {
		t.Errorf("times = %v, %v, want %v", o.CreatedAt, o.UpdatedAt, t0)
	}
	want := domain.HistoryEntry{EventID: event.IDFor("tx-1", event.TypeOrderCreate), Type: event.TypeOrderCreate, At: t0, Applied: true}
	if len(o.History) != 1 || o.History[0] != want {
		t.Errorf("history = %+v, want [%+v]", o.History, want)
	}
}

func TestNewOrderValidation(t *testing.T) {
	long := strings.Repeat("x", domain.MaxFieldLength+1)
	ok := []domain.Item{{SKU: "SKU-1", Quantity: 1}}
	many := make([]domain.Item, domain.MaxItems+1)
	for i := range many {
		many[i] = domain.Item{SKU: "SKU-" + strings.Repeat("9", i+1), Quantity: 1}
	}
	tests := []struct {
		name         string
		customer, pm string
		items        []domain.Item
		wantCode     string
	}{
		{"missing customer", "", "pm_card_visa", ok, domain.CodeInvalidCustomerID},
		{"blank customer", "  \t", "pm_card_visa", ok, domain.CodeInvalidCustomerID},
		{"long customer", long, "pm_card_visa", ok, domain.CodeInvalidCustomerID},
		{"missing payment method", "alice", "", ok, domain.CodeInvalidPaymentMethod},
		{"long payment method", "alice", long, ok, domain.CodeInvalidPaymentMethod},
		{"card number as payment method", "alice", "4242424242424242", ok, domain.CodeInvalidPaymentMethod},
		{"payment method that is not a token", "alice", "visa", ok, domain.CodeInvalidPaymentMethod},
		{"card number dressed as a token", "alice", "pm_4242424242424242", ok, domain.CodeInvalidPaymentMethod},
		{"card number in groups dressed as a token", "alice", "pm_4111_1111_1111_1111", ok, domain.CodeInvalidPaymentMethod},
		{"shortest card number dressed as a token", "alice", "pm_card_123456789012", ok, domain.CodeInvalidPaymentMethod},
		{"card number with letters between its digits", "alice", "pm_4242x4242x4242x4242", ok, domain.CodeInvalidPaymentMethod},
		{"gateway token with a few digits", "alice", "pm_1MqLiJLkdIwHu7ixUEgbFdYF", ok, ""},
		{"token with eleven digits", "alice", "pm_card_12345678901", ok, ""},
		{"sku with a line break", "alice", "pm_card_visa", []domain.Item{{SKU: "SKU-1\r\n.\r\nClaim a refund", Quantity: 1}}, domain.CodeInvalidSKU},
		{"sku with a tab", "alice", "pm_card_visa", []domain.Item{{SKU: "SKU\t1", Quantity: 1}}, domain.CodeInvalidSKU},
		{"no items", "alice", "pm_card_visa", nil, domain.CodeInvalidItems},
		{"too many items", "alice", "pm_card_visa", many, domain.CodeInvalidItems},
		{"missing sku", "alice", "pm_card_visa", []domain.Item{{Quantity: 1}}, domain.CodeInvalidSKU},
		{"long sku", "alice", "pm_card_visa", []domain.Item{{SKU: long, Quantity: 1}}, domain.CodeInvalidSKU},
		{"zero quantity", "alice", "pm_card_visa", []domain.Item{{SKU: "A", Quantity: 0}}, domain.CodeInvalidQuantity},
		{"negative quantity", "alice", "pm_card_visa", []domain.Item{{SKU: "A", Quantity: -1}}, domain.CodeInvalidQuantity},
		{"huge quantity", "alice", "pm_card_visa", []domain.Item{{SKU: "A", Quantity: domain.MaxQuantity + 1}}, domain.CodeInvalidQuantity},
		{"duplicate sku", "alice", "pm_card_visa", []domain.Item{{SKU: "A", Quantity: 1}, {SKU: "A", Quantity: 2}}, domain.CodeDuplicateSKU},
		{"valid at the limits", strings.Repeat("c", domain.MaxFieldLength), "pm_card_visa", many[:domain.MaxItems], ""},
		{"max quantity", "alice", "pm_card_visa", []domain.Item{{SKU: "A", Quantity: domain.MaxQuantity}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domain.NewOrder("tx", tc.customer, tc.items, tc.pm, t0)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("NewOrder: %v, want no error", err)
				}
				return
			}
			var verr *domain.ValidationError
			if !errors.As(err, &verr) || verr.Code != tc.wantCode {
				t.Fatalf("NewOrder error = %v, want code %s", err, tc.wantCode)
			}
		})
	}
}

// ev builds the domain event of type typ as the n-th event the order sees.
func ev(typ event.Type, n int) domain.Event {
	e := domain.Event{ID: string(typ), Type: typ, At: t0.Add(time.Duration(n) * time.Minute)}
	switch typ {
	case event.TypeItemReserved:
		e.Amount, e.Currency = 1998, "EUR"
	case event.TypePaymentComplete:
		e.Amount, e.Currency = 1998, "EUR"
	case event.TypeOutOfStock:
		e.Reason = event.ReasonUnknownSKU
	}
	return e
}

func TestApply(t *testing.T) {
	type step struct {
		typ         event.Type
		wantApplied bool
	}
	tests := []struct {
		name       string
		steps      []step
		wantStatus domain.Status
		wantReason string
		wantAmount bool
	}{
		{"reserved", []step{{event.TypeItemReserved, true}}, domain.StatusReserved, "", true},
		{"happy path", []step{{event.TypeItemReserved, true}, {event.TypePaymentComplete, true}}, domain.StatusCompleted, "", true},
		{"payment before reservation", []step{{event.TypePaymentComplete, true}, {event.TypeItemReserved, false}}, domain.StatusCompleted, "", true},
		{"out of stock", []step{{event.TypeOutOfStock, true}}, domain.StatusCancelled, event.ReasonUnknownSKU, false},
		{"declined", []step{{event.TypeItemReserved, true}, {event.TypeItemReleased, true}}, domain.StatusCancelled, event.ReasonPaymentDeclined, true},
		{"release before reservation", []step{{event.TypeItemReleased, true}, {event.TypeItemReserved, false}}, domain.StatusCancelled, event.ReasonPaymentDeclined, true},
		{"terminal stays terminal", []step{{event.TypePaymentComplete, true}, {event.TypeItemReleased, false}, {event.TypeOutOfStock, false}}, domain.StatusCompleted, "", true},
		{"cancelled stays cancelled", []step{{event.TypeOutOfStock, true}, {event.TypePaymentComplete, false}}, domain.StatusCancelled, event.ReasonUnknownSKU, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrder(t)
			for i, s := range tc.steps {
				changed, err := o.Apply(ev(s.typ, i+1))
				if err != nil || !changed {
					t.Fatalf("Apply(%s) = %v, %v, want changed", s.typ, changed, err)
				}
				h := o.History[len(o.History)-1]
				if h.Type != s.typ || h.Applied != s.wantApplied || !h.At.Equal(ev(s.typ, i+1).At) {
					t.Errorf("history entry for %s = %+v, want applied=%v", s.typ, h, s.wantApplied)
				}
			}
			if o.Status != tc.wantStatus || o.Reason != tc.wantReason || o.AmountKnown() != tc.wantAmount {
				t.Errorf("order = %s/%q amountKnown=%v, want %s/%q amountKnown=%v", o.Status, o.Reason, o.AmountKnown(), tc.wantStatus, tc.wantReason, tc.wantAmount)
			}
			if tc.wantAmount && (o.Amount != 1998 || o.Currency != "EUR") {
				t.Errorf("amount = %d %s, want 1998 EUR", o.Amount, o.Currency)
			}
			if len(o.History) != len(tc.steps)+1 {
				t.Errorf("history has %d entries, want %d", len(o.History), len(tc.steps)+1)
			}
			if want := t0.Add(time.Duration(len(tc.steps)) * time.Minute); !o.UpdatedAt.Equal(want) {
				t.Errorf("updatedAt = %v, want %v", o.UpdatedAt, want)
			}
		})
	}
}

// TestApplyKeepsHistoryInTimeOrder applies events in the order they arrive, each stamped with
// the minute it was emitted, and checks that the history reads in emission order whatever the
// arrival order, and that updatedAt never moves back.
func TestApplyKeepsHistoryInTimeOrder(t *testing.T) {
	type arrival struct {
		typ    event.Type
		minute int
	}
	tests := []struct {
		name        string
		arrivals    []arrival
		wantHistory []event.Type
		wantApplied []bool
		wantUpdated int
	}{
		{"in order", []arrival{{event.TypeItemReserved, 1}, {event.TypePaymentComplete, 2}},
			[]event.Type{event.TypeOrderCreate, event.TypeItemReserved, event.TypePaymentComplete}, []bool{true, true, true}, 2},
		{"reservation arrives after the payment it led to", []arrival{{event.TypePaymentComplete, 2}, {event.TypeItemReserved, 1}},
			[]event.Type{event.TypeOrderCreate, event.TypeItemReserved, event.TypePaymentComplete}, []bool{true, false, true}, 2},
		{"reservation arrives after the release", []arrival{{event.TypeItemReleased, 3}, {event.TypeItemReserved, 1}},
			[]event.Type{event.TypeOrderCreate, event.TypeItemReserved, event.TypeItemReleased}, []bool{true, false, true}, 3},
		{"same time keeps arrival order", []arrival{{event.TypePaymentComplete, 1}, {event.TypeItemReserved, 1}},
			[]event.Type{event.TypeOrderCreate, event.TypePaymentComplete, event.TypeItemReserved}, []bool{true, true, false}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrder(t)
			for _, a := range tc.arrivals {
				e := ev(a.typ, a.minute)
				if _, err := o.Apply(e); err != nil {
					t.Fatalf("Apply(%s): %v", a.typ, err)
				}
			}
			var types []event.Type
			var applied []bool
			for _, h := range o.History {
				types, applied = append(types, h.Type), append(applied, h.Applied)
			}
			if !slices.Equal(types, tc.wantHistory) || !slices.Equal(applied, tc.wantApplied) {
				t.Errorf("history = %v applied %v, want %v applied %v", types, applied, tc.wantHistory, tc.wantApplied)
			}
			if want := t0.Add(time.Duration(tc.wantUpdated) * time.Minute); !o.UpdatedAt.Equal(want) {
				t.Errorf("updatedAt = %v, want %v", o.UpdatedAt, want)
			}
		})
	}
}

func TestApplyDuplicateChangesNothing(t *testing.T) {
	o := newOrder(t)
	if _, err := o.Apply(ev(event.TypeItemReserved, 1)); err != nil {
		t.Fatal(err)
	}
	before := o
	before.History = append([]domain.HistoryEntry(nil), o.History...)
	dup := ev(event.TypeItemReserved, 5)
	dup.Amount = 1
	changed, err := o.Apply(dup)
	if err != nil || changed {
		t.Fatalf("Apply(duplicate) = %v, %v, want unchanged", changed, err)
	}
	if o.UpdatedAt != before.UpdatedAt || len(o.History) != len(before.History) || o.Amount != before.Amount {
		t.Errorf("duplicate changed the order: %+v, was %+v", o, before)
	}
}

func TestApplyUnknownType(t *testing.T) {
	o := newOrder(t)
	if _, err := o.Apply(ev(event.TypePaymentFailed, 1)); err == nil {
		t.Fatal("Apply(PAYMENT_FAILED) succeeded, want an error")
	}
	if len(o.History) != 1 {
		t.Errorf("history = %+v, want only ORDER_CREATE", o.History)
	}
}
