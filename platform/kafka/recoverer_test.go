package kafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

func TestRecovererTurnsAPanicIntoAnInvalidEvent(t *testing.T) {
	errStore := errors.New("store down")
	cases := []struct {
		name        string
		handler     kafka.Handler
		wantErr     error  // errors.Is target; nil for success
		wantInvalid bool   // wraps event.ErrInvalid
		wantText    string // in the error's text
	}{
		{"success passes", func(context.Context, event.Event) error { return nil }, nil, false, ""},
		{"an error passes as it is", func(context.Context, event.Event) error { return errStore }, errStore, false, "store down"},
		{"a panic with a string", func(context.Context, event.Event) error { panic("boom") }, event.ErrInvalid, true, "ORDER_CREATE handler panicked: boom"},
		{"a panic with an error", func(context.Context, event.Event) error { panic(errStore) }, event.ErrInvalid, true, "handler panicked: store down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := kafka.Recoverer(quiet)(c.handler)(context.Background(), event.Event{Type: event.TypeOrderCreate})
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) || errors.Is(err, event.ErrInvalid) != c.wantInvalid || !strings.Contains(err.Error(), c.wantText) {
				t.Errorf("error %v, want one matching %v (invalid %v) that says %q", err, c.wantErr, c.wantInvalid, c.wantText)
			}
		})
	}
}
