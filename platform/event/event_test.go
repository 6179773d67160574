package event_test

import (
	"errors"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
)

func TestIDForIsStablePerTransactionAndType(t *testing.T) {
	a := event.IDFor("tx-1", event.OrderCreate)
	if a != event.IDFor("tx-1", event.OrderCreate) {
		t.Error("the same event got two ids")
	}
	for _, other := range []string{event.IDFor("tx-2", event.OrderCreate), event.IDFor("tx-1", event.ItemReserved)} {
		if other == a {
			t.Errorf("two different events share id %s", a)
		}
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		invalid bool
	}{
		{"valid", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm_card_visa","items":[{"sku":"S","quantity":1}]}`, false},
		{"unknown fields are tolerated", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":1}],"new":1}`, false},
		{"not JSON", `{`, true},
		{"wrong type", `{"transactionId":1}`, true},
		{"no transaction", `{"customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":1}]}`, true},
		{"no items", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[]}`, true},
		{"zero quantity", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":0}]}`, true},
		{"no payment method", `{"transactionId":"tx","customerId":"c","items":[{"sku":"S","quantity":1}]}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode[event.OrderCreated](event.Event{Type: event.OrderCreate, Data: []byte(c.data)})
			if got := errors.Is(err, event.ErrInvalid); got != c.invalid {
				t.Errorf("Decode error = %v, want invalid=%v", err, c.invalid)
			}
		})
	}
}

func TestStockRejectedReasons(t *testing.T) {
	for reason, valid := range map[string]bool{event.ReasonOutOfStock: true, event.ReasonUnknownSKU: true, "": false, "BROKE": false} {
		err := event.StockRejected{TransactionID: "tx", Reason: reason}.Validate()
		if (err == nil) != valid {
			t.Errorf("reason %q: Validate() = %v", reason, err)
		}
	}
}
