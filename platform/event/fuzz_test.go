package event_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
)

// decoders decodes data as each event type's payload, as consumers do with event.Decode, and
// returns the payload when it was accepted.
var decoders = []struct {
	typ    event.Type
	decode func(event.Event) (event.Payload, error)
}{
	{event.TypeOrderCreate, decodeAs[event.OrderCreate]},
	{event.TypeItemReserved, decodeAs[event.ItemReserved]},
	{event.TypeOutOfStock, decodeAs[event.OutOfStock]},
	{event.TypePaymentComplete, decodeAs[event.PaymentComplete]},
	{event.TypePaymentFailed, decodeAs[event.PaymentFailed]},
	{event.TypeItemReleased, decodeAs[event.ItemReleased]},
	{event.TypeOrderCompleted, decodeAs[event.OrderOutcome]},
}

func decodeAs[P event.Payload](e event.Event) (event.Payload, error) {
	p, err := event.Decode[P](e)
	return p, err
}

// FuzzDecode feeds arbitrary JSON to every event payload decoder. No input may panic; a
// rejection wraps event.ErrInvalid (a dead letter, never a retry loop); an accepted payload
// validates, keeps the properties its Validate promises, and decodes again unchanged from its
// own encoding. Seeds: testdata/fuzz/FuzzDecode and below (kind picks the payload type).
func FuzzDecode(f *testing.F) {
	for kind, data := range []string{
		`{"transactionId":"tx-1","customerId":"c-1","items":[{"sku":"A","quantity":2}],"paymentMethod":"pm_card_visa"}`,
		`{"transactionId":"tx-1","customerId":"c-1","items":[{"sku":"A","quantity":2,"unitPrice":350}],"amount":700,"currency":"EUR","paymentMethod":"pm_card_visa"}`,
		`{"transactionId":"tx-1","reason":"OUT_OF_STOCK","sku":"A"}`,
		`{"transactionId":"tx-1","amount":700,"currency":"EUR","chargeId":"ch_1"}`,
		`{"transactionId":"tx-1","reason":"PAYMENT_DECLINED","declineCode":"card_declined","amount":700,"currency":"EUR"}`,
		`{"transactionId":"tx-1","reason":"PAYMENT_DECLINED","items":[{"sku":"A","quantity":2}]}`,
		`{"transactionId":"tx-1","customerId":"c-1","status":"CANCELLED","reason":"PAYMENT_DECLINED","items":[{"sku":"A","quantity":2}],"amount":700,"currency":"EUR"}`,
	} {
		for k := range decoders {
			f.Add(uint8(k), []byte(data)) // every valid payload, read as every type
		}
		f.Add(uint8(kind), []byte(data[:len(data)/2]))
	}
	for _, odd := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"transactionId":""}`, `{"transactionId":"t","items":[null]}`,
		`{"transactionId":"t","items":[{"sku":"A","quantity":-1}]}`, `{"transactionId":"t","amount":1e400}`, `{"transactionId":"t"} {}`} {
		for k := range decoders {
			f.Add(uint8(k), []byte(odd))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		d := decoders[int(kind)%len(decoders)]
		e := event.Event{ID: "id", Type: d.typ, Source: "/fuzz", Key: "tx-1", Data: data}
		p, err := d.decode(e)
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("%s: rejection %v does not wrap event.ErrInvalid", d.typ, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("%s: accepted %q, which is not one JSON value", d.typ, data)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: accepted %+v, which does not validate: %v", d.typ, p, err)
		}
		checkAccepted(t, p)
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("%s: accepted %+v cannot be encoded: %v", d.typ, p, err)
		}
		e.Data = raw
		again, err := d.decode(e)
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("%s: %+v re-encoded as %s decodes to %+v, %v", d.typ, p, raw, again, err)
		}
	})
}

// checkAccepted asserts what every accepted payload promises its consumer.
func checkAccepted(t *testing.T, p event.Payload) {
	t.Helper()
	items := func(n int, at func(int) (string, int)) {
		if n == 0 {
			t.Fatalf("accepted %+v without items", p)
		}
		for i := range n {
			if sku, qty := at(i); sku == "" || qty <= 0 {
				t.Fatalf("accepted %+v with item %d %q x %d", p, i, sku, qty)
			}
		}
	}
	switch p := p.(type) {
	case event.OrderCreate:
		if p.TransactionID == "" || p.CustomerID == "" || p.PaymentMethod == "" {
			t.Fatalf("accepted %+v", p)
		}
		items(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
	case event.ItemReserved:
		if p.TransactionID == "" || p.Amount < 0 || p.Currency == "" || p.PaymentMethod == "" {
			t.Fatalf("accepted %+v", p)
		}
		items(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
	case event.OutOfStock:
		if p.TransactionID == "" || (p.Reason != event.ReasonOutOfStock && p.Reason != event.ReasonUnknownSKU) {
			t.Fatalf("accepted %+v", p)
		}
	case event.PaymentComplete:
		if p.TransactionID == "" {
			t.Fatalf("accepted %+v", p)
		}
	case event.PaymentFailed:
		if p.TransactionID == "" {
			t.Fatalf("accepted %+v", p)
		}
	case event.ItemReleased:
		if p.TransactionID == "" {
			t.Fatalf("accepted %+v", p)
		}
	case event.OrderOutcome:
		if p.TransactionID == "" || p.CustomerID == "" || p.Amount < 0 || (p.Amount > 0 && p.Currency == "") ||
			!(p.Status == event.StatusCompleted && p.Reason == "" || p.Status == event.StatusCancelled && p.Reason != "") {
			t.Fatalf("accepted %+v", p)
		}
		items(len(p.Items), func(i int) (string, int) { return p.Items[i].SKU, p.Items[i].Quantity })
	default:
		t.Fatalf("no property check for %T", p)
	}
}
