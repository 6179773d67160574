package adapters

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// TestCountInFlightReadsOnlyTheInFlightIndex: order-service counts its orders in flight every
// second, so the count must not read the whole orders table.
func TestCountInFlightReadsOnlyTheInFlightIndex(t *testing.T) {
	if !strings.Contains(countInFlightSQL, "'"+string(domain.StatusPending)+"', '"+string(domain.StatusReserved)+"'") {
		t.Fatalf("countInFlightSQL %q does not name the in-flight statuses", countInFlightSQL)
	}
	r, err := NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err := r.store.DB.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+countInFlightSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX orders_in_flight") && !strings.Contains(got, "USING COVERING INDEX orders_in_flight") {
		t.Errorf("query plan %q, want it to read the index orders_in_flight", got)
	}
}
