package kafka

import (
	"context"
	"testing"
	"time"
)

// TestApplyRewindsSkipsAGenerationAlreadyRewound: an event cancelled by a rewind can record its
// failure only after that rewind (between releasing the partition and recording it, its
// goroutine may wait for a CPU). That failure names a generation already rewound past, so the
// next applyRewinds must leave the partition be: rewinding again would wait, with every
// partition's dispatch, for the events read since, the failing one retrying for RetryFor.
func TestApplyRewindsSkipsAGenerationAlreadyRewound(t *testing.T) {
	cases := []struct {
		name       string
		failedGen  uint64
		inProgress bool // an event of the current generation holds the partition meanwhile
		wantGen    uint64
	}{
		{"a late failure of the generation rewound past", 1, true, 2},
		{"a failure of the current generation", 2, false, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Partition 3 was rewound once: generation 1 is stale, events are read in 2.
			p := &partition{id: 3, ctx: context.Background(), gen: 2, stale: 1}
			p.genCtx, p.cancelGen = context.WithCancel(p.ctx)
			ms := &membership{parts: map[int32]*partition{3: p}, failed: map[int32]uint64{3: tc.failedGen}}
			if tc.inProgress {
				p.running.RLock()
			}
			done := make(chan bool, 1)
			go func() { done <- ms.applyRewinds() }()
			select {
			case ok := <-done:
				if !ok {
					t.Fatal("applyRewinds reported a failed seek")
				}
			case <-time.After(5 * time.Second):
				p.running.RUnlock()
				<-done
				t.Fatal("applyRewinds waited for the event in progress: it rewound a generation already rewound past")
			}
			if tc.inProgress {
				p.running.RUnlock()
			}
			if p.gen != tc.wantGen || p.stale != tc.wantGen-1 {
				t.Errorf("generation %d (stale %d) after applyRewinds, want %d (stale %d)", p.gen, p.stale, tc.wantGen, tc.wantGen-1)
			}
		})
	}
}
