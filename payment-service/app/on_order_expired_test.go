package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/payment-service/adapters"
	"github.com/edmshop/edm-shop/payment-service/app"
	"github.com/edmshop/edm-shop/payment-service/gateway"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
)

func orderExpired(t *testing.T, txID string) event.Event {
	t.Helper()
	e, err := event.New(event.TypeOrderExpired, "/order-service", txID, event.OrderExpired{TransactionID: txID, Reason: event.ReasonExpired})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExpiredOrderKeepsNoCharge runs ORDER_EXPIRED and ITEM_RESERVED in both orders against
// the gateway simulator: whichever comes first, the money of the transaction ends refunded or
// voided, never charged.
func TestExpiredOrderKeepsNoCharge(t *testing.T) {
	tests := []struct {
		name       string
		steps      []event.Type
		wantStatus string
		wantOut    []event.Type // what payment-service published
	}{
		{name: "charged, then expired: refunded", steps: []event.Type{event.TypeItemReserved, event.TypeOrderExpired},
			wantStatus: gateway.StatusRefunded, wantOut: []event.Type{event.TypePaymentComplete}},
		{name: "expired before the charge: voided, the charge declined", steps: []event.Type{event.TypeOrderExpired, event.TypeItemReserved},
			wantStatus: gateway.StatusVoided, wantOut: []event.Type{event.TypePaymentFailed}},
		{name: "expiry redelivered: refunded once", steps: []event.Type{event.TypeItemReserved, event.TypeOrderExpired, event.TypeOrderExpired},
			wantStatus: gateway.StatusRefunded, wantOut: []event.Type{event.TypePaymentComplete}},
		{name: "reservation redelivered after the refund: not charged again", steps: []event.Type{event.TypeItemReserved, event.TypeOrderExpired, event.TypeItemReserved},
			wantStatus: gateway.StatusRefunded, wantOut: []event.Type{event.TypePaymentComplete, event.TypePaymentComplete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := gateway.NewServer()
			srv := httptest.NewServer(gw.Handler())
			t.Cleanup(srv.Close)
			pub := &fakePublisher{}
			client := adapters.NewGatewayClient(srv.URL, adapters.Backoff{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond})
			a := app.New(client, pub, config.DefaultTopics, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for i, typ := range tt.steps {
				var err error
				if typ == event.TypeOrderExpired {
					err = a.OnOrderExpired(context.Background(), orderExpired(t, "tx-1"))
				} else {
					err = a.OnItemReserved(context.Background(), itemReserved(t, 700))
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, typ, err)
				}
			}
			st, ok := gw.KeyStatus("tx-1")
			if !ok || st.Status != tt.wantStatus {
				t.Errorf("money of tx-1: %+v (known %v), want %s", st, ok, tt.wantStatus)
			}
			if n := gw.SuccessfulCharges("tx-1"); n > 1 {
				t.Errorf("%d charges", n)
			}
			var out []event.Type
			for _, m := range pub.sent {
				out = append(out, m.Event.Type)
			}
			if len(out) != len(tt.wantOut) {
				t.Fatalf("published %v, want %v", out, tt.wantOut)
			}
			for i := range out {
				if out[i] != tt.wantOut[i] {
					t.Errorf("published %v, want %v", out, tt.wantOut)
				}
			}
		})
	}
}

func TestOrderExpiredForAnotherKeyIsPoison(t *testing.T) {
	gw := gateway.NewServer()
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	a := app.New(adapters.NewGatewayClient(srv.URL, adapters.DefaultBackoff), &fakePublisher{}, config.DefaultTopics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := orderExpired(t, "tx-1")
	e.Key = "tx-2"
	if err := a.OnOrderExpired(context.Background(), e); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("got %v, want event.ErrInvalid", err)
	}
	if _, known := gw.KeyStatus("tx-1"); known {
		t.Error("the gateway was asked anything")
	}
}
