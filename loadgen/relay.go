package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// BareRelay is the yardstick for the saga: Events events injected by Clients concurrent
// publishers into a topic and passed on three times (consume, produce) by platform/kafka's
// consumer and producer, with the services' client settings and no store, as a completed order
// crosses three topics. What the saga settles per second over what this relays per second is
// the share of the broker's capacity the saga achieves.
type BareRelay struct {
	Brokers         string
	Events, Clients int
	Timeout         time.Duration
}

// RelayResult is what a bare relay run measured: events through all three hops per second
// (first injection to last arrival) and each event's injection-to-arrival latency.
type RelayResult struct {
	Events        int     `json:"events"`
	Delivered     int     `json:"delivered"`
	SettledPerSec float64 `json:"settledPerSec"`
	Latency       Latency `json:"latency"`
	// CPUPerEventMs is the CPU time per delivered event that sagabench sets: its process's when
	// it runs the relay beside its in-process sandbox (whose idle work it includes), the whole
	// machine's with -stack (see Result.CPUPerOrderMs); 0 otherwise.
	CPUPerEventMs float64 `json:"cpuPerEventMs,omitempty"`
}

// RunBareRelay creates four fresh topics, runs the three relays and the sink, injects the
// events and waits until every one has arrived (or Timeout).
func RunBareRelay(ctx context.Context, cfg BareRelay) (RelayResult, error) {
	run := newRunID()
	topics := make([]string, 4)
	for i := range topics {
		topics[i] = fmt.Sprintf("bare-%s-%d", run, i)
	}
	if err := kafka.EnsureTopics(ctx, cfg.Brokers, kafka.DefaultPartitions, topics...); err != nil {
		return RelayResult{}, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var producers []*kafka.Producer
	defer func() { // the consumers stop before the producers they publish with close
		cancel()
		wg.Wait()
		for _, p := range producers {
			p.Close()
		}
	}()

	var sent sync.Map // event id -> injection time
	var delivered atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var last time.Time
	all := make(chan struct{})
	seen := make(map[string]bool, cfg.Events)
	for hop := range 4 {
		producer, err := kafka.NewProducer(cfg.Brokers, log)
		if err != nil {
			return RelayResult{}, err
		}
		producers = append(producers, producer)
		handle := func(ctx context.Context, e event.Event) error {
			return producer.Publish(ctx, kafka.Message{Topic: topics[hop+1], Event: e})
		}
		if hop == 3 { // the sink
			handle = func(_ context.Context, e event.Event) error {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				if seen[e.ID] { // at-least-once: a redelivery is not a new arrival
					return nil
				}
				seen[e.ID] = true
				if at, ok := sent.Load(e.ID); ok {
					lat = append(lat, now.Sub(at.(time.Time)))
				}
				last = now
				if delivered.Add(1) == int64(cfg.Events) {
					close(all)
				}
				return nil
			}
		}
		consumer := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: cfg.Brokers, GroupID: topics[hop], Topic: topics[hop]},
			kafka.Handlers{event.TypeOrderCreate: handle}, producer, log)
		wg.Go(func() { consumer.Run(ctx) })
	}
	injector, err := kafka.NewProducer(cfg.Brokers, log)
	if err != nil {
		return RelayResult{}, err
	}
	producers = append(producers, injector)

	// Warm up: one event through all hops, so that every consumer has joined its group.
	warm, _ := event.New(event.TypeOrderCreate, "/loadgen", "warm-"+run, map[string]string{"transactionId": "warm-" + run})
	if err := injector.Publish(ctx, kafka.Message{Topic: topics[0], Event: warm}); err != nil {
		return RelayResult{}, err
	}
	cfg.Events++ // the warm-up event counts toward "all arrived", not toward the result
	for delivered.Load() == 0 {
		select {
		case <-ctx.Done():
			return RelayResult{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	mu.Lock()
	lat = lat[:0]
	mu.Unlock()

	start := time.Now()
	var next atomic.Int64
	var injectErr atomic.Value
	var inj sync.WaitGroup
	for range max(1, cfg.Clients) {
		inj.Go(func() {
			for {
				i := int(next.Add(1))
				if i >= cfg.Events || ctx.Err() != nil {
					return
				}
				id := fmt.Sprintf("bare-%s-%d", run, i)
				e, _ := event.New(event.TypeOrderCreate, "/loadgen", id, map[string]string{"transactionId": id})
				sent.Store(e.ID, time.Now())
				if err := injector.Publish(ctx, kafka.Message{Topic: topics[0], Event: e}); err != nil {
					injectErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	inj.Wait()
	if err, _ := injectErr.Load().(error); err != nil {
		return RelayResult{}, fmt.Errorf("inject: %w", err)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	select {
	case <-all:
	case <-time.After(timeout):
	case <-ctx.Done():
		return RelayResult{}, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	r := RelayResult{Events: cfg.Events - 1, Delivered: int(delivered.Load()) - 1, Latency: summarize(lat)}
	if span := last.Sub(start); span > 0 {
		r.SettledPerSec = float64(r.Delivered) / span.Seconds()
	}
	if r.Delivered != r.Events {
		return r, fmt.Errorf("bare relay: %d of %d events arrived within %s", r.Delivered, r.Events, timeout)
	}
	return r, nil
}
