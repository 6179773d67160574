package adapters_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// TestDynamoDBBundlesTheOutboxRecordsOfAGroup creates many orders at once, so that their
// writes are grouped, and checks that their outbox records went into fewer items than records
// while the relay still sees every record as written; that a bundle published in part stays;
// that one record can be parked out of its bundle; and that deleting every record empties the
// outbox.
func TestDynamoDBBundlesTheOutboxRecordsOfAGroup(t *testing.T) {
	r := newDynamoDBRepository(t, dynamoDBTestConfig(t, "bundle"))
	t.Cleanup(func() { r.DeleteParkedTable(ctx) })
	const n = 120
	written := createAtOnce(t, r, n)

	recs := readOutbox(t, r, n)
	if len(recs) != n {
		t.Fatalf("PendingOutbox = %d records, want %d", len(recs), n)
	}
	for _, rec := range recs {
		want, ok := written[rec.Message.Event.ID]
		if !ok || rec.Message.Topic != want.Topic || rec.Message.Event.Key != want.Event.Key || rec.Message.Event.Type != want.Event.Type ||
			string(rec.Message.Event.Data) != string(want.Event.Data) || !rec.Message.Event.Time.Equal(want.Event.Time) {
			t.Fatalf("record %s = %+v, not what was written (%+v)", rec.ID, rec.Message, want)
		}
	}
	items, err := adapters.OutboxItems(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if items >= n/2 {
		t.Errorf("%d records in %d outbox items, want them bundled", n, items)
	}
	t.Logf("%d records in %d outbox items", n, items)
	if stats, err := r.OutboxStats(ctx); err != nil || stats.Pending != n {
		t.Errorf("OutboxStats = %+v, %v; want %d pending", stats, err, n)
	}

	// A bundle given back without one of its records stays, all its records with it.
	i := slices.IndexFunc(recs, func(rec outbox.Record) bool { return adapters.IsBundled(rec.ID) })
	if i < 0 {
		t.Fatal("no record was bundled")
	}
	bundle := bundleOf(recs, recs[i].ID)
	if err := r.DeleteOutbox(ctx, ids(bundle[1:])); err != nil {
		t.Fatal(err)
	}
	if got := readOutbox(t, r, n); len(got) != n {
		t.Errorf("after deleting part of a bundle PendingOutbox = %d records, want all %d", len(got), n)
	}

	// A bundled record parked leaves its bundle; the bundle's others stay to be published.
	parked := bundle[0]
	if err := r.ParkOutbox(ctx, parked.ID, "refused for good"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.ParkedOutbox(ctx); err != nil || len(got) != 1 {
		t.Errorf("ParkedOutbox = %v, %v; want the one parked record", got, err)
	}
	recs = readOutbox(t, r, n)
	if len(recs) != n-1 || slices.ContainsFunc(recs, func(rec outbox.Record) bool { return rec.Message.Event.ID == parked.Message.Event.ID }) {
		t.Fatalf("after parking one record PendingOutbox = %d records, want the other %d", len(recs), n-1)
	}
	if err := r.ParkOutbox(ctx, parked.ID, "refused for good"); err != nil {
		t.Errorf("parking a record parked already: %v", err)
	}

	// Every record published: the outbox is empty.
	if err := r.DeleteOutbox(ctx, ids(recs)); err != nil {
		t.Fatal(err)
	}
	if got := readOutbox(t, r, n); len(got) != 0 {
		t.Errorf("after deleting every record PendingOutbox = %d records, want none", len(got))
	}
	if items, err := adapters.OutboxItems(ctx, r); err != nil || items != 0 {
		t.Errorf("outbox holds %d items (%v), want none", items, err)
	}
}

// createAtOnce creates n orders concurrently, so that their writes are grouped, and returns
// their ORDER_CREATE messages by event id.
func createAtOnce(t *testing.T, r app.Repository, n int) map[string]kafka.Message {
	t.Helper()
	written := map[string]kafka.Message{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			o, msg := newOrder(t)
			if _, err := r.CreateOrder(ctx, o, msg, app.IdempotencyKey{}); err != nil {
				t.Errorf("CreateOrder: %v", err)
			}
			mu.Lock()
			written[msg.Event.ID] = msg
			mu.Unlock()
		})
	}
	wg.Wait()
	return written
}

func readOutbox(t *testing.T, r app.Repository, limit int) []outbox.Record {
	t.Helper()
	recs, err := r.PendingOutbox(ctx, limit)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	return recs
}

// bundleOf returns the records of recs that share id's bundle (the part of the id before "#").
func bundleOf(recs []outbox.Record, id string) []outbox.Record {
	bundle, _, _ := strings.Cut(id, "#")
	var out []outbox.Record
	for _, rec := range recs {
		if strings.HasPrefix(rec.ID, bundle+"#") {
			out = append(out, rec)
		}
	}
	return out
}

func ids(recs []outbox.Record) []string {
	out := make([]string, len(recs))
	for i, rec := range recs {
		out[i] = rec.ID
	}
	return out
}

// TestDynamoDBWithoutBundlesKeepsOneItemPerRecord switches bundles off, as before a rollback to
// a build without them, and checks that grouped writes store one outbox item per record.
func TestDynamoDBWithoutBundlesKeepsOneItemPerRecord(t *testing.T) {
	cfg := dynamoDBTestConfig(t, "nobundle")
	cfg.NoBundles = true
	r := newDynamoDBRepository(t, cfg)
	calls := adapters.CountCalls(r)
	const n = 60
	createAtOnce(t, r, n)
	if got := calls.Take()["TransactWriteItems"]; got >= n/2 {
		t.Fatalf("%d creates in %d transactions: the writes were not grouped, so this tests nothing", n, got)
	}
	if items, err := adapters.OutboxItems(ctx, r); err != nil || items != n {
		t.Errorf("outbox holds %d items (%v), want one per record (%d)", items, err, n)
	}
	if recs := readOutbox(t, r, 2*n); slices.ContainsFunc(recs, func(rec outbox.Record) bool { return adapters.IsBundled(rec.ID) }) || len(recs) != n {
		t.Errorf("PendingOutbox = %d records, some bundled; want %d plain ones", len(recs), n)
	}
}
