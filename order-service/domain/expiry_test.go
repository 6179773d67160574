package domain_test

import (
	"testing"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// TestExpireRaces plays expiry against the saga's events in every order that matters: the
// first terminal outcome recorded stands, later ones are recorded without effect.
func TestExpireRaces(t *testing.T) {
	const deadline = 30 * time.Second
	due := t0.Add(deadline)
	// A step is an event (by type) or, for event.TypeOrderExpired, the sweeper calling Expire at
	// the given time.
	type step struct {
		typ event.Type
		at  time.Time
	}
	expireAt := func(at time.Time) step { return step{event.TypeOrderExpired, at} }
	tests := []struct {
		name        string
		steps       []step
		wantStatus  domain.Status
		wantReason  string
		wantApplied []bool // Applied of each history entry after ORDER_CREATE
		wantChanged []bool // what each step reported
	}{
		{name: "pending at the deadline expires", steps: []step{expireAt(due)},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true}, wantChanged: []bool{true}},
		{name: "reserved past the deadline expires", steps: []step{{typ: event.TypeItemReserved}, expireAt(due.Add(time.Hour))},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true, true}, wantChanged: []bool{true, true}},
		{name: "not yet due", steps: []step{{typ: event.TypeItemReserved}, expireAt(due.Add(-time.Nanosecond))},
			wantStatus: domain.StatusReserved, wantApplied: []bool{true}, wantChanged: []bool{true, false}},
		{name: "completion recorded first stands", steps: []step{{typ: event.TypeItemReserved}, {typ: event.TypePaymentComplete}, expireAt(due)},
			wantStatus: domain.StatusCompleted, wantApplied: []bool{true, true}, wantChanged: []bool{true, true, false}},
		{name: "expiry recorded first stands over a late payment", steps: []step{{typ: event.TypeItemReserved}, expireAt(due), {typ: event.TypePaymentComplete}},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true, true, false}, wantChanged: []bool{true, true, true}},
		{name: "expiry before the reservation arrives", steps: []step{expireAt(due), {typ: event.TypeItemReserved}, {typ: event.TypePaymentComplete}},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true, false, false}, wantChanged: []bool{true, true, true}},
		{name: "out of stock recorded first stands", steps: []step{{typ: event.TypeOutOfStock}, expireAt(due)},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonUnknownSKU, wantApplied: []bool{true}, wantChanged: []bool{true, false}},
		{name: "payment declined recorded first stands", steps: []step{{typ: event.TypeItemReserved}, {typ: event.TypeItemReleased}, expireAt(due)},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonPaymentDeclined, wantApplied: []bool{true, true}, wantChanged: []bool{true, true, false}},
		{name: "release after expiry is only recorded", steps: []step{{typ: event.TypeItemReserved}, expireAt(due), {typ: event.TypeItemReleased}},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true, true, false}, wantChanged: []bool{true, true, true}},
		{name: "expires once", steps: []step{expireAt(due), expireAt(due.Add(time.Second))},
			wantStatus: domain.StatusCancelled, wantReason: event.ReasonExpired, wantApplied: []bool{true}, wantChanged: []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrder(t)
			for i, s := range tt.steps {
				var changed bool
				if s.typ == event.TypeOrderExpired {
					changed = o.Expire(s.at, deadline)
				} else {
					var err error
					if changed, err = o.Apply(ev(s.typ, i+1)); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
				if changed != tt.wantChanged[i] {
					t.Errorf("step %d (%s): changed %v, want %v", i, s.typ, changed, tt.wantChanged[i])
				}
			}
			if o.Status != tt.wantStatus || o.Reason != tt.wantReason {
				t.Errorf("status %s reason %q, want %s %q", o.Status, o.Reason, tt.wantStatus, tt.wantReason)
			}
			var applied []bool
			for _, h := range o.History[1:] {
				applied = append(applied, h.Applied)
			}
			if len(applied) != len(tt.wantApplied) {
				t.Fatalf("history %+v, want %d entries after ORDER_CREATE", o.History, len(tt.wantApplied))
			}
			for i := range applied {
				if applied[i] != tt.wantApplied[i] {
					t.Errorf("history[%d] %s applied %v, want %v", i+1, o.History[i+1].Type, applied[i], tt.wantApplied[i])
				}
			}
		})
	}
}

func TestExpireRecordsORDER_EXPIRED(t *testing.T) {
	o := newOrder(t)
	at := t0.Add(time.Minute)
	if !o.Expire(at, 30*time.Second) {
		t.Fatal("a pending order past its deadline did not expire")
	}
	want := domain.HistoryEntry{EventID: event.IDFor("tx-1", event.TypeOrderExpired), Type: event.TypeOrderExpired, At: at, Applied: true}
	if last := o.History[len(o.History)-1]; last != want || !o.UpdatedAt.Equal(at) {
		t.Errorf("last history entry %+v, updatedAt %v; want %+v at %v", last, o.UpdatedAt, want, at)
	}
	if got := o.Deadline(30 * time.Second); !got.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("deadline %v, want createdAt + 30s", got)
	}
}
