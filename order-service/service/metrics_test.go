package service

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// TestSagaDurationCountsTheObjectivesExactly checks that a saga's duration lands in buckets
// bounded by the latency objectives, 50 ms and 1 s, so that the share within each is exact.
func TestSagaDurationCountsTheObjectivesExactly(t *testing.T) {
	tests := []struct {
		took       time.Duration
		within50ms bool
		within1s   bool
	}{
		{took: 12 * time.Millisecond, within50ms: true, within1s: true},
		{took: 50 * time.Millisecond, within50ms: true, within1s: true},
		{took: 51 * time.Millisecond, within50ms: false, within1s: true},
		{took: time.Second, within50ms: false, within1s: true},
		{took: 1001 * time.Millisecond, within50ms: false, within1s: false},
		{took: 35 * time.Second, within50ms: false, within1s: false}, // expired at the deadline
	}
	for _, tt := range tests {
		t.Run(tt.took.String(), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := newSagaMetrics(reg)
			created := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
			m.OrderSettled(domain.Order{Status: domain.StatusCompleted, CreatedAt: created, UpdatedAt: created.Add(tt.took)})

			counts := bucketCounts(t, reg)
			if got := counts[0.05] == 1; got != tt.within50ms {
				t.Errorf("le=0.05 counts it: %v, want %v (buckets %v)", got, tt.within50ms, counts)
			}
			if got := counts[1] == 1; got != tt.within1s {
				t.Errorf("le=1 counts it: %v, want %v (buckets %v)", got, tt.within1s, counts)
			}
		})
	}
}

// bucketCounts gathers edm_saga_duration_seconds's cumulative count per upper bound.
func bucketCounts(t *testing.T, reg *prometheus.Registry) map[float64]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[float64]uint64{}
	for _, f := range families {
		if f.GetName() != "edm_saga_duration_seconds" {
			continue
		}
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			counts[b.GetUpperBound()] = b.GetCumulativeCount()
		}
	}
	if len(counts) == 0 {
		t.Fatal("edm_saga_duration_seconds not gathered")
	}
	return counts
}
