package bootstrap_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// TestRunWiresAServiceAlike starts a service with nothing but a name, brokers and an address:
// the defaults are filled in, every saga topic and its dead-letter twin exist, the service's
// routes, probes and /metrics answer, its handler gets the events of its topic, and it knows
// its share of that topic.
func TestRunWiresAServiceAlike(t *testing.T) {
	brokers := kafkatest.Start(t) // no topics: the bootstrap creates them
	addr := nettest.FreeAddr(t)
	got := make(chan event.Event, 1)
	var platform *bootstrap.Platform
	runService(t, bootstrap.Service{
		Name:     "test-service",
		Config:   config.Service{HTTPAddr: addr, Brokers: brokers},
		Consumes: func(t config.Topics) string { return t.Order },
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
			platform = p
			return bootstrap.Parts{
				Handlers: kafka.Handlers{event.TypeItemReserved: func(_ context.Context, e event.Event) error { got <- e; return nil }},
				Routes:   func(r gin.IRouter) { r.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hi") }) },
			}, nil
		},
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if platform.Config.GroupID != "test-service" || platform.Config.Topics != config.DefaultTopics {
		t.Errorf("defaults not filled in: %+v", platform.Config)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"inventory", "inventory.dlt", "payment", "payment.dlt", "order", "order.dlt", "order-status", "order-status.dlt"} {
		if !slices.Contains(topics.Names(), want) {
			t.Errorf("topic %s was not created (topics: %v)", want, topics.Names())
		}
	}

	e, err := event.New(event.TypeItemReserved, "/inventory-service", "tx-1", map[string]string{"transactionId": "tx-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := platform.Publisher.Publish(context.Background(), kafka.Message{Topic: "order", Event: e}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.ID != e.ID {
			t.Errorf("handled %s, want %s", r.ID, e.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler never got the event")
	}
	// The only member of its group owns every partition of its topic (from the consumer's
	// statistics, every telemetry.LagInterval).
	shareDeadline := time.Now().Add(30 * time.Second)
	for platform.Share() != 1 {
		if time.Now().After(shareDeadline) {
			t.Fatalf("share of the topic %v, want 1", platform.Share())
		}
		time.Sleep(20 * time.Millisecond)
	}

	for path, want := range map[string]string{"/hello": "hi", "/metrics": "edm_events_published_total"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("GET %s = %d %q, want 200 with %q and a request id", path, resp.StatusCode, body[:min(len(body), 200)], want)
		}
	}
}

// TestRunAppliesTheServicesLanes gives a service 2 lanes per partition: with a handler that
// holds every event, exactly 2 x kafka.DefaultPartitions events are in it at once (the
// default, kafka.DefaultLanes, would let 8 per partition in).
func TestRunAppliesTheServicesLanes(t *testing.T) {
	const lanes = 2
	brokers := kafkatest.Start(t)
	addr := nettest.FreeAddr(t)
	var inside, most atomic.Int32
	release := make(chan struct{})
	var platform *bootstrap.Platform
	ready := make(chan struct{})
	runService(t, bootstrap.Service{
		Name:     "lanes-service",
		Config:   config.Service{HTTPAddr: addr, Brokers: brokers},
		Consumes: func(t config.Topics) string { return t.Order },
		Lanes:    lanes,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
			platform = p
			close(ready)
			return bootstrap.Parts{Handlers: kafka.Handlers{event.TypeItemReserved: func(ctx context.Context, _ event.Event) error {
				n := inside.Add(1)
				defer inside.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			}}}, nil
		},
	})
	<-ready
	// 400 keys: every partition gets dozens, so each of its lanes gets some.
	msgs := make([]kafka.Message, 400)
	for i := range msgs {
		tx := fmt.Sprintf("tx-%d", i)
		e, err := event.New(event.TypeItemReserved, "/inventory-service", tx, map[string]string{"transactionId": tx})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Topic: "order", Event: e}
	}
	if err := platform.Publisher.Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	want := int32(lanes * kafka.DefaultPartitions)
	deadline := time.Now().Add(30 * time.Second)
	for most.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Had the service's lanes been ignored, more events would enter within this window.
	settle := time.Now().Add(300 * time.Millisecond)
	for most.Load() <= want && time.Now().Before(settle) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := most.Load(); got != want {
		t.Errorf("at most %d events were handled at once, want %d (%d lanes x %d partitions)", got, want, lanes, kafka.DefaultPartitions)
	}
}

// runService runs svc until the test ends, then checks that it stopped cleanly.
func runService(t *testing.T, svc bootstrap.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bootstrap.Run(ctx, svc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
