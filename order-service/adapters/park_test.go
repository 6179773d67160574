package adapters_test

import (
	"context"
	"testing"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/platform/outbox"
)

type parkingRepository interface {
	outbox.Parker
	ParkedOutbox(ctx context.Context) (map[string]string, error)
}

// testParking: a parked record leaves the pending outbox with its reason, the others stay.
func testParking(t *testing.T, newRepo func(t *testing.T) app.Repository) {
	t.Run("parked records leave the outbox with their reason", func(t *testing.T) {
		r := newRepo(t)
		p, ok := r.(parkingRepository)
		if !ok {
			t.Fatalf("%T cannot park outbox records", r)
		}
		if d, ok := r.(interface{ DeleteParkedTable(context.Context) error }); ok {
			t.Cleanup(func() {
				if err := d.DeleteParkedTable(context.Background()); err != nil {
					t.Errorf("delete parked table: %v", err)
				}
			})
		}
		_, refused := create(t, r)
		_, kept := create(t, r)
		if err := p.ParkOutbox(ctx, refused.Event.ID, "Broker: Message size too large"); err != nil {
			t.Fatalf("ParkOutbox: %v", err)
		}
		if err := p.ParkOutbox(ctx, refused.Event.ID, "again"); err != nil { // a relay that crashed mid-way parks again
			t.Fatalf("ParkOutbox again: %v", err)
		}
		if ids := pending(t, r, 10); len(ids) != 1 || ids[0] != kept.Event.ID {
			t.Errorf("pending %v, want only %s", ids, kept.Event.ID)
		}
		parked, err := p.ParkedOutbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 || parked[refused.Event.ID] != "Broker: Message size too large" {
			t.Errorf("parked %v", parked)
		}
	})
}
