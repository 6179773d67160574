package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/edmshop/edm-shop/platform/event"
)

// Handler applies one event. It returns nil once the event's effect is durable, an error wrapping
// event.ErrInvalid when the event can never be applied (it goes to the dead-letter topic), or any
// other error for a transient failure (the event is retried).
type Handler func(ctx context.Context, e event.Event) error

// Handlers routes events by type. An event of a type not listed goes to the dead-letter topic.
type Handlers map[event.Type]Handler

// ConsumerConfig says what a Consumer reads.
type ConsumerConfig struct {
	Brokers string
	GroupID string
	Topic   string
	// RetryFor bounds how long a transiently failing event is retried in place before the
	// consumer seeks back to it and polls again (so the group does not evict it). Default 20 s.
	RetryFor time.Duration
	// Backoff spaces the attempts of a transiently failing event. Default DefaultBackoff.
	Backoff Backoff
	// HandlerTimeout bounds each attempt of a handler (Timeout). Default DefaultHandlerTimeout;
	// negative means none.
	HandlerTimeout time.Duration
	// Middleware wraps every handler, the first outermost (metrics, tracing, logging).
	Middleware []Middleware
	// OnDeadLetter, when set, hears of every message the dead-letter topic acknowledged; ctx
	// carries the message's Delivery.
	OnDeadLetter func(ctx context.Context)
	// Lanes is how many events of one partition are applied at once, each lane taking the
	// events of its share of the keys in order. Default DefaultLanes; 1 applies a partition's
	// events strictly one after another.
	Lanes int
	// OnLag, when set, hears the Lag of the partitions this consumer owns every LagInterval
	// (default 2 s), and an empty Lag when a membership ends. It is called from the poll loop,
	// so it must not block.
	OnLag       func(Lag)
	LagInterval time.Duration
	// OnShare, when set, hears the Share of the topic this consumer owns every LagInterval,
	// and the zero Share when a membership ends. Called from the poll loop: it must not block.
	OnShare func(Share)
}

// Consumer reads one topic in a consumer group and hands each event to its handler. Events of
// different keys are applied concurrently, those of one key one at a time and in order. It
// stores an offset for commit only after the handler succeeded or the event reached the
// dead-letter topic, so an event is never lost and at worst delivered again.
type Consumer struct {
	cfg      ConsumerConfig
	handlers Handlers
	dlt      *Producer
	log      *slog.Logger
}

// NewConsumer prepares a consumer; Run starts it. Dead letters are published with dlt.
func NewConsumer(cfg ConsumerConfig, handlers Handlers, dlt *Producer, log *slog.Logger) *Consumer {
	if cfg.RetryFor == 0 {
		cfg.RetryFor = 20 * time.Second
	}
	if cfg.HandlerTimeout == 0 {
		cfg.HandlerTimeout = DefaultHandlerTimeout
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = DefaultLanes
	}
	if cfg.LagInterval <= 0 {
		cfg.LagInterval = 2 * time.Second
	}
	log = log.With("topic", cfg.Topic, "group", cfg.GroupID)
	// Retry outermost, so that every attempt gets its own timeout and passes through the
	// metrics and tracing middleware again; Recoverer innermost, so they see a panic as the
	// dead-lettered event it becomes.
	mws := append([]Middleware{Retry(cfg.Backoff, cfg.RetryFor, log), Timeout(cfg.HandlerTimeout)}, cfg.Middleware...)
	mws = append(mws, Recoverer(log))
	wrapped := make(Handlers, len(handlers))
	for t, h := range handlers {
		wrapped[t] = Chain(h, mws...)
	}
	return &Consumer{cfg: cfg, handlers: wrapped, dlt: dlt, log: log}
}

// Run consumes until ctx is cancelled, then leaves the group.
func (c *Consumer) Run(ctx context.Context) error {
	for {
		if err := c.consume(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second): // do not spin if joining keeps failing
		}
	}
}

// consume runs one consumer-group membership (see membership). It returns nil when ctx is
// cancelled, or early when an unfinished event could not be rewound: Run then joins again and
// resumes from the last committed offset, so nothing behind that event is committed past it.
func (c *Consumer) consume(ctx context.Context) error {
	conf := consumerConfig(c.cfg.Brokers, c.cfg.GroupID)
	stats := c.cfg.OnLag != nil || c.cfg.OnShare != nil
	if stats {
		// librdkafka then hands the poll loop its statistics, the only source of the lag and
		// of the topic's partition count.
		(*conf)["statistics.interval.ms"] = max(int(c.cfg.LagInterval.Milliseconds()), 1)
	}
	kc, err := ckafka.NewConsumer(conf)
	if err != nil {
		return fmt.Errorf("create kafka consumer: %w", err)
	}
	defer kc.Close()
	if stats {
		defer c.reportStats(nil, nil) // no longer a member: it owns no partition
	}
	ms := newMembership(ctx, c, kc)
	// Stopped before Close, whose final revocation then finds no worker left.
	defer ms.stopAll()
	if err := kc.Subscribe(c.cfg.Topic, ms.rebalance); err != nil {
		return fmt.Errorf("subscribe to %s: %w", c.cfg.Topic, err)
	}
	for ctx.Err() == nil {
		if !ms.applyRewinds() {
			return nil
		}
		// While events wait for room in a lane, poll briefly so the lane is refilled soon.
		wait := 100
		if ms.drain() {
			wait = 5
		}
		switch ev := kc.Poll(wait).(type) {
		case *ckafka.Message:
			if ev.TopicPartition.Error != nil {
				c.log.Warn("consume", "error", ev.TopicPartition.Error)
				continue
			}
			ms.dispatch(ev)
		case *ckafka.Stats:
			c.reportStats(kc, ev)
		case ckafka.Error:
			c.log.Warn("consumer", "error", ev)
			if ev.IsFatal() {
				return nil // a fresh consumer instance starts over from the committed offsets
			}
		}
	}
	return nil
}

// reportStats hands OnLag and OnShare what librdkafka's statistics and kc's assignment show;
// nil stats report that the consumer owns nothing. The partitions owned come from the
// assignment rather than the statistics' "desired" flag, which librdkafka also sets on a
// partition it merely looked up (to store an offset, pause it or seek).
func (c *Consumer) reportStats(kc *ckafka.Consumer, stats *ckafka.Stats) {
	lag, share := Lag{}, Share{}
	if stats != nil {
		var err error
		if lag, share.Of, err = fromStats([]byte(stats.String()), c.cfg.Topic); err != nil {
			c.log.Debug("consumer statistics", "error", err)
			return
		}
		assigned, err := kc.Assignment()
		if err != nil {
			c.log.Debug("consumer assignment", "error", err)
			return
		}
		for _, tp := range assigned {
			if tp.Topic != nil && *tp.Topic == c.cfg.Topic {
				share.Owned++
			}
		}
		share.Of = max(share.Of, share.Owned) // metadata may lag the assignment
	}
	if c.cfg.OnLag != nil {
		c.cfg.OnLag(lag)
	}
	if c.cfg.OnShare != nil {
		c.cfg.OnShare(share)
	}
}

// process applies one message and reports whether it is done with (applied or dead-lettered).
func (c *Consumer) process(ctx context.Context, m *ckafka.Message) bool {
	ctx = withMessage(ctx, m, c.cfg.GroupID)
	e, err := fromKafka(m)
	if err == nil {
		err = c.apply(ctx, e)
	}
	if err == nil {
		return true
	}
	if errors.Is(err, event.ErrInvalid) {
		return c.deadLetter(ctx, m, err)
	}
	return false
}

// apply runs the event's handler, wrapped in Retry, Timeout and the configured middleware.
func (c *Consumer) apply(ctx context.Context, e event.Event) error {
	handle, ok := c.handlers[e.Type]
	if !ok {
		return fmt.Errorf("%w: no handler for event type %q on topic %s", event.ErrInvalid, e.Type, c.cfg.Topic)
	}
	return handle(ctx, e)
}
