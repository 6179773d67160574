package inflight_test

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
				full := g.Full()
				if g.TryAcquire() == full {
					t.Fatalf("Full() = %v before TryAcquire answered the same way", full)
				}
				if !full {
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

func TestGateWithATargetFollowsTheRateOfFinishedWork(t *testing.T) {
	cases := []struct {
		name     string
		limit    int
		target   time.Duration
		floor    int
		finished []int // Finish calls in each window before the check
		want     int
	}{
		{"no target: the limit", 300, 0, 10, []int{100}, 300},
		{"no target, no limit", 0, 0, 10, []int{100}, 0},
		{"nothing finished yet: the floor", 0, 500 * time.Millisecond, 10, nil, 10},
		{"rate times target", 0, 500 * time.Millisecond, 10, []int{100}, 200},               // 400/s x 0.5 s
		{"the limit bounds it", 150, 500 * time.Millisecond, 10, []int{100}, 150},           //
		{"the floor holds it up", 0, 500 * time.Millisecond, 50, []int{10}, 50},             // 40/s x 0.5 s = 20
		{"smoothed over the windows", 0, 500 * time.Millisecond, 10, []int{100, 0}, 100},    // (400 + 0) / 2 per s
		{"follows a faster rate", 0, 500 * time.Millisecond, 10, []int{100, 300, 300}, 500}, // 400, 800, 1000 per s
		{"a limit below the floor wins", 5, 500 * time.Millisecond, 10, nil, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			g := gateOn(&now)
			g.SetLimit(tc.limit)
			g.SetTarget(tc.target, tc.floor)
			for _, n := range tc.finished {
				finishInAWindow(g, &now, n)
				g.InForce() // closes the window
			}
			if got := g.InForce(); got != tc.want {
				t.Fatalf("limit in force %d, want %d", got, tc.want)
			}
			tries, wantAdmitted := tc.want+10, tc.want
			if tc.want == 0 { // no limit
				wantAdmitted = tries
			}
			admitted := 0
			for range tries {
				if g.TryAcquire() {
					admitted++
				}
			}
			if admitted != wantAdmitted {
				t.Fatalf("admitted %d of %d, want %d", admitted, tries, wantAdmitted)
			}
		})
	}
}

func TestGateWithATargetWaitsForTheWindowToClose(t *testing.T) {
	now := time.Unix(1000, 0)
	g := gateOn(&now)
	g.SetTarget(time.Second, 10)
	g.Add(100)
	for range 100 {
		g.Finish()
	}
	now = now.Add(inflight.Window - time.Millisecond)
	if got := g.InForce(); got != 10 {
		t.Fatalf("limit in force %d before the window closed, want the floor 10", got)
	}
	now = now.Add(time.Millisecond)
	if got := g.InForce(); got != 400 { // 100 in 250 ms = 400/s, x 1 s
		t.Fatalf("limit in force %d once the window closed, want 400", got)
	}
}

// TestGateWithAShareFollowsEveryonesRate: a process that sees only its share of the work finish
// follows the rate at which all processes finish it.
func TestGateWithAShareFollowsEveryonesRate(t *testing.T) {
	cases := []struct {
		name  string
		limit int
		share float64
		want  int
	}{
		{"all of the work", 0, 1, 200}, // 400/s x 0.5 s
		{"half of it", 0, 0.5, 400},    // 400/s seen, 800/s in all
		{"a quarter of it", 0, 0.25, 800},
		{"not known yet: the rate as it is", 0, 0, 200},
		{"more than all of it: the rate as it is", 0, 1.5, 200},
		{"not a number: the rate as it is", 0, math.NaN(), 200},
		{"the limit still bounds it", 300, 0.25, 300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			g := gateOn(&now)
			g.SetLimit(tc.limit)
			g.SetTarget(500*time.Millisecond, 10)
			g.SetShare(func() float64 { return tc.share })
			finishInAWindow(g, &now, 100) // 400/s
			if got := g.InForce(); got != tc.want {
				t.Fatalf("limit in force %d, want %d", got, tc.want)
			}
		})
	}
}

// TestGateFollowsAShareThatChanges: a new share applies from the next window on.
func TestGateFollowsAShareThatChanges(t *testing.T) {
	now := time.Unix(1000, 0)
	g := gateOn(&now)
	g.SetTarget(500*time.Millisecond, 10)
	share := 1.0
	g.SetShare(func() float64 { return share })
	for i, want := range []struct {
		share float64
		limit int
	}{{1, 200}, {0.5, 400}, {0.25, 800}, {1, 200}} {
		share = want.share
		finishInAWindow(g, &now, 100) // 400/s
		if got := g.InForce(); got != want.limit {
			t.Fatalf("window %d, share %v: limit in force %d, want %d", i, want.share, got, want.limit)
		}
	}
}

// gateOn returns a gate whose clock reads *now.
func gateOn(now *time.Time) *inflight.Gate {
	var g inflight.Gate
	inflight.SetClock(&g, func() time.Time { return *now })
	return &g
}

// finishInAWindow counts n pieces of work in and finished, then moves the clock a Window on:
// a rate of n per Window once the gate closes it.
func finishInAWindow(g *inflight.Gate, now *time.Time, n int) {
	g.Add(n)
	for range n {
		g.Finish()
	}
	*now = now.Add(inflight.Window)
}
