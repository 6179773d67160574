package app

import "testing"

func TestDriftLeavesWhatWritesInProgressExplain(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		stored, local, slack int
		want                 int
	}{
		{"counts agree", 5, 5, 0, 0},
		{"a create in progress, not stored yet", 4, 5, 1, 0},
		{"a settle in progress, stored already", 4, 5, 1, 0},
		{"another replica settled orders accepted here", 2, 9, 1, -6},
		{"orders accepted elsewhere settled here", 0, -4, 0, 4},
		{"drift beyond the writes in progress", 10, 3, 2, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := drift(tc.stored, tc.local, tc.slack); got != tc.want {
				t.Errorf("drift(stored %d, local %d, slack %d) = %d, want %d", tc.stored, tc.local, tc.slack, got, tc.want)
			}
		})
	}
}

func TestPersistentCorrectsOnlyWhatTheLastRecountSawToo(t *testing.T) {
	for _, tc := range []struct {
		name        string
		drift, prev int
		want        int
	}{
		{"nothing", 0, 0, 0},
		{"first seen", 4, 0, 0},
		{"seen again, grown", 7, 4, 4},
		{"seen again, shrunk", 2, 4, 2},
		{"gone", 0, 4, 0},
		{"turned", -3, 4, 0},
		{"below, seen again", -5, -2, -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := persistent(tc.drift, tc.prev); got != tc.want {
				t.Errorf("persistent(%d, %d) = %d, want %d", tc.drift, tc.prev, got, tc.want)
			}
		})
	}
}
