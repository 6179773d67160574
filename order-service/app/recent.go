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
type recentOrders struct {
	mu   sync.Mutex
	byID map[string]domain.Order
	ring []string // ids in insertion order, for eviction
	next int
}

func newRecentOrders(size int) *recentOrders {
	return &recentOrders{byID: make(map[string]domain.Order, size), ring: make([]string, size)}
}

// get returns a copy of the order as this process last stored it.
func (r *recentOrders) get(id string) (domain.Order, bool) {
	r.mu.Lock()
	o, ok := r.byID[id]
	r.mu.Unlock()
	return clone(o), ok
}

// put records o as stored, evicting the oldest entry when full.
func (r *recentOrders) put(o domain.Order) {
	o = clone(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[o.TransactionID]; !ok {
		if old := r.ring[r.next]; old != "" {
			delete(r.byID, old)
		}
		r.ring[r.next] = o.TransactionID
		r.next = (r.next + 1) % len(r.ring)
	}
	r.byID[o.TransactionID] = o
}

// drop forgets an order whose stored state is unknown.
func (r *recentOrders) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, id) // its ring slot is reused in turn
}

// clone copies o's lists, so callers never share them with the cache.
func clone(o domain.Order) domain.Order {
	o.Items, o.History = slices.Clone(o.Items), slices.Clone(o.History)
	return o
}

// recentKeysSize bounds how many idempotency keys recentKeys keeps: the orders of several
// seconds at the saga's rate, when a client that lost its 202 retries.
const recentKeysSize = 10_000

// recentKeys remembers the idempotency keys of the orders this process accepted last, so that
// while the admission gate is full a retry of one is answered with its order without a read
// of the store (a refusal must stay cheap: under overload it is most of the requests).
type recentKeys struct {
	mu    sync.Mutex
	byKey map[string]IdempotencyKey
	ring  []string
	next  int
}

func newRecentKeys(size int) *recentKeys {
	return &recentKeys{byKey: make(map[string]IdempotencyKey, size), ring: make([]string, size)}
}

// get returns the recorded key k, if this process accepted its order lately.
func (r *recentKeys) get(k string) (IdempotencyKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key, ok := r.byKey[k]
	return key, ok
}

// put records key, evicting the oldest when full.
func (r *recentKeys) put(key IdempotencyKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byKey[key.Key]; !ok {
		if old := r.ring[r.next]; old != "" {
			delete(r.byKey, old)
		}
		r.ring[r.next] = key.Key
		r.next = (r.next + 1) % len(r.ring)
	}
	r.byKey[key.Key] = key
}
