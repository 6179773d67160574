package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ClosedLoop is a run of Orders one-unit orders by Clients concurrent clients, spread round
// robin over SKUs SKUs it stocks with exactly what the orders need; DeclinedShare of them
// (0..1) pay with the declining card.
type ClosedLoop struct {
	Orders, Clients, SKUs int
	DeclinedShare         float64
	// SettleTimeout is how long orders may take to become terminal after placing ended.
	SettleTimeout time.Duration
}

// declined reports whether order i of a run pays with the declining card: share of every 1,000
// consecutive orders, spread evenly.
func declined(i int, share float64) bool {
	per := int(share*1000 + 0.5)
	return (i%1000)*per/1000 != ((i%1000)+1)*per/1000
}

// RunClosedLoop places the orders, waits for all of them and checks the invariants: every
// order terminal, declined cards CANCELLED, approved ones COMPLETED (their stock is there),
// and each SKU's stock down by exactly what was sold.
func (c *Client) RunClosedLoop(ctx context.Context, cfg ClosedLoop) (Result, error) {
	run := newRunID()
	cfg.SKUs = max(1, cfg.SKUs)
	skus := make([]string, cfg.SKUs)
	stock := map[string]int{}
	for k := range skus {
		skus[k] = fmt.Sprintf("LG-%s-%d", run, k)
	}
	for i := range cfg.Orders {
		stock[skus[i%len(skus)]]++
	}
	if err := c.stockOnSale(ctx, stock); err != nil {
		return Result{}, err
	}
	r := Result{Mode: "closed loop", Orders: cfg.Orders, Clients: cfg.Clients}
	p := c.placeClosed(ctx, run, cfg.Orders, cfg.Clients, func(i int) (string, string) {
		if declined(i, cfg.DeclinedShare) {
			return skus[i%len(skus)], DecliningCard
		}
		return skus[i%len(skus)], ApprovingCard
	})
	done := c.settle(ctx, &r, p, cfg.Clients, cfg.SettleTimeout)
	cancelledApproved := 0
	for _, pl := range p.orders {
		if o, ok := done[pl.id]; ok && pl.card == ApprovingCard && o.Status != StatusCompleted {
			cancelledApproved++
		}
	}
	if cancelledApproved > 0 {
		r.violate("%d orders with an approving card and stock for them were not COMPLETED", cancelledApproved)
	}
	c.checkStock(ctx, &r, stock, p.orders, done)
	return r, ctx.Err()
}

// FlashSale is Orders one-unit orders by Clients concurrent clients for one SKU stocked with
// Stock units, all paid with an approving card.
type FlashSale struct {
	Orders, Clients, Stock int
	SettleTimeout          time.Duration
}

// RunFlashSale places the orders and checks that exactly min(Orders, Stock) end COMPLETED, the
// rest CANCELLED, and that the stock ends at Stock minus that (0 when oversubscribed).
func (c *Client) RunFlashSale(ctx context.Context, cfg FlashSale) (Result, error) {
	run := newRunID()
	sku := fmt.Sprintf("LG-%s-FLASH", run)
	stock := map[string]int{sku: cfg.Stock}
	if err := c.stockOnSale(ctx, stock); err != nil {
		return Result{}, err
	}
	r := Result{Mode: "flash sale", Orders: cfg.Orders, Clients: cfg.Clients}
	p := c.placeClosed(ctx, run, cfg.Orders, cfg.Clients, func(int) (string, string) { return sku, ApprovingCard })
	done := c.settle(ctx, &r, p, cfg.Clients, cfg.SettleTimeout)
	if want := min(len(p.orders), cfg.Stock); r.ByStatus[StatusCompleted] != want && r.ByStatus["NOT_TERMINAL"] == 0 {
		r.violate("%d orders COMPLETED, want exactly %d (%d accepted for a stock of %d)", r.ByStatus[StatusCompleted], want, len(p.orders), cfg.Stock)
	}
	c.checkStock(ctx, &r, stock, p.orders, done)
	return r, ctx.Err()
}

// OpenLoop offers Rate orders per second for Duration whatever the answers, spread over SKUs
// SKUs, DeclinedShare of them with the declining card. MaxOutstanding bounds the requests in
// flight; an order due while that many are out is counted as failed, so the generator never
// hides overload by slowing down.
type OpenLoop struct {
	Rate           float64
	Duration       time.Duration
	SKUs           int
	DeclinedShare  float64
	MaxOutstanding int
	SettleTimeout  time.Duration
}

// RunOpenLoop offers the orders, waits for the accepted ones and checks the invariants.
func (c *Client) RunOpenLoop(ctx context.Context, cfg OpenLoop) (Result, error) {
	run := newRunID()
	total := int(cfg.Rate * cfg.Duration.Seconds())
	cfg.SKUs = max(1, cfg.SKUs)
	if cfg.MaxOutstanding <= 0 {
		cfg.MaxOutstanding = 4096
	}
	skus := make([]string, cfg.SKUs)
	stock := map[string]int{}
	for k := range skus {
		skus[k] = fmt.Sprintf("LG-%s-%d", run, k)
	}
	for i := range total {
		stock[skus[i%len(skus)]]++
	}
	if err := c.stockOnSale(ctx, stock); err != nil {
		return Result{}, err
	}
	r := Result{Mode: "open loop", OfferedPerSec: cfg.Rate, Duration: cfg.Duration.String()}
	var p placement
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, cfg.MaxOutstanding)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now()
	dropped := 0
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case slots <- struct{}{}:
		default:
			dropped++
			continue
		}
		card := ApprovingCard
		if declined(i, cfg.DeclinedShare) {
			card = DecliningCard
		}
		wg.Go(func() {
			defer func() { <-slots }()
			c.place(ctx, run, i, skus[i%len(skus)], card, &mu, &p)
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	p.failed += dropped
	if dropped > 0 {
		p.sample = append(p.sample, fmt.Sprintf("%d orders not sent: %d requests were outstanding", dropped, cfg.MaxOutstanding))
	}
	done := c.settle(ctx, &r, p, 64, cfg.SettleTimeout)
	c.checkStock(ctx, &r, stock, p.orders, done)
	return r, ctx.Err()
}
