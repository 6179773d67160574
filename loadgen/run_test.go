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

// TestWaitTerminalReadsTheOthersOnlyOnceTheNewestAreTerminal serves orders whose newest ones
// turn terminal on their third read, and checks that no older order is read before then, and
// that every order still ends in done.
func TestWaitTerminalReadsTheOthersOnlyOnceTheNewestAreTerminal(t *testing.T) {
	const total = 200
	var mu sync.Mutex
	reads := map[int]int{}
	settled := 0 // newest orders terminal so far
	earlyReads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/orders/"), "o%d", &i); err != nil {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		reads[i]++
		status := StatusCompleted
		if i >= total-newest {
			if reads[i] < 3 {
				status = "PENDING"
			} else if reads[i] == 3 {
				settled++
			}
		} else if settled < newest {
			earlyReads++
		}
		mu.Unlock()
		now := time.Now()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Order{TransactionID: fmt.Sprintf("o%d", i), Status: status, CreatedAt: now, UpdatedAt: now})
	}))
	defer srv.Close()

	orders := make([]placed, total)
	for i := range orders {
		orders[i] = placed{id: fmt.Sprintf("o%d", i)}
	}
	c := NewClient(srv.URL, srv.URL, "", 8)
	defer c.Close()
	done, pending := c.waitTerminal(context.Background(), orders, 8, 10*time.Second)
	if len(pending) != 0 || len(done) != total {
		t.Fatalf("done %d, pending %d; want all %d done", len(done), len(pending), total)
	}
	if earlyReads != 0 {
		t.Errorf("%d reads of older orders while the newest %d were still running", earlyReads, newest)
	}
	if settled != newest {
		t.Errorf("%d of the newest orders were seen terminal, want %d", settled, newest)
	}
}
