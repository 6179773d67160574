package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/platform/event"
)

// TestPurgeForgetsOnlyOldProcessedEvents: an event processed longer ago than the retention is
// forgotten (a redelivery would be applied again, which is why the retention must outlast the
// topics'), a recent one is still recognised.
func TestPurgeForgetsOnlyOldProcessedEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		f.upsert("P-1", 100, 10)
		f.order("tx-old", event.Item{SKU: "P-1", Quantity: 1})
		f.order("tx-new", event.Item{SKU: "P-1", Quantity: 1})
		old := orderEvent(t, "tx-old", event.Item{SKU: "P-1", Quantity: 1})
		// Age the first record by three days.
		if _, err := s.raw(t).ExecContext(context.Background(), `UPDATE processed_events SET processed_at = ? WHERE event_id = ?`,
			time.Now().UTC().Add(-72*time.Hour).Format("2006-01-02 15:04:05"), old.ID); err != nil {
			t.Fatal(err)
		}
		n, err := repo.PurgeProcessed(context.Background(), 48*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("PurgeProcessed = %d, %v; want 1 record", n, err)
		}
		f.wantStock("P-1", 8, 2)
		// The recent event is still a duplicate; the forgotten one reaches the second guard
		// (the transaction's reservation) and still changes nothing.
		for _, tx := range []string{"tx-new", "tx-old"} {
			if err := f.handle(context.Background(), orderEvent(t, tx, event.Item{SKU: "P-1", Quantity: 1})); err != nil {
				t.Fatal(err)
			}
		}
		f.wantStock("P-1", 8, 2)
		if n, err := repo.PurgeProcessed(context.Background(), 48*time.Hour); err != nil || n != 0 {
			t.Fatalf("second PurgeProcessed = %d, %v; want nothing left to purge", n, err)
		}
	})
}

// TestMigrationFillsReservedFromActiveReservations opens a database made by the previous
// schema (no products.reserved) and checks the reserved units come from the reservations that
// still hold stock, and that reserving and releasing keep them from then on.
func TestMigrationFillsReservedFromActiveReservations(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			raw := s.raw(t)
			ctx := context.Background()
			for _, stmt := range []string{
				`CREATE TABLE products (sku VARCHAR(64) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, price BIGINT NOT NULL, currency CHAR(3) NOT NULL, available INT NOT NULL)`,
				`CREATE TABLE reservations (transaction_id VARCHAR(255) NOT NULL, sku VARCHAR(64) NOT NULL, quantity INT NOT NULL, unit_price BIGINT NOT NULL, status VARCHAR(16) NOT NULL, PRIMARY KEY (transaction_id, sku))`,
				`CREATE TABLE processed_events (event_id VARCHAR(255) NOT NULL PRIMARY KEY, processed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
				`INSERT INTO products (sku, name, price, currency, available) VALUES ('M-1', 'M', 100, 'EUR', 10), ('M-2', 'M', 100, 'EUR', 5)`,
				`INSERT INTO reservations (transaction_id, sku, quantity, unit_price, status) VALUES ('a', 'M-1', 3, 100, 'ACTIVE'), ('b', 'M-1', 2, 100, 'RELEASED'), ('c', 'M-1', 1, 100, 'ACTIVE')`,
			} {
				if _, err := raw.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			f := newFixture(t, s.open(t))
			f.wantStock("M-1", 10, 4)
			f.wantStock("M-2", 5, 0)
			f.order("tx-1", event.Item{SKU: "M-2", Quantity: 2})
			f.wantStock("M-2", 3, 2)
			if err := f.handle(ctx, paymentFailedEvent(t, "tx-1")); err != nil {
				t.Fatal(err)
			}
			f.wantStock("M-2", 5, 0)
			s.open(t) // a second start changes nothing
			f.wantStock("M-1", 10, 4)
		})
	}
}
