package inflight_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/edmshop/edm-shop/platform/inflight"
)

func TestGateAdmitsUpToTheLimit(t *testing.T) {
	cases := []struct {
		name          string
		limit, start  int
		tries, admits int
	}{
		{"no limit", 0, 0, 50, 50},
		{"below the limit", 10, 0, 5, 5},
		{"up to the limit", 10, 0, 15, 10},
		{"work found at start counts", 10, 7, 15, 3},
		{"more found at start than the limit", 10, 12, 5, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g inflight.Gate
			g.SetLimit(tc.limit)
			g.Add(tc.start)
			admitted := 0
			for range tc.tries {
				if g.TryAcquire() {
					admitted++
				}
			}
			if admitted != tc.admits || g.InFlight() != tc.start+tc.admits {
				t.Fatalf("admitted %d, in flight %d; want %d and %d", admitted, g.InFlight(), tc.admits, tc.start+tc.admits)
			}
		})
	}
}

func TestGateUnderConcurrency(t *testing.T) {
	var g inflight.Gate
	g.SetLimit(8)
	var inside, most atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 2000 {
				if !g.TryAcquire() {
					continue
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				inside.Add(-1)
				g.Release()
			}
		})
	}
	wg.Wait()
	if most.Load() > 8 || g.InFlight() != 0 {
		t.Fatalf("at most %d inside at once, %d in flight at the end; want <= 8 and 0", most.Load(), g.InFlight())
	}
}
