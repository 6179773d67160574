package app

import (
	"slices"
	"sync"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// recentSize bounds how many orders recentOrders keeps: enough for every order in flight at a
// few thousand orders per second. Settled orders leave it at once (see apply).
const recentSize = 50_000

// recentOrders remembers the orders in flight this process stored last, as stored, so applying an
// event needs no read first: the write is conditional on the version, so an entry that went
// stale (another instance wrote the order since) costs only a conflict and a fresh read. On
// DynamoDB that is one round trip of two per event.
type recentOrders struct{ newest[domain.Order] }

func newRecentOrders(size int) *recentOrders { return &recentOrders{newNewest[domain.Order](size)} }

// get returns a copy of the order as this process last stored it.
func (r *recentOrders) get(id string) (domain.Order, bool) {
	o, ok := r.newest.get(id)
	return clone(o), ok
}

// put records o as stored, forgetting the oldest entry when full.
func (r *recentOrders) put(o domain.Order) { r.newest.put(o.TransactionID, clone(o)) }

// newest is a map that keeps the values put last: past its size, a put forgets the oldest.
type newest[V any] struct {
	mu    sync.Mutex
	byKey map[string]slotted[V]
	ring  []string // keys in the order they were put, for forgetting
	next  int
}

// slotted is a value and the ring slot of its key, so that a slot reused after its key was
// dropped and put again forgets nothing newer.
type slotted[V any] struct {
	v    V
	slot int
}

func newNewest[V any](size int) newest[V] {
	return newest[V]{byKey: make(map[string]slotted[V], size), ring: make([]string, size)}
}

func (n *newest[V]) get(k string) (V, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.byKey[k]
	return e.v, ok
}

func (n *newest[V]) put(k string, v V) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e, ok := n.byKey[k]; ok {
		n.byKey[k] = slotted[V]{v, e.slot}
		return
	}
	if old := n.ring[n.next]; old != "" && n.byKey[old].slot == n.next {
		delete(n.byKey, old)
	}
	n.ring[n.next] = k
	n.byKey[k] = slotted[V]{v, n.next}
	n.next = (n.next + 1) % len(n.ring)
}

// drop forgets k (an order whose stored state is unknown); its ring slot is reused in turn.
func (n *newest[V]) drop(k string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.byKey, k)
}

// clone copies o's lists, so callers never share them with the cache.
func clone(o domain.Order) domain.Order {
	o.Items, o.History = slices.Clone(o.Items), slices.Clone(o.History)
	return o
}

// recentKeysSize bounds how many idempotency keys App.keys keeps: the orders of several
// seconds at the saga's rate, when a client that lost its 202 retries.
const recentKeysSize = 10_000
