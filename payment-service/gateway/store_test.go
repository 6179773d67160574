package gateway

import (
	"hash/maphash"
	"testing"
)

// TestChargeStoreHashCollision makes two keys share a hash chain, as colliding hashes would (the
// seed is random, so a real collision cannot be staged): each key still finds only its own charge.
func TestChargeStoreHashCollision(t *testing.T) {
	cs := newChargeStore()
	for _, key := range []string{"tx-a", "tx-b", "tx-c"} {
		body := []byte(`{"id":"ch_` + key + `"}`)
		cs.add(entry{Kind: kindCharge, Key: key, Params: &ChargeParams{Amount: 1, Currency: "EUR", PaymentMethod: TokenVisa},
			Charge: &Charge{ID: "ch_" + key}, Status: 201, Body: body})
	}
	// Chain tx-c -> tx-b -> tx-a under tx-a's hash, and tx-c under tx-c's own.
	cs.records[1].older, cs.records[2].older = 0, 1
	cs.byHash[maphash.String(cs.seed, "tx-a")] = 2
	tests := []struct {
		key       string
		wantIndex int
		wantFound bool
	}{
		{"tx-a", 0, true},
		{"tx-b", 1, true}, // found by its own hash
		{"tx-c", 2, true},
		{"tx-d", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			i, ok := cs.lookup(tt.key)
			if ok != tt.wantFound || (ok && i != tt.wantIndex) {
				t.Fatalf("lookup = %d, %v; want %d, %v", i, ok, tt.wantIndex, tt.wantFound)
			}
			charged := cs.charged(tt.key)
			if tt.wantFound != (len(charged) == 1) || (tt.wantFound && charged[0] != tt.wantIndex) {
				t.Fatalf("charged = %v, want [%d]", charged, tt.wantIndex)
			}
			if ok && string(cs.id(i)) != "ch_"+tt.key {
				t.Fatalf("id %s", cs.id(i))
			}
		})
	}
}

// TestChargeStoreArenaChunks checks records whose bytes span arena chunks, including one larger
// than a chunk, keep their own bytes.
func TestChargeStoreArenaChunks(t *testing.T) {
	cs := newChargeStore()
	sizes := []int{chunkSize / 2, chunkSize / 2, 10, chunkSize * 2, 10}
	for i, n := range sizes {
		body := make([]byte, n)
		for j := range body {
			body[j] = byte('a' + i)
		}
		cs.add(entry{Kind: kindCharge, Key: string(rune('a' + i)), Params: &ChargeParams{Amount: int64(i), Currency: "EUR", PaymentMethod: "pm"},
			Charge: &Charge{ID: "ch"}, Status: 201, Body: body})
	}
	for i, n := range sizes {
		_, body := cs.answer(i)
		if len(body) != n || body[0] != byte('a'+i) || body[n-1] != byte('a'+i) || cap(body) != n {
			t.Fatalf("record %d: %d bytes (cap %d), want %d of %c", i, len(body), cap(body), n, 'a'+i)
		}
		if !cs.matches(i, ChargeParams{Amount: int64(i), Currency: "EUR", PaymentMethod: "pm"}) {
			t.Fatalf("record %d does not match its params", i)
		}
	}
	if len(cs.arena) != 4 {
		t.Fatalf("%d chunks, want 4", len(cs.arena))
	}
}
