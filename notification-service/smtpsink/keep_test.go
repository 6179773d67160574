package smtpsink

import (
	"strconv"
	"testing"
)

// TestSinkKeepsTheNewestMessages: past Keep e-mails the oldest are forgotten, and the listing
// shows exactly the newest Keep, oldest first, however many came in.
func TestSinkKeepsTheNewestMessages(t *testing.T) {
	for _, tt := range []struct {
		keep, added int
		wantFirst   int // the sequence number of the oldest listed
	}{
		{keep: 4, added: 0},
		{keep: 4, added: 3, wantFirst: 1},
		{keep: 4, added: 4, wantFirst: 1},
		{keep: 4, added: 5, wantFirst: 2},
		{keep: 4, added: 6, wantFirst: 3}, // the first trim, at keep + keep/4 + 1
		{keep: 4, added: 23, wantFirst: 20},
		{keep: 0, added: DefaultKeep + 7, wantFirst: 8},
	} {
		t.Run(strconv.Itoa(tt.keep)+"/"+strconv.Itoa(tt.added), func(t *testing.T) {
			s := New(nil)
			s.Keep = tt.keep
			for range tt.added {
				s.add(Message{})
			}
			got := s.Messages()
			want := min(tt.added, s.keep())
			if len(got) != want {
				t.Fatalf("%d messages listed, want %d", len(got), want)
			}
			for i, m := range got {
				if m.ID != strconv.Itoa(tt.wantFirst+i) {
					t.Fatalf("message %d has ID %s, want %d", i, m.ID, tt.wantFirst+i)
				}
			}
			if len(s.all) > s.keep()+s.keep()/4 {
				t.Errorf("holds %d messages, more than Keep %d and a quarter", len(s.all), s.keep())
			}
		})
	}
}
