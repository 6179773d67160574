package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/edmshop/edm-shop/payment-service/app"
	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

type fakeGateway struct {
	result domain.ChargeResult
	err    error
	calls  []domain.ChargeRequest
}

func (g *fakeGateway) Refund(context.Context, domain.RefundRequest) (domain.RefundResult, error) {
	return domain.RefundResult{}, errors.New("fakeGateway does not refund")
}

func (g *fakeGateway) Charge(_ context.Context, req domain.ChargeRequest) (domain.ChargeResult, error) {
	g.calls = append(g.calls, req)
	return g.result, g.err
}

type fakePublisher struct {
	err  error
	sent []kafka.Message
}

func (p *fakePublisher) Publish(_ context.Context, msgs ...kafka.Message) error {
	if p.err != nil {
		return p.err
	}
	p.sent = append(p.sent, msgs...)
	return nil
}

func itemReserved(t *testing.T, amount int64) event.Event {
	t.Helper()
	e, err := event.New(event.TypeItemReserved, "/inventory-service", "tx-1", event.ItemReserved{
		TransactionID: "tx-1", CustomerID: "c-1", Items: []event.PricedItem{{SKU: "s", Quantity: 1, UnitPrice: amount}},
		Amount: amount, Currency: "EUR", PaymentMethod: "pm_card_visa",
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOnItemReserved(t *testing.T) {
	badPayload := event.Event{ID: "x", Type: event.TypeItemReserved, Source: "/inventory-service", Key: "tx-1", Data: json.RawMessage(`{"transactionId":"tx-1"}`)}
	tests := []struct {
		name        string
		event       event.Event
		gateway     fakeGateway
		publishErr  error
		wantCharges int
		wantTopic   string // "" when nothing is published
		wantType    event.Type
		wantErr     bool
		wantInvalid bool
		wantDecline string // declineCode of a PAYMENT_FAILED
	}{
		{name: "approved", event: itemReserved(t, 700), gateway: fakeGateway{result: domain.ChargeResult{Approved: true, ChargeID: "ch_1"}},
			wantCharges: 1, wantTopic: "order-t", wantType: event.TypePaymentComplete},
		{name: "declined", event: itemReserved(t, 700), gateway: fakeGateway{result: domain.ChargeResult{DeclineCode: "card_declined"}},
			wantCharges: 1, wantTopic: "inventory-t", wantType: event.TypePaymentFailed, wantDecline: "card_declined"},
		{name: "free order is not charged", event: itemReserved(t, 0),
			wantCharges: 0, wantTopic: "order-t", wantType: event.TypePaymentComplete},
		{name: "gateway unreachable is transient", event: itemReserved(t, 700), gateway: fakeGateway{err: errors.New("connection refused")},
			wantCharges: 1, wantErr: true},
		{name: "gateway rejection is a failed payment", event: itemReserved(t, 700), gateway: fakeGateway{err: &domain.RejectionError{Code: "invalid_request", Message: "bad"}},
			wantCharges: 1, wantTopic: "inventory-t", wantType: event.TypePaymentFailed, wantDecline: "invalid_request"},
		{name: "bare rejection is a failed payment", event: itemReserved(t, 700), gateway: fakeGateway{err: fmt.Errorf("wrapped: %w", domain.ErrChargeRejected)},
			wantCharges: 1, wantTopic: "inventory-t", wantType: event.TypePaymentFailed, wantDecline: domain.RejectedCodeDefault},
		{name: "invalid payload is poison", event: badPayload,
			wantCharges: 0, wantErr: true, wantInvalid: true},
		{name: "publish failure is transient", event: itemReserved(t, 700), gateway: fakeGateway{result: domain.ChargeResult{Approved: true, ChargeID: "ch_1"}},
			publishErr: errors.New("broker down"), wantCharges: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, pub := tt.gateway, &fakePublisher{err: tt.publishErr}
			a := app.New(&gw, pub, config.Topics{Inventory: "inventory-t", Payment: "payment-t", Order: "order-t"},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			err := a.OnItemReserved(context.Background(), tt.event)
			if (err != nil) != tt.wantErr || errors.Is(err, event.ErrInvalid) != tt.wantInvalid {
				t.Fatalf("err = %v, want error %v, invalid %v", err, tt.wantErr, tt.wantInvalid)
			}
			if len(gw.calls) != tt.wantCharges {
				t.Fatalf("%d charges, want %d", len(gw.calls), tt.wantCharges)
			}
			if tt.wantCharges > 0 && gw.calls[0].IdempotencyKey != "tx-1" {
				t.Fatalf("idempotency key %q, want the transactionId", gw.calls[0].IdempotencyKey)
			}
			if tt.wantTopic == "" {
				if len(pub.sent) != 0 {
					t.Fatalf("published %+v, want nothing", pub.sent)
				}
				return
			}
			if len(pub.sent) != 1 {
				t.Fatalf("published %d messages, want 1", len(pub.sent))
			}
			m := pub.sent[0]
			if m.Topic != tt.wantTopic || m.Event.Type != tt.wantType || m.Event.Key != "tx-1" ||
				m.Event.Source != app.Source || m.Event.ID != event.IDFor("tx-1", tt.wantType) {
				t.Fatalf("published %+v to %s, want %s to %s", m.Event, m.Topic, tt.wantType, tt.wantTopic)
			}
			if tt.wantType == event.TypePaymentFailed {
				failed, err := event.Decode[event.PaymentFailed](m.Event)
				if err != nil || failed.Reason != event.ReasonPaymentDeclined || failed.DeclineCode != tt.wantDecline || failed.Amount != 700 {
					t.Fatalf("PAYMENT_FAILED payload %+v (%v), want reason %s, declineCode %s", failed, err, event.ReasonPaymentDeclined, tt.wantDecline)
				}
			}
		})
	}
}

func TestOnItemReservedMarksAReplayedChargeAsADuplicate(t *testing.T) {
	for _, replayed := range []bool{false, true} {
		gw := fakeGateway{result: domain.ChargeResult{Approved: true, ChargeID: "ch_1", Replayed: replayed}}
		pub := &fakePublisher{}
		a := app.New(&gw, pub, config.DefaultTopics, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, duplicate := kafka.TrackDuplicate(context.Background())
		if err := a.OnItemReserved(ctx, itemReserved(t, 700)); err != nil {
			t.Fatal(err)
		}
		if duplicate() != replayed || len(pub.sent) != 1 {
			t.Errorf("replayed %v: duplicate %v, %d published (the outcome is re-sent either way)", replayed, duplicate(), len(pub.sent))
		}
	}
}
