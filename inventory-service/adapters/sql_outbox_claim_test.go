package adapters_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// TestOutboxClaimsShareRowsAcrossReplicas opens the MySQL outbox as two replicas do: each
// relay reads only rows it claimed, the two never get the same row, a relay keeps its own rows
// on its next read, and the rows of a replica whose lease expired go to the other.
func TestOutboxClaimsShareRowsAcrossReplicas(t *testing.T) {
	for _, s := range stores(t) {
		if s.name != "mysql" {
			continue // SQLite serves one process: nothing to share
		}
		a := s.open(t)
		b := s.open(t) // the same database
		ctx := context.Background()
		f := newFixture(t, a)
		f.upsert("T-A", 100, 100)
		for i := range 5 { // 2 records each
			f.order(fmt.Sprintf("tx-%d", i), event.Item{SKU: "T-A", Quantity: 1})
		}
		pending := func(r *adapters.SQLRepository, limit int) map[string]bool {
			t.Helper()
			recs, err := r.PendingOutbox(ctx, limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, rec := range recs {
				ids[rec.ID] = true
			}
			return ids
		}
		fromA := pending(a, 4)
		fromB := pending(b, 100)
		if len(fromA) != 4 || len(fromB) != 6 {
			t.Fatalf("a got %d rows, b %d; want 4 and 6", len(fromA), len(fromB))
		}
		for id := range fromA {
			if fromB[id] {
				t.Errorf("row %s went to both replicas", id)
			}
		}
		if again := pending(a, 100); len(again) != 4 {
			t.Errorf("a's second read got %d rows, want its 4", len(again))
		}
		var ids []string
		for id := range fromA {
			ids = append(ids, id)
		}
		for id := range fromB {
			ids = append(ids, id)
		}
		if err := a.DeleteOutbox(ctx, ids); err != nil {
			t.Fatal(err)
		}

		// c claims the next rows on a short lease and dies (reads no more): b takes them over.
		c := s.open(t)
		adapters.SetOutboxLease(c, 300*time.Millisecond)
		f.order("tx-late", event.Item{SKU: "T-A", Quantity: 1})
		if held := pending(c, 100); len(held) != 2 {
			t.Fatalf("c got %d rows, want 2", len(held))
		}
		if early := pending(b, 100); len(early) != 0 {
			t.Fatalf("b got %d rows c holds", len(early))
		}
		deadline := time.Now().Add(outbox.Lease)
		for len(pending(b, 100)) != 2 {
			if time.Now().After(deadline) {
				t.Fatal("b never took over the rows of c's expired lease")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
