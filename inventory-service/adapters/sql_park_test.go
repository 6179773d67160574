package adapters_test

import (
	"context"
	"testing"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/platform/event"
)

func TestParkedOutboxRecordLeavesTheOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		f.upsert("T-A", 100, 10)
		f.order("tx-1", event.Item{SKU: "T-A", Quantity: 1}) // ITEM_RESERVED to payment and order
		recs := f.outbox()
		if len(recs) != 2 {
			t.Fatalf("outbox has %d records, want 2", len(recs))
		}
		for range 2 { // a relay that crashed mid-way parks again
			if err := repo.ParkOutbox(ctx, recs[0].ID, "Broker: Message size too large"); err != nil {
				t.Fatal(err)
			}
		}
		if left := f.outbox(); len(left) != 1 || left[0].ID != recs[1].ID {
			t.Fatalf("outbox %+v, want only record %s", left, recs[1].ID)
		}
		parked, err := repo.ParkedOutbox(ctx)
		if err != nil || len(parked) != 1 || parked[recs[0].ID] != "Broker: Message size too large" {
			t.Fatalf("parked %v, %v", parked, err)
		}
	})
}
