package app

import "testing"

func TestRecentKeysKeepTheNewest(t *testing.T) {
	keys := newRecentKeys(2)
	a, b, c := IdempotencyKey{Key: "a", TransactionID: "tx-a"}, IdempotencyKey{Key: "b", TransactionID: "tx-b"}, IdempotencyKey{Key: "c", TransactionID: "tx-c"}
	keys.put(a)
	keys.put(b)
	keys.put(a) // again: still one entry
	keys.put(c) // evicts the oldest, a
	for _, tc := range []struct {
		key  string
		want IdempotencyKey
		ok   bool
	}{
		{"a", IdempotencyKey{}, false},
		{"b", b, true},
		{"c", c, true},
		{"never", IdempotencyKey{}, false},
	} {
		if got, ok := keys.get(tc.key); ok != tc.ok || got != tc.want {
			t.Errorf("get(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}
