package app

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// FollowOrder reports an order's history as it grows: first send gets every entry so far with
// the order, then each later call gets the entries recorded since, with the order as it stands
// after them. It returns nil after the call that saw the order terminal, ErrNotFound for an
// unknown order, the context's error when ctx ends first, or send's error.
//
// Entries recorded by this process arrive as they are stored (apply publishes them); entries
// recorded by other replicas are found by reading the store every poll. Nothing is lost
// between the first read and the first notification: the subscription is made before the read,
// every notification carries the whole order, and entries are told apart by event id.
func (a *App) FollowOrder(ctx context.Context, transactionID string, poll time.Duration, send func(entries []domain.HistoryEntry, o domain.Order) error) error {
	w := a.watch.subscribe(transactionID)
	defer a.watch.unsubscribe(transactionID, w)
	o, err := a.repo.GetOrder(ctx, transactionID)
	if err != nil {
		return err
	}
	sent := make(map[string]bool)
	version := int64(-1)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		// Versions only grow, so an older copy (a notification overtaken by a read) says nothing new.
		if o.Version > version {
			version = o.Version
			var fresh []domain.HistoryEntry
			for _, h := range o.History {
				if !sent[h.EventID] {
					sent[h.EventID] = true
					fresh = append(fresh, h)
				}
			}
			if len(fresh) > 0 || len(sent) == 0 {
				if err := send(fresh, o); err != nil {
					return err
				}
			}
			if terminal(o.Status) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.changed:
			o = w.take()
		case <-ticker.C:
			if o, err = a.repo.GetOrder(ctx, transactionID); err != nil {
				return err
			}
		}
	}
}

// recorded tells FollowOrder calls that o (as read, before UpdateOrder bumped its version) was
// stored.
func (a *App) recorded(o domain.Order) {
	o.Version++
	o.History = slices.Clone(o.History)
	a.watch.publish(o)
}

// watchers fans stored orders out to the FollowOrder calls of this process. The zero value is
// ready to use.
type watchers struct {
	mu   sync.Mutex
	subs map[string]map[*watcher]struct{}
}

// watcher holds the newest copy of one order a follower has not taken yet: a slow follower
// skips versions but never misses entries, since each copy holds the whole history.
type watcher struct {
	mu      sync.Mutex
	latest  domain.Order
	changed chan struct{} // capacity 1: "latest is newer than what you took"
}

func (ws *watchers) subscribe(id string) *watcher {
	w := &watcher{changed: make(chan struct{}, 1), latest: domain.Order{Version: -1}}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.subs == nil {
		ws.subs = make(map[string]map[*watcher]struct{})
	}
	if ws.subs[id] == nil {
		ws.subs[id] = make(map[*watcher]struct{})
	}
	ws.subs[id][w] = struct{}{}
	return w
}

func (ws *watchers) unsubscribe(id string, w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.subs[id], w)
	if len(ws.subs[id]) == 0 {
		delete(ws.subs, id)
	}
}

func (ws *watchers) publish(o domain.Order) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.subs[o.TransactionID] {
		w.mu.Lock()
		if o.Version > w.latest.Version {
			w.latest = o
		}
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default: // already signalled; the follower will take the newest copy
		}
	}
}

func (w *watcher) take() domain.Order {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest
}
