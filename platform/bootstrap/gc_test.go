package bootstrap

import "testing"

func TestGCPercentLeavesAnOperatorsGOGCAlone(t *testing.T) {
	for _, tc := range []struct {
		gogc    string
		percent int
		set     bool
	}{
		{"", DefaultGCPercent, true},
		{"100", 0, false},
		{"off", 0, false},
	} {
		percent, set := gcPercent(tc.gogc)
		if percent != tc.percent || set != tc.set {
			t.Errorf("gcPercent(%q) = %d, %v; want %d, %v", tc.gogc, percent, set, tc.percent, tc.set)
		}
	}
}
