package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

func TestBackoffDelayIsExponentialWithEqualJitterAndBounded(t *testing.T) {
	b := kafka.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	cases := []struct {
		n        int
		r        float64
		min, max time.Duration // the delay must lie in [min, max]
	}{
		{0, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		{0, 0.999, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 0, 100 * time.Millisecond, 100 * time.Millisecond},
		{1, 0.5, 150 * time.Millisecond, 150 * time.Millisecond},
		{2, 0.999, 200 * time.Millisecond, 400 * time.Millisecond},
		{3, 0.999, 400 * time.Millisecond, 800 * time.Millisecond},
		{4, 0, 500 * time.Millisecond, 500 * time.Millisecond}, // capped at Max: half of 1 s
		{4, 0.999, 500 * time.Millisecond, time.Second},
		{60, 0.999, 500 * time.Millisecond, time.Second}, // no overflow however many attempts
		{1000, 0, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d,r=%v", c.n, c.r), func(t *testing.T) {
			if d := b.Delay(c.n, c.r); d < c.min || d > c.max {
				t.Errorf("Delay(%d, %v) = %v, want within [%v, %v]", c.n, c.r, d, c.min, c.max)
			}
		})
	}
}

func TestBackoffDefaultsAndJitterSpread(t *testing.T) {
	var zero kafka.Backoff
	if d := zero.Delay(0, 0); d != kafka.DefaultBackoff.Initial/2 {
		t.Errorf("zero Backoff first delay %v, want half of the default initial %v", d, kafka.DefaultBackoff.Initial)
	}
	if d := zero.Delay(100, 0.999); d > kafka.DefaultBackoff.Max {
		t.Errorf("zero Backoff delay %v exceeds the default max %v", d, kafka.DefaultBackoff.Max)
	}
	// Different random draws give different delays: consumers do not retry in lockstep.
	b := kafka.DefaultBackoff
	seen := map[time.Duration]bool{}
	for _, r := range []float64{0, 0.25, 0.5, 0.75} {
		seen[b.Delay(3, r)] = true
	}
	if len(seen) != 4 {
		t.Errorf("4 draws gave %d distinct delays, want jitter", len(seen))
	}
}

func TestRetry(t *testing.T) {
	fast := kafka.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}
	transient := errors.New("store unavailable")
	invalid := fmt.Errorf("%w: bad payload", event.ErrInvalid)
	cases := []struct {
		name      string
		failures  int   // attempts that fail before one succeeds
		err       error // what a failing attempt returns
		retryFor  time.Duration
		wantCalls int
		wantErr   error
	}{
		{"success at once", 0, transient, time.Minute, 1, nil},
		{"transient failures are retried until they pass", 5, transient, time.Minute, 6, nil},
		{"an invalid event is not retried", 1, invalid, time.Minute, 1, event.ErrInvalid},
		{"retryFor spent returns the transient error, not a dead letter", 1 << 30, transient, 20 * time.Millisecond, -1, transient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			h := kafka.Retry(fast, c.retryFor, quiet)(func(context.Context, event.Event) error {
				calls++
				if calls <= c.failures {
					return c.err
				}
				return nil
			})
			err := h(context.Background(), event.Event{})
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
			if errors.Is(err, transient) && errors.Is(err, event.ErrInvalid) {
				t.Errorf("a transient error became invalid: %v", err)
			}
			if c.wantCalls >= 0 && calls != c.wantCalls {
				t.Errorf("%d calls, want %d", calls, c.wantCalls)
			}
			if c.wantCalls < 0 && calls < 2 {
				t.Errorf("%d calls, want several within retryFor", calls)
			}
		})
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	h := kafka.Retry(kafka.Backoff{Initial: time.Hour, Max: time.Hour}, 24*time.Hour, quiet)(func(context.Context, event.Event) error {
		calls++
		cancel() // the consumer stops while the first attempt runs
		return errors.New("store unavailable")
	})
	done := make(chan error, 1)
	go func() { done <- h(ctx, event.Event{}) }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, event.ErrInvalid) {
			t.Errorf("err = %v, want the transient error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Retry kept waiting after its context ended")
	}
	if calls != 1 {
		t.Errorf("%d calls after the context ended, want 1", calls)
	}
}

func TestTimeoutBoundsEachAttempt(t *testing.T) {
	cases := []struct {
		name         string
		d            time.Duration
		wantDeadline bool
	}{
		{"a timeout sets a deadline", 50 * time.Millisecond, true},
		{"no timeout", -1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var deadline time.Time
			var ok bool
			h := kafka.Timeout(c.d)(func(ctx context.Context, _ event.Event) error {
				deadline, ok = ctx.Deadline()
				return nil
			})
			start := time.Now()
			if err := h(context.Background(), event.Event{}); err != nil {
				t.Fatal(err)
			}
			if ok != c.wantDeadline || (ok && (deadline.Sub(start) < c.d || deadline.Sub(start) > c.d+time.Second)) {
				t.Errorf("deadline %v (set %v), want within %v", deadline.Sub(start), ok, c.d)
			}
		})
	}
	// A hung call ends with its context's error, which Retry treats as transient.
	h := kafka.Timeout(time.Millisecond)(func(ctx context.Context, _ event.Event) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err := h(context.Background(), event.Event{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung handler returned %v, want deadline exceeded", err)
	}
}

func TestHandlerTimeoutIsWellInsideTheMaxPollInterval(t *testing.T) {
	if kafka.DefaultHandlerTimeout*10 > kafka.MaxPollInterval {
		t.Errorf("handler timeout %v is not well inside max.poll.interval.ms %v", kafka.DefaultHandlerTimeout, kafka.MaxPollInterval)
	}
}
