package event_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
)

func TestIDForIsStablePerTransactionAndType(t *testing.T) {
	a := event.IDFor("tx-1", event.TypeOrderCreate)
	if a != event.IDFor("tx-1", event.TypeOrderCreate) {
		t.Error("the same event got two ids")
	}
	for _, other := range []string{event.IDFor("tx-2", event.TypeOrderCreate), event.IDFor("tx-1", event.TypeItemReserved)} {
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
		{"quantity at the limit", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":1000}]}`, false},
		{"quantity over the limit", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":1001}]}`, true},
		{"items at the limit", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[` + items(event.MaxItems) + `]}`, false},
		{"items over the limit", `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","items":[` + items(event.MaxItems+1) + `]}`, true},
		{"payload of another transaction than the key", `{"transactionId":"tx-other","customerId":"c","paymentMethod":"pm","items":[{"sku":"S","quantity":1}]}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode[event.OrderCreate](event.Event{Type: event.TypeOrderCreate, Key: "tx", Data: []byte(c.data)})
			if got := errors.Is(err, event.ErrInvalid); got != c.invalid {
				t.Errorf("Decode error = %v, want invalid=%v", err, c.invalid)
			}
		})
	}
}

func TestStockRejectedReasons(t *testing.T) {
	for reason, valid := range map[string]bool{event.ReasonOutOfStock: true, event.ReasonUnknownSKU: true, event.ReasonMixedCurrency: true, "": false, "BROKE": false} {
		err := event.OutOfStock{TransactionID: "tx", Reason: reason}.Validate()
		if (err == nil) != valid {
			t.Errorf("reason %q: Validate() = %v", reason, err)
		}
	}
}

// items is n distinct items as JSON array elements.
func items(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"sku":"S-%d","quantity":1}`, i)
	}
	return strings.Join(out, ",")
}

// TestDecodeChecksTheKeyOfEveryPayload: every payload names its order, and the message key
// must be that order.
func TestDecodeChecksTheKeyOfEveryPayload(t *testing.T) {
	decoders := map[event.Type]func(event.Event) error{
		event.TypeOrderCreate:     func(e event.Event) error { _, err := event.Decode[event.OrderCreate](e); return err },
		event.TypeItemReserved:    func(e event.Event) error { _, err := event.Decode[event.ItemReserved](e); return err },
		event.TypeOutOfStock:      func(e event.Event) error { _, err := event.Decode[event.OutOfStock](e); return err },
		event.TypePaymentComplete: func(e event.Event) error { _, err := event.Decode[event.PaymentComplete](e); return err },
		event.TypePaymentFailed:   func(e event.Event) error { _, err := event.Decode[event.PaymentFailed](e); return err },
		event.TypeItemReleased:    func(e event.Event) error { _, err := event.Decode[event.ItemReleased](e); return err },
		event.TypeOrderExpired:    func(e event.Event) error { _, err := event.Decode[event.OrderExpired](e); return err },
		event.TypeOrderCompleted:  func(e event.Event) error { _, err := event.Decode[event.OrderOutcome](e); return err },
	}
	const data = `{"transactionId":"tx","customerId":"c","paymentMethod":"pm","currency":"EUR","reason":"EXPIRED",` +
		`"items":[{"sku":"S","quantity":1}]}`
	for typ, decode := range decoders {
		for key, valid := range map[string]bool{"tx": true, "tx-2": false, "": false} {
			e := event.Event{Type: typ, Key: key, Data: []byte(data)}
			switch typ {
			case event.TypeOutOfStock:
				e.Data = []byte(`{"transactionId":"tx","reason":"OUT_OF_STOCK"}`)
			case event.TypeOrderCompleted:
				e.Data = []byte(`{"transactionId":"tx","customerId":"c","status":"COMPLETED","items":[{"sku":"S","quantity":1}]}`)
			}
			if err := decode(e); (err == nil) != valid || (err != nil && !errors.Is(err, event.ErrInvalid)) {
				t.Errorf("%s keyed %q: %v, want valid %v", typ, key, err, valid)
			}
		}
	}
}
