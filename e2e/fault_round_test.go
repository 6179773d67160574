package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFaultRoundSlowAndFailingGateway streams orders while the gateway fails 30% of its calls
// with 503, first slow (orders still complete), then for a while slower than the deadline
// (orders expire and compensate). At rest the invariants of checkAtRest hold, both outcomes
// were seen, and no order with a good card ended CANCELLED but by expiry.
func TestFaultRoundSlowAndFailingGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("fault round")
	}
	const deadline = 2 * time.Second
	_, tg := startSandbox(t, deadline, nil)
	const stock = 1000
	tg.addProduct(t, "SKU-FAULT", 700, stock)
	tg.setFaults(t, 200, 0.3)
	shop := startShoppers(t, tg, 6, "gateway-"+uuid.NewString()[:8], func(w, i int) orderRequest {
		return orderRequest{CustomerID: fmt.Sprintf("fault-%d", w), Items: []item{{SKU: "SKU-FAULT", Quantity: 1 + (w+i)%3}}, PaymentMethod: "pm_card_visa"}
	})
	shop.flowing(t, tg, "with the gateway slow and failing", 18, time.Minute)
	tg.setFaults(t, int((deadline + time.Second).Milliseconds()), 0.3)
	shop.flowing(t, tg, "with the gateway slower than the deadline and failing", 6, time.Minute)
	orders := shop.stop()
	call(t, http.MethodDelete, tg.gatewayURL+"/v1/faults", nil, nil, nil)
	completed, expired := tg.checkAtRest(t, orders, map[string]int{"SKU-FAULT": stock}, mayExpire)
	if completed == 0 || expired == 0 {
		t.Errorf("%d completed and %d expired: the round should see both", completed, expired)
	}
}

// TestFaultRoundDuplicatesWhileGatewaySlow streams orders while every event is delivered twice
// (duplicate re-publishes each one right behind the original) and the gateway is, for a while,
// slower than the deadline: orders before and after that complete, orders during it expire and
// compensate. Duplicates of either kind must change nothing: at rest the invariants of
// checkAtRest hold, and still hold once the consumers have caught up with every duplicate.
func TestFaultRoundDuplicatesWhileGatewaySlow(t *testing.T) {
	if testing.Short() {
		t.Skip("fault round")
	}
	const deadline = 2 * time.Second
	_, tg := startSandbox(t, deadline, nil)
	const stock = 1000
	tg.addProduct(t, "SKU-TWICE", 500, stock)
	stopDuplicates := duplicate(t, tg.brokers, tg.topics.Inventory, tg.topics.Payment, tg.topics.Order)
	shop := startShoppers(t, tg, 4, "twice-"+uuid.NewString()[:8], func(w, i int) orderRequest {
		req := orderRequest{CustomerID: fmt.Sprintf("twice-%d", w), Items: []item{{SKU: "SKU-TWICE", Quantity: 1 + i%2}}, PaymentMethod: "pm_card_visa"}
		if i%5 == 0 {
			req.PaymentMethod = "pm_card_declined"
		}
		return req
	})
	shop.flowing(t, tg, "before the gateway slows down", 12, time.Minute)
	tg.setFaults(t, int((deadline + time.Second).Milliseconds()), 0)
	shop.flowing(t, tg, "with the gateway slower than the deadline", 8, time.Minute)
	call(t, http.MethodDelete, tg.gatewayURL+"/v1/faults", nil, nil, nil)
	shop.flowing(t, tg, "after the gateway recovered", 12, time.Minute)
	orders := shop.stop()
	before := map[string]int{"SKU-TWICE": stock}
	completed, expired := tg.checkAtRest(t, orders, before, mayExpire)
	if completed == 0 || expired == 0 {
		t.Errorf("%d completed and %d expired: the round should see both", completed, expired)
	}
	copies := stopDuplicates()
	tg.caughtUp(t)
	tg.checkAtRest(t, orders, before, mayExpire)
	if copies == 0 {
		t.Error("no event was delivered twice: the round proves nothing about duplicates")
	}
	t.Logf("%d events delivered twice", copies)
}

// setFaults makes the gateway wait latencyMs before every POST and then fail it with 503 with
// probability errorRate.
func (tg *target) setFaults(t *testing.T, latencyMs int, errorRate float64) {
	t.Helper()
	if code, _ := call(t, http.MethodPut, tg.gatewayURL+"/v1/faults", map[string]any{"latencyMs": latencyMs, "errorRate": errorRate}, nil, nil); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("PUT /v1/faults = %d", code)
	}
}

// duplicate delivers every event of topics twice until the returned stop is called: it reads
// each topic from the start and produces a copy of each record whose ce_id it has not seen yet
// (same key, so the same partition, right behind the original). stop returns how many copies it
// made. Records without a ce_id (the tests' markers) are left alone.
func duplicate(t *testing.T, brokers string, topics ...string) (stop func() int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	copies := 0
	seen := map[string]bool{}
	wg.Go(func() {
		for ctx.Err() == nil {
			fetches := cl.PollFetches(ctx)
			fetches.EachRecord(func(r *kgo.Record) {
				id := ""
				for _, h := range r.Headers {
					if h.Key == "ce_id" {
						id = string(h.Value)
					}
				}
				if id == "" || seen[r.Topic+"/"+id] {
					return
				}
				seen[r.Topic+"/"+id] = true
				dup := &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers}
				if err := cl.ProduceSync(context.Background(), dup).FirstErr(); err != nil {
					t.Errorf("duplicate %s on %s: %v", id, r.Topic, err)
					return
				}
				copies++
			})
		}
	})
	var once sync.Once
	stop = func() int {
		once.Do(func() {
			cancel()
			wg.Wait()
			cl.Close()
		})
		return copies
	}
	t.Cleanup(func() { stop() })
	return stop
}

// caughtUp returns once the three services' consumer groups have no lag left: every event on
// their topics, duplicates included, has been handled.
func (tg *target) caughtUp(t *testing.T) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(tg.brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	eventually(t, time.Minute, "the consumer groups to catch up", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lags, err := adm.Lag(ctx, "order-service", "inventory-service", "payment-service")
		if err != nil {
			return false
		}
		total := int64(0)
		lags.Each(func(l kadm.DescribedGroupLag) { total += l.Lag.Total() })
		return total == 0 && len(lags) == 3
	})
}
