package app

import "testing"

func TestNewestKeepsTheValuesPutLast(t *testing.T) {
	n := newNewest[int](3)
	n.put("a", 1) // slot 0
	n.put("b", 2) // slot 1
	n.drop("a")
	n.put("a", 3) // slot 2: slot 0 still names a
	n.put("b", 4) // again: a new value, b keeps slot 1
	n.put("c", 5) // slot 0: a lives in slot 2 now, so nothing is forgotten
	n.put("d", 6) // slot 1: forgets b, the oldest
	for _, tc := range []struct {
		key  string
		want int
		ok   bool
	}{
		{"a", 3, true},
		{"b", 0, false},
		{"c", 5, true},
		{"d", 6, true},
		{"never", 0, false},
	} {
		if got, ok := n.get(tc.key); ok != tc.ok || got != tc.want {
			t.Errorf("get(%q) = %d, %v; want %d, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}
