package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// TestDynamoDBOutboxClaimsShareRecordsAcrossReplicas opens one DynamoDB outbox as two replicas
// do: a replica's relay holds the records it wrote, each relay reads only records it claimed, the two never get the same record, a relay
// keeps its own on its next read, and the records of a replica whose lease expired go to the
// other.
func TestDynamoDBOutboxClaimsShareRecordsAcrossReplicas(t *testing.T) {
	cfg := dynamoDBTestConfig(t, "claims")
	open := func() *adapters.DynamoDBRepository {
		r, err := adapters.NewDynamoDBRepository(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := open(), open()
	t.Cleanup(func() {
		if err := a.DeleteTables(context.Background()); err != nil {
			t.Errorf("delete tables: %v", err)
		}
	})
	// The records a replica writes are its relay's from the start: the other does not get them.
	create(t, a)
	create(t, a)
	if got := pending(t, b, 100); len(got) != 0 {
		t.Fatalf("b got %d records a wrote and holds", len(got))
	}
	own := pending(t, a, 100)
	if len(own) != 2 {
		t.Fatalf("a got %d of the records it wrote, want 2", len(own))
	}
	if err := a.DeleteOutbox(ctx, own); err != nil {
		t.Fatal(err)
	}

	// w writes records whose claim has expired already, as a replica that died long ago.
	w := open()
	adapters.SetOutboxLease(w, -time.Minute)
	for range 10 {
		create(t, w)
	}
	fromA := pending(t, a, 4)
	fromB := pending(t, b, 100)
	if len(fromA) != 4 || len(fromB) != 6 {
		t.Fatalf("a got %d records, b %d; want 4 and 6", len(fromA), len(fromB))
	}
	inA := map[string]bool{}
	for _, id := range fromA {
		inA[id] = true
	}
	for _, id := range fromB {
		if inA[id] {
			t.Errorf("record %s went to both replicas", id)
		}
	}
	if again := pending(t, a, 100); len(again) != 4 {
		t.Errorf("a's second read got %d records, want its 4", len(again))
	}
	if err := a.DeleteOutbox(ctx, append(fromA, fromB...)); err != nil {
		t.Fatal(err)
	}

	// c claims the next records on a short lease and dies (reads no more): b takes them over.
	c := open()
	adapters.SetOutboxLease(c, 300*time.Millisecond)
	create(t, w)
	create(t, w)
	if held := pending(t, c, 100); len(held) != 2 {
		t.Fatalf("c got %d records, want 2", len(held))
	}
	if early := pending(t, b, 100); len(early) != 0 {
		t.Fatalf("b got %d records c holds", len(early))
	}
	deadline := time.Now().Add(outbox.Lease)
	for len(pending(t, b, 100)) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("b never took over the records of c's expired lease")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkDynamoDBClaimBatch measures one relay read of a full batch (1000 records) that must
// claim every record: the lease is so short that each read claims them all again.
func BenchmarkDynamoDBClaimBatch(b *testing.B) {
	r := newDynamoDBRepository(b, dynamoDBTestConfig(b, "claimbench"))
	adapters.SetOutboxLease(r, time.Nanosecond) // before writing: records come claimed by their writer
	for range 1000 {
		o, msg := newOrder(b)
		if _, err := r.CreateOrder(ctx, o, msg, app.IdempotencyKey{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		recs, err := r.PendingOutbox(ctx, 1000)
		if err != nil || len(recs) != 1000 {
			b.Fatalf("PendingOutbox = %d records, %v", len(recs), err)
		}
	}
}
