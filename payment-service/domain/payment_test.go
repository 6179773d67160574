package domain_test

import (
	"reflect"
	"testing"

	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

func reserved(amount int64, pm string) event.ItemReserved {
	return event.ItemReserved{
		TransactionID: "tx-1",
		CustomerID:    "c-1",
		Items:         []event.PricedItem{{SKU: "sku-1", Quantity: 2, UnitPrice: amount / 2}},
		Amount:        amount,
		Currency:      "EUR",
		PaymentMethod: pm,
	}
}

func TestChargeFor(t *testing.T) {
	got := domain.ChargeFor(reserved(12346, "pm_card_visa"))
	want := domain.ChargeRequest{IdempotencyKey: "tx-1", Amount: 12346, Currency: "EUR", PaymentMethod: "pm_card_visa", Description: "EDM Shop order tx-1"}
	if got != want {
		t.Fatalf("ChargeFor = %+v, want %+v", got, want)
	}
}

func TestNeedsCharge(t *testing.T) {
	tests := []struct {
		amount int64
		want   bool
	}{{0, false}, {1, true}, {12346, true}}
	for _, tt := range tests {
		if got := domain.NeedsCharge(reserved(tt.amount, "pm_card_visa")); got != tt.want {
			t.Errorf("NeedsCharge(amount %d) = %v, want %v", tt.amount, got, tt.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		name   string
		result domain.ChargeResult
		want   domain.Outcome
	}{
		{
			name:   "approved",
			result: domain.ChargeResult{Approved: true, ChargeID: "ch_1"},
			want: domain.Outcome{Type: event.TypePaymentComplete, Payload: event.PaymentComplete{
				TransactionID: "tx-1", Amount: 500, Currency: "EUR", ChargeID: "ch_1"}},
		},
		{
			name:   "card declined",
			result: domain.ChargeResult{ChargeID: "ch_2", DeclineCode: "card_declined"},
			want: domain.Outcome{Type: event.TypePaymentFailed, Payload: event.PaymentFailed{
				TransactionID: "tx-1", Reason: event.ReasonPaymentDeclined, DeclineCode: "card_declined", Amount: 500, Currency: "EUR"}},
		},
		{
			name:   "insufficient funds",
			result: domain.ChargeResult{DeclineCode: "insufficient_funds"},
			want: domain.Outcome{Type: event.TypePaymentFailed, Payload: event.PaymentFailed{
				TransactionID: "tx-1", Reason: event.ReasonPaymentDeclined, DeclineCode: "insufficient_funds", Amount: 500, Currency: "EUR"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.OutcomeOf(reserved(500, "pm_card_visa"), tt.result)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("OutcomeOf = %+v, want %+v", got, tt.want)
			}
			if err := got.Payload.Validate(); err != nil {
				t.Fatalf("payload does not validate: %v", err)
			}
		})
	}
}
