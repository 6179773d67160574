package event_test

import (
	"errors"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
)

func TestOrderOutcomeValidate(t *testing.T) {
	items := `"items":[{"sku":"S","quantity":1}]`
	cases := []struct {
		name    string
		data    string
		invalid bool
	}{
		{"completed", `{"transactionId":"tx","customerId":"c","status":"COMPLETED",` + items + `,"amount":700,"currency":"EUR"}`, false},
		{"cancelled before pricing", `{"transactionId":"tx","customerId":"c","status":"CANCELLED","reason":"OUT_OF_STOCK",` + items + `}`, false},
		{"cancelled for a reason added later", `{"transactionId":"tx","customerId":"c","status":"CANCELLED","reason":"EXPIRED",` + items + `}`, false},
		{"cancelled without a reason", `{"transactionId":"tx","customerId":"c","status":"CANCELLED",` + items + `}`, true},
		{"completed with a reason", `{"transactionId":"tx","customerId":"c","status":"COMPLETED","reason":"X",` + items + `}`, true},
		{"not terminal", `{"transactionId":"tx","customerId":"c","status":"RESERVED",` + items + `}`, true},
		{"no transaction", `{"customerId":"c","status":"COMPLETED",` + items + `}`, true},
		{"no customer", `{"transactionId":"tx","status":"COMPLETED",` + items + `}`, true},
		{"no items", `{"transactionId":"tx","customerId":"c","status":"COMPLETED","items":[]}`, true},
		{"negative amount", `{"transactionId":"tx","customerId":"c","status":"COMPLETED",` + items + `,"amount":-1,"currency":"EUR"}`, true},
		{"amount without currency", `{"transactionId":"tx","customerId":"c","status":"COMPLETED",` + items + `,"amount":1}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode[event.OrderOutcome](event.Event{Type: event.TypeOrderCompleted, Key: "tx", Data: []byte(c.data)})
			if got := errors.Is(err, event.ErrInvalid); got != c.invalid {
				t.Errorf("Decode error = %v, want invalid=%v", err, c.invalid)
			}
		})
	}
}

func TestOutcomeType(t *testing.T) {
	for status, want := range map[string]event.Type{event.StatusCompleted: event.TypeOrderCompleted, event.StatusCancelled: event.TypeOrderCancelled, "PENDING": ""} {
		got, ok := event.OutcomeType(status)
		if got != want || ok != (want != "") {
			t.Errorf("OutcomeType(%q) = %q, %v; want %q", status, got, ok, want)
		}
	}
}
