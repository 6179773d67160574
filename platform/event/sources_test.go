package event

import (
	"errors"
	"testing"
)

func TestCheckSource(t *testing.T) {
	cases := []struct {
		typ    Type
		source string
		ok     bool
	}{
		{TypeOrderCreate, "/order-service", true},
		{TypeOrderCreate, "/payment-service", false},
		{TypeOrderExpired, "/order-service", true},
		{TypeOrderExpired, "/inventory-service", false},
		{TypeItemReserved, "/inventory-service", true},
		{TypeItemReserved, "", false},
		{TypeOutOfStock, "/inventory-service", true},
		{TypeItemReleased, "/order-service", false},
		{TypePaymentComplete, "/payment-service", true},
		{TypePaymentComplete, "/inventory-service", false},
		{TypePaymentComplete, "/payment-service/", false},
		{TypePaymentFailed, "/payment-service", true},
		{TypeOrderCompleted, "/order-service", true},
		{TypeOrderCancelled, "/notification-service", false},
		{Type("SOMETHING_NEW"), "/anyone", true},
	}
	for _, c := range cases {
		t.Run(string(c.typ)+" from "+c.source, func(t *testing.T) {
			err := CheckSource(Event{Type: c.typ, Source: c.source})
			if c.ok && err != nil {
				t.Fatalf("CheckSource = %v, want nil", err)
			}
			if !c.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("CheckSource = %v, want an ErrInvalid", err)
			}
		})
	}
}
