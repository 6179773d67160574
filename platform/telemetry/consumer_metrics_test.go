package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestConsumerMetrics(t *testing.T) {
	cases := []struct {
		name    string
		typ     event.Type
		handler kafka.Handler
		outcome string // "" when the middleware counts nothing
		err     bool
	}{
		{"applied", event.TypeOrderCreate, func(context.Context, event.Event) error { return nil }, telemetry.OutcomeApplied, false},
		{"duplicate", event.TypeItemReserved, func(ctx context.Context, _ event.Event) error { kafka.MarkDuplicate(ctx); return nil }, telemetry.OutcomeDuplicate, false},
		{"transient failure", event.TypePaymentFailed, func(context.Context, event.Event) error { return errors.New("store down") }, telemetry.OutcomeRetried, true},
		{"invalid: left to the dead-letter hook", event.TypeItemReleased, func(context.Context, event.Event) error { return event.ErrInvalid }, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := telemetry.NewConsumerMetrics(reg)
			ctx := kafka.WithDelivery(context.Background(), kafka.Delivery{Topic: "inventory"})
			err := kafka.Chain(c.handler, m.Middleware())(ctx, event.Event{Type: c.typ})
			if (err != nil) != c.err {
				t.Fatalf("err = %v", err)
			}
			for _, outcome := range []string{telemetry.OutcomeApplied, telemetry.OutcomeDuplicate, telemetry.OutcomeRetried, telemetry.OutcomeDeadLettered} {
				want := 0.0
				if outcome == c.outcome {
					want = 1
				}
				if got := sample(t, reg, "edm_events_consumed_total", map[string]string{"topic": "inventory", "type": string(c.typ), "outcome": outcome}); got != want {
					t.Errorf("%s = %v, want %v", outcome, got, want)
				}
			}
			if got := sample(t, reg, "edm_event_handle_duration_seconds", map[string]string{"topic": "inventory", "type": string(c.typ)}); got != 1 {
				t.Errorf("handle duration observed %v times, want 1", got)
			}
		})
	}
}

func TestDeadLetteredTypeLabelIsBounded(t *testing.T) {
	cases := []struct{ ceType, label string }{
		{"ORDER_CREATE", "ORDER_CREATE"},
		{"", "unknown"},
		{"SOMETHING_ELSE", "unknown"},
	}
	for _, c := range cases {
		reg := prometheus.NewRegistry()
		m := telemetry.NewConsumerMetrics(reg)
		m.DeadLettered(kafka.WithDelivery(context.Background(), kafka.Delivery{Topic: "order", Headers: map[string]string{"ce_type": c.ceType}}))
		if got := sample(t, reg, "edm_events_consumed_total", map[string]string{"topic": "order", "type": c.label, "outcome": telemetry.OutcomeDeadLettered}); got != 1 {
			t.Errorf("ce_type %q: dead_lettered{type=%q} = %v, want 1", c.ceType, c.label, got)
		}
	}
}

func TestConsumerMetricsDeliveryDelay(t *testing.T) {
	cases := []struct {
		name      string
		timestamp time.Time
		observed  float64
		atLeast   float64 // seconds the observation must reach
	}{
		{"sent 2 s ago", time.Now().Add(-2 * time.Second), 1, 2},
		{"stamped by a clock that runs ahead: no delay", time.Now().Add(time.Hour), 1, 0},
		{"no timestamp: nothing observed", time.Time{}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := telemetry.NewConsumerMetrics(reg)
			ctx := kafka.WithDelivery(context.Background(), kafka.Delivery{Topic: "payment", Timestamp: c.timestamp})
			if err := kafka.Chain(func(context.Context, event.Event) error { return nil }, m.Middleware())(ctx, event.Event{Type: event.TypeItemReserved}); err != nil {
				t.Fatal(err)
			}
			labels := map[string]string{"topic": "payment", "type": string(event.TypeItemReserved)}
			if got := sample(t, reg, "edm_event_delivery_delay_seconds", labels); got != c.observed {
				t.Fatalf("delivery delay observed %v times, want %v", got, c.observed)
			}
			if sum := histogramSum(t, reg, "edm_event_delivery_delay_seconds"); sum < c.atLeast || (c.atLeast == 0 && sum != 0) {
				t.Errorf("delivery delay sum = %v s, want %v", sum, c.atLeast)
			}
		})
	}
}

// histogramSum is the sum of the observations of the histogram name (its only series).
func histogramSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				return m.GetHistogram().GetSampleSum()
			}
		}
	}
	return 0
}
