package app

import (
	"testing"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// TestWatchersKeepTheNewestCopy: a follower that has not taken yet gets the newest version
// published for its order, never an older one nor another order's.
func TestWatchersKeepTheNewestCopy(t *testing.T) {
	for _, tc := range []struct {
		name      string
		published []domain.Order
		signalled bool
		want      int64
	}{
		{"nothing", nil, false, -1},
		{"another order", []domain.Order{{TransactionID: "other", Version: 3}}, false, -1},
		{"in order", []domain.Order{{TransactionID: "tx", Version: 1}, {TransactionID: "tx", Version: 2}}, true, 2},
		{"out of order", []domain.Order{{TransactionID: "tx", Version: 3}, {TransactionID: "tx", Version: 2}}, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ws watchers
			w := ws.subscribe("tx")
			for _, o := range tc.published {
				ws.publish(o)
			}
			select {
			case <-w.changed:
				if !tc.signalled {
					t.Error("signalled for nothing of its order")
				}
			default:
				if tc.signalled {
					t.Error("not signalled")
				}
			}
			if got := w.take().Version; got != tc.want {
				t.Errorf("took version %d, want %d", got, tc.want)
			}
			ws.unsubscribe("tx", w)
			if len(ws.subs) != 0 {
				t.Errorf("subscriptions left after unsubscribe: %v", ws.subs)
			}
		})
	}
}
