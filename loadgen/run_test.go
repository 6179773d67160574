package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWaitTerminalReadsTheOthersOnlyOnceTheNewestAreTerminal serves orders of which the newest
// turn terminal only on a later read, and checks that no older order is read before they are,
// that every order that settles ends in done, and that one that never does is left pending
// once the timeout has passed.
func TestWaitTerminalReadsTheOthersOnlyOnceTheNewestAreTerminal(t *testing.T) {
	const workers = 8
	for _, tc := range []struct {
		name        string
		total       int
		settlesOn   int  // the read on which a newest order turns terminal
		lastIsStuck bool // the newest order never does
		timeout     time.Duration
	}{
		{name: "many orders", total: 200, settlesOn: 3, timeout: 10 * time.Second},
		{name: "fewer orders than it watches", total: 10, settlesOn: 2, timeout: 10 * time.Second},
		{name: "the newest order never settles", total: 100, settlesOn: 2, lastIsStuck: true, timeout: 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			watched := min(tc.total, max(newest, workers))
			var mu sync.Mutex
			reads := map[int]int{}
			settled, earlyReads := 0, 0 // watched orders seen terminal; older ones read before all were
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var i int
				if _, err := fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/orders/"), "o%d", &i); err != nil {
					http.NotFound(w, r)
					return
				}
				mu.Lock()
				reads[i]++
				status := StatusCompleted
				switch {
				case i < tc.total-watched:
					if settled < watched {
						earlyReads++
					}
				case tc.lastIsStuck && i == tc.total-1:
					status = "PENDING"
				case reads[i] < tc.settlesOn:
					status = "PENDING"
				case reads[i] == tc.settlesOn:
					settled++
				}
				mu.Unlock()
				now := time.Now()
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(Order{TransactionID: fmt.Sprintf("o%d", i), Status: status, CreatedAt: now, UpdatedAt: now})
			}))
			defer srv.Close()

			orders := make([]placed, tc.total)
			for i := range orders {
				orders[i] = placed{id: fmt.Sprintf("o%d", i)}
			}
			c := NewClient(srv.URL, srv.URL, "", workers)
			defer c.Close()
			done, pending := c.waitTerminal(context.Background(), orders, workers, tc.timeout)

			wantPending := 0
			if tc.lastIsStuck {
				wantPending = 1
			}
			if len(pending) != wantPending || len(done) != tc.total-wantPending {
				t.Fatalf("done %d, pending %d; want %d done and %d pending", len(done), len(pending), tc.total-wantPending, wantPending)
			}
			if tc.lastIsStuck {
				if pending[0].id != orders[tc.total-1].id {
					t.Errorf("pending %s, want the stuck %s", pending[0].id, orders[tc.total-1].id)
				}
				return // the others are read once the timeout has passed, not before
			}
			if earlyReads != 0 {
				t.Errorf("%d reads of older orders while the newest %d were still running", earlyReads, watched)
			}
			if settled != watched {
				t.Errorf("%d of the newest %d orders were seen terminal", settled, watched)
			}
		})
	}
}
