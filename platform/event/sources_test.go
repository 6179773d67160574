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
		{OrderCreate, "/order-service", true},
		{OrderCreate, "/payment-service", false},
		{OrderExpired, "/order-service", true},
		{OrderExpired, "/inventory-service", false},
		{ItemReserved, "/inventory-service", true},
		{ItemReserved, "", false},
		{OutOfStock, "/inventory-service", true},
		{ItemReleased, "/order-service", false},
		{PaymentComplete, "/payment-service", true},
		{PaymentComplete, "/inventory-service", false},
		{PaymentComplete, "/payment-service/", false},
		{PaymentFailed, "/payment-service", true},
		{OrderCompleted, "/order-service", true},
		{OrderCancelled, "/notification-service", false},
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
