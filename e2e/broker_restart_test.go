package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// TestAServiceOutlivesABrokerRestart runs a service in this test's process (bootstrap.Run, so
// the same parts as every service: topics, producer, consumer and its lag gauge) on a broker of
// its own, SIGKILLs the broker, waits 10 s and starts it again. The service must still be there
// (a crash inside librdkafka would take this test process down with it, as it took every
// service down in issue #9), handle an event published after the restart, serve
// edm_consumer_lag back at 0 and stop when asked (the old AdminClient-based lag reader either
// crashed or hung in its Close after a restart).
func TestAServiceOutlivesABrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("fault round")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	kafkaLibs := kafkaLibsDir(t, root)
	run := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	logs := runLog(t, root, "broker-restart-"+run)
	partitions, err := config.Partitions(kafka.DefaultPartitions)
	if err != nil {
		t.Fatal(err)
	}
	broker, brokers := privateKafka(t, logs, root, kafkaLibs)
	waitTCP(t, brokers, 120*time.Second)

	var mu sync.Mutex
	handled := map[string]bool{}
	var platform *bootstrap.Platform
	ready := make(chan struct{})
	addr := nettest.FreeAddr(t)
	topics := config.Topics{Inventory: "inventory-" + run, Payment: "payment-" + run, Order: "order-" + run, OrderStatus: "order-status-" + run}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- bootstrap.Run(ctx, bootstrap.Service{
			Name:     "restart-" + run,
			Config:   config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics},
			Consumes: func(t config.Topics) string { return t.Order },
			Log:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
				platform = p
				close(ready)
				return bootstrap.Parts{Handlers: kafka.Handlers{event.TypeItemReserved: func(_ context.Context, e event.Event) error {
					mu.Lock()
					defer mu.Unlock()
					handled[e.ID] = true
					return nil
				}}}, nil
			},
		}, bootstrap.WithLagInterval(200*time.Millisecond))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(time.Minute): // an AdminClient's Close hung after a broker restart
			t.Errorf("the service did not stop within a minute of its cancellation")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	base := "http://" + addr
	// flows publishes an event and waits until the service handled it and its lag gauge
	// serves every partition of the topic back at 0.
	flows := func(when string) {
		t.Helper()
		e, err := event.New(event.TypeItemReserved, "/inventory-service", "tx-"+when, map[string]string{"transactionId": "tx-" + when})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 120*time.Second, "the event to be published "+when, func() bool {
			return platform.Publisher.Publish(context.Background(), kafka.Message{Topic: topics.Order, Event: e}) == nil
		})
		eventually(t, 60*time.Second, "the event to be handled "+when, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return handled[e.ID]
		})
		eventually(t, 60*time.Second, "edm_consumer_lag of every partition, all 0, "+when, func() bool {
			s := scrapeMetrics(t, base)
			return len(s["edm_consumer_lag"].GetMetric()) == partitions && s.value("edm_consumer_lag", labels("topic", topics.Order)) == 0
		})
	}
	flows("before the restart")
	broker.kill()
	time.Sleep(10 * time.Second) // the outage the issue asks for
	restarted := time.Now()
	broker.start(t)
	waitTCP(t, brokers, 120*time.Second)
	flows("after the restart")
	t.Logf("broker listening and an event handled %v after the restart", time.Since(restarted).Round(100*time.Millisecond))
}
