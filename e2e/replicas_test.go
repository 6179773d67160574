package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	inventoryadapters "github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
	"github.com/edmshop/edm-shop/stack"
)

// TestReplicas runs two replicas of each service on the real servers (its own topics,
// database and tables), streams orders through both order-service replicas, and checks that a
// normal run puts no event on the wire twice. Then it SIGKILLs one replica of each service in
// turn, each kept down until its group has rebalanced: the survivor holds every partition and
// drains it while orders keep completing. At the end every accepted order is terminal (and
// any order-service replica answers for it), stock is conserved, every COMPLETED order has
// one charge and no CANCELLED one keeps one, each order's outcome is announced once, and the
// duplicate publications the kills caused are counted.
func TestReplicas(t *testing.T) {
	needSharedServers(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := builtBinaries(t, root, "order-service", "inventory-service", "payment-service", "payment-gateway")
	run := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	brokers := os.Getenv("KAFKA_BROKERS")
	topics := config.Topics{Inventory: "inventory-" + run, Payment: "payment-" + run, Order: "order-" + run, OrderStatus: "order-status-" + run}
	t.Cleanup(func() { deleteTopics(t, brokers, topics) })
	dsn := freshDatabase(t, "inventory_replicas_"+run)
	addrs := stack.Addrs{Order: replicaPair(t), Inventory: replicaPair(t), Payment: replicaPair(t), Gateway: nettest.FreeAddr(t)}
	logs := runLog(t, root, "replicas-"+run)
	sup := stack.Start(stack.Replicas(bin, addrs, 2,
		"KAFKA_TOPIC_INVENTORY="+topics.Inventory, "KAFKA_TOPIC_PAYMENT="+topics.Payment, "KAFKA_TOPIC_ORDER="+topics.Order,
		"KAFKA_TOPIC_ORDER_STATUS="+topics.OrderStatus, "MYSQL_DSN="+dsn,
		"ORDERS_TABLE=orders-"+run, "IDEMPOTENCY_TABLE=order-idempotency-"+run, "OUTBOX_TABLE=order-outbox-"+run,
	), logs)
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("last service output (all of it in %s):\n%s", logs.Name(), tail(string(out), 80))
		}
	})
	inventoryRepo, err := inventoryadapters.NewMySQLRepository(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inventoryRepo.Close() })

	// One target per replica: tgs[i] talks to replica i+1 of each service.
	var tgs [2]*target
	for i := range tgs {
		tgs[i] = &target{
			orderURL: "http://" + stack.ReplicaAddr(addrs.Order, i+1), inventoryURL: "http://" + stack.ReplicaAddr(addrs.Inventory, i+1),
			paymentURL: "http://" + stack.ReplicaAddr(addrs.Payment, i+1), gatewayURL: "http://" + addrs.Gateway,
			brokers: brokers, topics: topics,
		}
		tgs[i].waitReady(t, 120*time.Second)
	}
	adm := newAdmin(t, brokers)
	groups := map[string]string{"order-service": topics.Order, "inventory-service": topics.Inventory, "payment-service": topics.Payment}
	for group, topic := range groups {
		// Orders start once both replicas consume: a rebalance at start-up is not a fault.
		eventually(t, 60*time.Second, group+": two replicas sharing "+topic, func() bool { return len(assignment(t, adm, group, topic)) == 2 })
	}

	const stock = 1000000
	skus := []string{"REPL-" + run + "-A", "REPL-" + run + "-B"}
	for _, s := range skus {
		if err := inventoryRepo.UpsertProduct(context.Background(), domain.Product{SKU: s, Name: s, Price: 100, Currency: "EUR", Available: stock}); err != nil {
			t.Fatal(err)
		}
	}

	type placed struct {
		id       string
		declined bool
		items    []item
	}
	var (
		mu       sync.Mutex
		accepted []placed
		count    atomic.Int64
	)
	// shop streams orders from 8 shoppers, each placing on one order-service replica and
	// following the order on the other, until the returned stop is called.
	shop := func(keyPrefix string) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		var load sync.WaitGroup
		for w := range 8 {
			load.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					req := orderRequest{CustomerID: fmt.Sprintf("repl-%d", w), Items: []item{{skus[i%2], 1 + i%2}}, PaymentMethod: "pm_card_visa"}
					if i%5 == 0 {
						req.PaymentMethod = "pm_card_declined"
					}
					id, ok := placeOnAny(ctx, t, tgs, (w+i)%2, req, fmt.Sprintf("%s-%s-%d-%d", keyPrefix, run, w, i))
					if !ok {
						return
					}
					mu.Lock()
					accepted = append(accepted, placed{id, req.PaymentMethod == "pm_card_declined", req.Items})
					mu.Unlock()
					count.Add(1)
					settleOnAny(ctx, tgs, (w+i+1)%2, id)
				}
			})
		}
		return func() { cancel(); load.Wait() }
	}
	stopLoad := shop("repl")
	flowing := func(what string, n int64) {
		t.Helper()
		from := count.Load()
		eventually(t, 90*time.Second, "orders flowing "+what, func() bool { return count.Load() >= from+n })
	}

	// A normal run: nothing published twice.
	flowing("with two replicas of each service", 600)
	stopLoad()
	for _, p := range accepted {
		settleOnAny(context.Background(), tgs, 0, p.id)
	}
	normal := len(accepted)
	dup := wireDuplicates(t, brokers, topics)
	if dup.total != 0 {
		t.Errorf("normal run of %d orders: %d events published twice (%v)", normal, dup.total, dup.byTopic)
	}
	// The replicas' own count (edm_events_published_total) adds up to what is on the wire, and
	// each replica's relay did part of the work.
	published, counted := map[string]float64{}, 0.0
	for i, tg := range tgs {
		for _, url := range []string{tg.orderURL, tg.inventoryURL, tg.paymentURL} {
			n := scrapeMetrics(t, url).value("edm_events_published_total", nil)
			published[fmt.Sprintf("%s#%d", strings.TrimPrefix(url, "http://"), i+1)] = n
			counted += n
			if n == 0 {
				t.Errorf("replica %s published nothing", url)
			}
		}
	}
	if int(counted) != dup.events {
		t.Errorf("the replicas counted %v publications, the wire holds %d events", counted, dup.events)
	}
	t.Logf("normal run: %d orders, %d events, published by replica: %v", normal, dup.events, published)

	stopLoad = shop("repl-kill")
	flowing("before the kills", 20)
	for _, victim := range []struct{ service, replica string }{
		{"order-service", stack.ReplicaName("order-service", 1, 2)},
		{"inventory-service", stack.ReplicaName("inventory-service", 2, 2)},
		{"payment-service", stack.ReplicaName("payment-service", 1, 2)},
	} {
		topic := groups[victim.service]
		starts := sup.Starts(victim.replica)
		// Held down long enough for the group to notice (session.timeout.ms 6 s) and rebalance.
		if err := sup.KillFor(victim.replica, 12*time.Second); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the surviving "+victim.service+" holding all of "+topic, func() bool {
			a := assignment(t, adm, victim.service, topic)
			for _, parts := range a {
				return len(a) == 1 && len(parts) == kafka.DefaultPartitions
			}
			return false
		})
		ends := endOffsets(t, adm, topic)
		flowing("while "+victim.replica+" is down", 20)
		eventually(t, 30*time.Second, "the survivor of "+victim.service+" consuming every partition of "+topic, func() bool { return caughtUp(adm, victim.service, topic, ends) })
		eventually(t, 30*time.Second, victim.replica+" restarted", func() bool { return sup.Starts(victim.replica) > starts })
	}
	for i := range tgs {
		tgs[i].waitReady(t, 120*time.Second)
	}
	flowing("after the kills", 20)
	stopLoad()

	bought := map[string]int{}
	completed, expired := 0, 0
	var cancelled []string
	for i, p := range accepted {
		o := tgs[i%2].settled(t, p.id) // either replica answers for any order
		switch {
		case o.Status == "COMPLETED":
			completed++
			if p.declined {
				t.Errorf("order %s with a declined card completed", p.id)
			}
			for _, it := range p.items {
				bought[it.SKU] += it.Quantity
			}
			if n := tgs[0].successfulCharges(t, p.id); n != 1 || tgs[0].chargeStatus(t, p.id) != "succeeded" {
				t.Errorf("COMPLETED order %s: %d charges, money %q", p.id, n, tgs[0].chargeStatus(t, p.id))
			}
		case o.Status == "CANCELLED":
			if o.Reason == "EXPIRED" {
				expired++
			}
			if !p.declined && o.Reason != "EXPIRED" {
				t.Errorf("order %s with a good card ended CANCELLED %s", p.id, o.Reason)
			}
			cancelled = append(cancelled, p.id)
		}
	}
	for _, id := range cancelled {
		eventually(t, 60*time.Second, "no standing charge for CANCELLED order "+id, func() bool { return tgs[0].chargeStatus(t, id) != "succeeded" })
	}
	for _, s := range skus {
		eventually(t, 60*time.Second, s+" conserved", func() bool { return tgs[1].product(t, s).Available == stock-bought[s] })
	}
	dup = wireDuplicates(t, brokers, topics)
	if dup.outcomes != 0 {
		t.Errorf("%d orders had their outcome announced more than once (distinct ce_id)", dup.outcomes)
	}
	t.Logf("normal run: %d orders, 0 duplicate publications; with kills: %d orders (%d completed, %d expired), %d events on the wire, %d published twice %v",
		normal, len(accepted)-normal, completed, expired, dup.events, dup.total, dup.byTopic)
}

// replicaPair returns a free loopback address whose port + stack.ReplicaPortStep is free too,
// for a service's two replicas.
func replicaPair(t *testing.T) string {
	for range 50 {
		addr := nettest.FreeAddr(t)
		l, err := net.Listen("tcp", stack.ReplicaAddr(addr, 2))
		if err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no pair of free ports")
	return ""
}

// placeOnAny places an order on replica first, and on the other while that one is down, with
// the same Idempotency-Key, so a retry never makes a second order.
func placeOnAny(ctx context.Context, t *testing.T, tgs [2]*target, first int, req orderRequest, key string) (string, bool) {
	if ctx.Err() != nil {
		return "", false
	}
	deadline := time.Now().Add(time.Minute)
	for i := first; time.Now().Before(deadline); i++ {
		var a accepted
		status, err := tryCall(context.Background(), tgs[i%2].orderURL+"/orders", req, key, &a)
		if err == nil && status == 202 {
			return a.TransactionID, true
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("order %s was not accepted by either replica within a minute", key)
	return "", false
}

// settleOnAny polls the order on replica first, and on the other while that one is down,
// until it is terminal or ctx ends.
func settleOnAny(ctx context.Context, tgs [2]*target, first int, id string) {
	for i := first; ctx.Err() == nil; i++ {
		var o order
		if status, err := tryCall(ctx, tgs[i%2].orderURL+"/orders/"+id, nil, "", &o); err == nil && status == 200 {
			if terminal(o.Status) {
				return
			}
			i-- // the replica answers: keep asking it
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newAdmin(t *testing.T, brokers string) *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// assignment returns, for each member of group that holds partitions of topic, those
// partitions. Other runs' services share the group name on their own topics: only topic counts.
func assignment(t *testing.T, adm *kadm.Client, group, topic string) map[string][]int32 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Logf("describe %s: %v", group, err)
		return nil
	}
	out := map[string][]int32{}
	for _, m := range described[group].Members {
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, tp := range c.Topics {
				if tp.Topic == topic && len(tp.Partitions) > 0 {
					out[m.MemberID] = append(out[m.MemberID], tp.Partitions...)
				}
			}
		}
	}
	return out
}

// endOffsets returns the end offset of each partition of topic.
func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	if len(ends) != kafka.DefaultPartitions {
		t.Fatalf("%s has %d partitions, want %d", topic, len(ends), kafka.DefaultPartitions)
	}
	return ends
}

// caughtUp reports whether group committed, on every partition of topic, at least the offset
// ends gives: what was there when its only member took over is consumed. A partition that
// ends at 0 never had anything to commit.
func caughtUp(adm *kadm.Client, group, topic string, ends map[int32]int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return false
	}
	for p, end := range ends {
		c, ok := committed.Lookup(topic, p)
		if end > 0 && (!ok || c.At < end) {
			return false
		}
	}
	return true
}

// duplicates counts what the topics hold more than once.
type duplicates struct {
	events   int            // records read
	total    int            // records whose ce_id was already read on their topic
	byTopic  map[string]int // total, by topic
	outcomes int            // orders announced COMPLETED or CANCELLED under more than one ce_id
}

// wireDuplicates reads every record of the run's topics back and counts ce_id repeats per
// topic: a record the relay published twice, or an event a redelivered input made again.
func wireDuplicates(t *testing.T, brokers string, topics config.Topics) duplicates {
	t.Helper()
	d := duplicates{byTopic: map[string]int{}}
	outcomes := map[string]int{}
	for _, topic := range topics.All() {
		seen := map[string]bool{}
		for _, r := range kafkatest.ReadAll(t, brokers, topic) {
			d.events++
			id := r.Headers["ce_id"]
			if seen[id] {
				d.total++
				d.byTopic[topic]++
				continue
			}
			seen[id] = true
			if topic == topics.OrderStatus {
				outcomes[r.Key]++
			}
		}
	}
	for _, n := range outcomes {
		if n > 1 {
			d.outcomes++
		}
	}
	return d
}
