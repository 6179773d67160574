package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// placed is an order a shopper got accepted.
type placed struct {
	id       string
	declined bool // paid with pm_card_declined
	items    []item
}

// shoppers is the steady stream of orders of a fault round. Each shopper places an order, waits
// until it settles and orders again, so the load follows what the platform can take instead of
// piling up a backlog while a server is down.
type shoppers struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	accepted []placed
	count    atomic.Int64
}

// startShoppers starts n shoppers on tg; next(w, i) is shopper w's i-th order and run makes the
// Idempotency-Keys unique. The stream ends at stop or when the test ends.
func startShoppers(t *testing.T, tg *target, n int, run string, next func(w, i int) orderRequest) *shoppers {
	ctx, cancel := context.WithCancel(context.Background())
	s := &shoppers{cancel: cancel}
	for w := range n {
		s.wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				req := next(w, i)
				id, ok := tg.placeWithRetries(ctx, t, req, fmt.Sprintf("%s-%d-%d", run, w, i))
				if !ok {
					return
				}
				s.mu.Lock()
				s.accepted = append(s.accepted, placed{id, req.PaymentMethod == "pm_card_declined", req.Items})
				s.mu.Unlock()
				s.count.Add(1)
				tg.waitSettled(ctx, id)
			}
		})
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// flowing returns once n more orders have been accepted; after timeout it logs where the latest
// ones stand and fails the test.
func (s *shoppers) flowing(t *testing.T, tg *target, what string, n int, timeout time.Duration) {
	t.Helper()
	from := s.count.Load()
	deadline := time.Now().Add(timeout)
	for s.count.Load() < from+int64(n) {
		if time.Now().After(deadline) {
			s.mu.Lock()
			latest := slices.Clone(s.accepted[max(0, len(s.accepted)-8):])
			s.mu.Unlock()
			for _, p := range latest {
				o := tg.order(t, p.id)
				t.Logf("order %s: %s %v", p.id, o.Status, o.historyTypes())
			}
			tg.logLag(t)
			t.Fatalf("orders stopped flowing %s (the latest accepted ones are above)", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the stream and returns every order accepted. Orders already begun are seen through
// (placeWithRetries), so none the test does not know of buys stock.
func (s *shoppers) stop() []placed {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

// checkAtRest checks the invariants every fault round ends with: every accepted order is
// terminal; no declined card completed; an order with a good card ended CANCELLED only for a
// reason goodCardMayCancel allows (nil: never); every COMPLETED order has exactly one standing
// charge and no CANCELLED order keeps one; the stock (each SKU's before the round) is conserved;
// and no event of these orders was dead-lettered (the tests' own poison and drain markers
// aside). It returns how many orders completed and how many expired.
func (tg *target) checkAtRest(t *testing.T, orders []placed, stock map[string]int, goodCardMayCancel func(reason string) bool) (completed, expired int) {
	t.Helper()
	bought := map[string]int{}
	ids := map[string]bool{}
	var cancelled []string
	for _, p := range orders {
		ids[p.id] = true
		o := tg.settled(t, p.id)
		switch o.Status {
		case "COMPLETED":
			completed++
			if p.declined {
				t.Errorf("order %s with a declined card completed", p.id)
			}
			for _, it := range p.items {
				bought[it.SKU] += it.Quantity
			}
			if n, st := tg.successfulCharges(t, p.id), tg.chargeStatus(t, p.id); n != 1 || st != "succeeded" {
				t.Errorf("COMPLETED order %s: %d successful charges, money %q; want exactly one standing", p.id, n, st)
			}
		case "CANCELLED":
			if o.Reason == "EXPIRED" {
				expired++
			}
			if !p.declined && (goodCardMayCancel == nil || !goodCardMayCancel(o.Reason)) {
				t.Errorf("order %s with a good card ended CANCELLED %s", p.id, o.Reason)
			}
			cancelled = append(cancelled, p.id)
		}
	}
	// The compensations of expired orders may still be on their way.
	for _, id := range cancelled {
		eventually(t, 60*time.Second, "no standing charge for CANCELLED order "+id, func() bool { return tg.chargeStatus(t, id) != "succeeded" })
	}
	for sku, before := range stock {
		eventually(t, 60*time.Second, sku+" conserved", func() bool { return tg.product(t, sku).Available == before-bought[sku] })
	}
	for _, topic := range []string{tg.topics.Inventory, tg.topics.Payment, tg.topics.Order} {
		for _, r := range tg.readEvents(t, topic+".dlt") {
			if _, poison := injected.Load(string(r.Value)); !poison && ids[r.Key] {
				t.Errorf("an event of order %s was dead-lettered from %s: %s (%s)", r.Key, topic, r.Headers["dlt_reason"], r.Value)
			}
		}
	}
	t.Logf("%d orders accepted: %d completed, %d expired, %d other cancelled", len(orders), completed, expired, len(orders)-completed-expired)
	return completed, expired
}

// mayExpire lets an order with a good card end CANCELLED only because its deadline passed.
func mayExpire(reason string) bool { return reason == "EXPIRED" }
