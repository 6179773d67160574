package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// placed is one order the generator tried to place.
type placed struct {
	key, id, sku, card string
	post               time.Duration
	err                error
}

// placement is what placing a batch of orders gave.
type placement struct {
	orders  []placed // accepted, in placing order
	refused int
	failed  int
	sample  []string
	posts   []time.Duration
	elapsed time.Duration
}

func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// place sends one order and records the outcome in p under mu. It reports whether the order
// was refused for overload (503).
func (c *Client) place(ctx context.Context, run string, i int, sku, card string, mu *sync.Mutex, p *placement) (refused bool) {
	o := placed{key: fmt.Sprintf("lg-%s-%d", run, i), sku: sku, card: card}
	start := time.Now()
	o.id, o.err = c.PlaceOrder(ctx, o.key, "loadgen-"+run, sku, 1, card)
	o.post = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	var se *StatusError
	switch {
	case o.err == nil:
		p.orders = append(p.orders, o)
		p.posts = append(p.posts, o.post)
	case errors.As(o.err, &se) && se.Status == 503:
		refused = true
		p.refused++
		if len(p.sample) < 3 {
			p.sample = append(p.sample, fmt.Sprintf("503 Retry-After=%q %s", se.RetryAfter, se.Body))
		}
	default:
		p.failed++
		if len(p.sample) < 6 {
			p.sample = append(p.sample, o.err.Error())
		}
	}
	return refused
}

// placeClosed places n orders with clients concurrent clients, each sending its next order as
// soon as the last one was answered. spec gives order i's SKU and card. An order refused for
// overload is counted and sent again (same idempotency key) after a pause that starts at
// 25-50 ms and doubles up to the 1 s of Retry-After: shorter than Retry-After at first so that
// a benchmark keeps the platform at its limit, backing off so that refusals do not eat the
// CPU the saga needs.
func (c *Client) placeClosed(ctx context.Context, run string, n, clients int, spec func(i int) (sku, card string)) placement {
	var p placement
	var mu sync.Mutex
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				sku, card := spec(i)
				for wait := 50 * time.Millisecond; c.place(ctx, run, i, sku, card, &mu, &p) && ctx.Err() == nil; wait = min(2*wait, time.Second) {
					time.Sleep(wait/2 + mrand.N(wait/2))
				}
			}
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	return p
}

// waitTerminal polls the orders until every one is terminal or timeout has passed, with
// workers concurrent readers, and returns those that are (done) and those that are not. It
// polls the newest orders alone first (as many as there were clients, at least newest), then
// the others. The saga settles orders about in the order they came, so when the newest are
// terminal nearly all are. Reading every order at once instead, while the last few hundred
// still settled, sent the platform one GET per order (20,000 in the closed loop) exactly while
// the run's last orders were settling, and a run's span ends at the last one's updatedAt: the
// load generator slowed what it measured.
func (c *Client) waitTerminal(ctx context.Context, orders []placed, workers int, timeout time.Duration) (done map[string]Order, pending []placed) {
	done = make(map[string]Order, len(orders))
	deadline := time.Now().Add(timeout)
	split := max(0, len(orders)-max(newest, workers))
	newestCtx, cancel := context.WithDeadline(ctx, deadline)
	stuck := c.poll(newestCtx, orders[split:], workers, deadline, done)
	cancel()
	return done, append(c.poll(ctx, orders[:split], workers, deadline, done), stuck...)
}

// newest is how many of the last placed orders waitTerminal polls alone at least.
const newest = 32

// poll reads the orders in passes until every one is terminal (it puts those in done) or
// deadline has passed, and returns the others. Latencies come from the orders' own
// timestamps, so polling need not be prompt: each pass reads pending orders oldest first and
// gives up for a while once it meets many that are still running, which keeps the readers
// from loading the service they measure.
func (c *Client) poll(ctx context.Context, pending []placed, workers int, deadline time.Time, done map[string]Order) []placed {
	budget := int64(max(256, 4*workers))
	for len(pending) > 0 && ctx.Err() == nil {
		var next, misses atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range min(workers, len(pending)) {
			wg.Go(func() {
				for misses.Load() < budget {
					i := int(next.Add(1)) - 1
					if i >= len(pending) {
						return
					}
					o, err := c.GetOrder(ctx, pending[i].id)
					if err != nil || !o.Terminal() {
						misses.Add(1)
						continue
					}
					mu.Lock()
					done[o.TransactionID] = o
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		pending = slices.DeleteFunc(slices.Clone(pending), func(p placed) bool {
			_, ok := done[p.id]
			return ok
		})
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return pending
}

// settle waits for the accepted orders and fills r: counts by status and reason, latencies,
// rates, and the invariants every run checks (every order terminal, no declined card
// completed). It returns the terminal orders by id.
func (c *Client) settle(ctx context.Context, r *Result, p placement, workers int, timeout time.Duration) map[string]Order {
	r.Accepted, r.Refused, r.Failed, r.Refusals = len(p.orders), p.refused, p.failed, p.sample
	r.Violations = []string{} // [] rather than null in -json when every invariant holds
	r.Post = summarize(p.posts)
	for _, o := range p.orders {
		r.AcceptedIDs = append(r.AcceptedIDs, o.id)
	}
	if p.elapsed > 0 {
		r.PlacedPerSec = float64(len(p.orders)) / p.elapsed.Seconds()
	}
	if p.failed > 0 {
		r.violate("%d orders failed to be placed (neither 202 nor 503)", p.failed)
	}
	done, pending := c.waitTerminal(ctx, p.orders, workers, timeout)
	if len(pending) > 0 {
		r.violate("%d orders not terminal %s after placing ended (first: %s)", len(pending), timeout, pending[0].id)
	}
	r.ByStatus, r.ByReason = map[string]int{}, map[string]int{}
	var first, last time.Time
	lat := make([]time.Duration, 0, len(done))
	declinedCompleted := 0
	for _, pl := range p.orders {
		o, ok := done[pl.id]
		if !ok {
			r.ByStatus["NOT_TERMINAL"]++
			continue
		}
		r.ByStatus[o.Status]++
		if o.Reason != "" {
			r.ByReason[o.Reason]++
		}
		if o.Status == StatusCompleted && pl.card == DecliningCard {
			declinedCompleted++
		}
		lat = append(lat, o.UpdatedAt.Sub(o.CreatedAt))
		if first.IsZero() || o.CreatedAt.Before(first) {
			first = o.CreatedAt
		}
		if o.UpdatedAt.After(last) {
			last = o.UpdatedAt
		}
	}
	if declinedCompleted > 0 {
		r.violate("%d orders paid with the declining card %s are COMPLETED", declinedCompleted, DecliningCard)
	}
	r.PlaceToTerminal = summarize(lat)
	if span := last.Sub(first); span > 0 {
		r.SettledPerSec = float64(len(done)) / span.Seconds()
	}
	return done
}

// stockOnSale creates the run's SKUs through the operator API, each with its stock.
func (c *Client) stockOnSale(ctx context.Context, stock map[string]int) error {
	for sku, n := range stock {
		p, err := c.PutProduct(ctx, Product{SKU: sku, Name: "loadgen " + sku, Price: 1000, Currency: "EUR", Available: n})
		if err != nil {
			return fmt.Errorf("stock %s through the operator API: %w", sku, err)
		}
		if p.Available != n {
			return fmt.Errorf("stock %s: the operator API answered available %d, want %d", sku, p.Available, n)
		}
	}
	return nil
}

// checkStock reads what is left of each SKU and checks it against the units sold: stock only
// leaves through COMPLETED orders once every order is terminal, and never more than was put on
// sale.
func (c *Client) checkStock(ctx context.Context, r *Result, stock map[string]int, orders []placed, done map[string]Order) {
	sold := map[string]int{}
	for _, pl := range orders {
		if o, ok := done[pl.id]; ok && o.Status == StatusCompleted {
			sold[pl.sku]++
		}
	}
	r.Stock, r.StockLeft = stock, map[string]int{}
	for sku, n := range stock {
		if sold[sku] > n {
			r.violate("%s: %d orders COMPLETED for a stock of %d (oversold)", sku, sold[sku], n)
		}
		p, err := c.GetProduct(ctx, sku)
		if err != nil {
			r.violate("read %s at the end: %v", sku, err)
			continue
		}
		r.StockLeft[sku] = p.Available
		if r.ByStatus["NOT_TERMINAL"] == 0 && p.Available != n-sold[sku] {
			r.violate("%s: %d available at the end, want %d on sale - %d sold = %d", sku, p.Available, n, sold[sku], n-sold[sku])
		}
	}
}
