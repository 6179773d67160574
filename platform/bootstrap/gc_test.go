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

func TestProcsLeavesAnOperatorsGOMAXPROCSAlone(t *testing.T) {
	for _, tc := range []struct {
		gomaxprocs string
		chosen     int
		n          int
		set        bool
	}{
		{"", 2, 2 * ProcsPerCPU, true},
		{"", 1, ProcsPerCPU, true},
		{"", 0, ProcsPerCPU, true},
		{"3", 2, 0, false},
	} {
		n, set := procs(tc.gomaxprocs, tc.chosen)
		if n != tc.n || set != tc.set {
			t.Errorf("procs(%q, %d) = %d, %v; want %d, %v", tc.gomaxprocs, tc.chosen, n, set, tc.n, tc.set)
		}
	}
}
