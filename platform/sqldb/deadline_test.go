package sqldb

import (
	"testing"
	"time"
)

// TestLastDeadline: a reconnect waits for the latest of its callers' deadlines, and for ever if
// one caller has none (a relay's claim), so it never cuts a caller short.
func TestLastDeadline(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *job { return &job{deadline: t0.Add(d), hasDeadline: true} }
	none := &job{}
	tests := []struct {
		name   string
		jobs   []*job
		want   time.Time
		wantOK bool
	}{
		{"one caller", []*job{at(time.Second)}, t0.Add(time.Second), true},
		{"the latest of several", []*job{at(time.Second), at(3 * time.Second), at(2 * time.Second)}, t0.Add(3 * time.Second), true},
		{"one without a deadline", []*job{at(time.Second), none}, time.Time{}, false},
		{"none at all", nil, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lastDeadline(tt.jobs)
			if !got.Equal(tt.want) || ok != tt.wantOK {
				t.Errorf("lastDeadline = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
