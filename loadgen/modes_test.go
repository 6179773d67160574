package loadgen

import (
	"testing"
	"time"
)

func TestDeclinedShare(t *testing.T) {
	for _, share := range []float64{0, 0.1, 0.25, 0.5, 1} {
		n := 0
		for i := range 10000 {
			if declined(i, share) {
				n++
			}
		}
		if want := int(share * 10000); n != want {
			t.Errorf("share %.2f: %d of 10000 declined, want %d", share, n, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	if got.P50 != 50 || got.P90 != 90 || got.P99 != 99 || got.Max != 100 || got.Count != 100 {
		t.Errorf("summarize(1..100 ms) = %+v", got)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil) = %+v", got)
	}
}
