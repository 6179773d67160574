package ports_test

import (
	"testing"

	"github.com/google/uuid"
)

// TestIdempotencyKeyScope: a key belongs to one customer, and a request is the same request
// whatever order its items are listed in.
func TestIdempotencyKeyScope(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "checkout-" + uuid.NewString()}
	two := order(`"alice"`, `[{"sku":"SKU-1001","quantity":2},{"sku":"SKU-1002","quantity":1}]`, `"pm_card_visa"`)
	swapped := order(`"alice"`, `[{"sku":"SKU-1002","quantity":1},{"sku":"SKU-1001","quantity":2}]`, `"pm_card_visa"`)
	id := placeOrder(t, f, two, key)
	if got := placeOrder(t, f, swapped, key); got != id {
		t.Errorf("the same items in another order got order %s, want %s", got, id)
	}
	bob := order(`"bob"`, `[{"sku":"SKU-1001","quantity":2},{"sku":"SKU-1002","quantity":1}]`, `"pm_card_visa"`)
	bobs := placeOrder(t, f, bob, key)
	if bobs == id {
		t.Error("bob's request with alice's key returned alice's order")
	}
	if got := placeOrder(t, f, bob, key); got != bobs {
		t.Errorf("bob's retry got %s, want his order %s", got, bobs)
	}
	if n := f.outboxLen(t); n != 2 {
		t.Errorf("outbox has %d records, want 2 (one order each)", n)
	}
}
