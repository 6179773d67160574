package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Producer publishes events with an idempotent Kafka producer and waits until the broker has
// acknowledged every one of them. It replaces its librdkafka producer after a fatal error (an
// idempotent producer that lost its sequence state can never send again).
type Producer struct {
	brokers string
	log     *slog.Logger

	mu    sync.Mutex
	inner *ckafka.Producer
	fatal error
}

// NewProducer connects an idempotent producer to brokers (a comma-separated host:port list).
func NewProducer(brokers string, log *slog.Logger) (*Producer, error) {
	p := &Producer{brokers: brokers, log: log}
	if _, err := p.current(); err != nil {
		return nil, err
	}
	return p, nil
}

// current returns the live librdkafka producer, creating a new one if the last one failed fatally.
func (p *Producer) current() (*ckafka.Producer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inner != nil && p.fatal == nil {
		return p.inner, nil
	}
	if p.inner != nil {
		p.log.Warn("replacing kafka producer after fatal error", "error", p.fatal)
		p.inner.Close()
		p.inner, p.fatal = nil, nil
	}
	inner, err := ckafka.NewProducer(producerConfig(p.brokers))
	if err != nil {
		return nil, fmt.Errorf("create kafka producer: %w", err)
	}
	p.inner = inner
	go p.watch(inner)
	return inner, nil
}

// watch drains the producer's event channel: delivery reports go to per-call channels, so only
// errors arrive here, and a fatal one retires the producer.
func (p *Producer) watch(inner *ckafka.Producer) {
	for ev := range inner.Events() {
		kerr, ok := ev.(ckafka.Error)
		if !ok {
			continue
		}
		if kerr.IsFatal() {
			p.mu.Lock()
			if p.inner == inner {
				p.fatal = kerr
			}
			p.mu.Unlock()
		}
		p.log.Debug("kafka producer", "error", kerr)
	}
}

// Publish sends msgs in order and returns once every one is acknowledged, or the first error.
// Messages with the same key land on the same partition in the order given.
func (p *Producer) Publish(ctx context.Context, msgs ...Message) error {
	raw := make([]*ckafka.Message, len(msgs))
	for i, m := range msgs {
		raw[i] = toKafka(m)
	}
	return p.publishRaw(ctx, raw...)
}

func (p *Producer) publishRaw(ctx context.Context, msgs ...*ckafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	inner, err := p.current()
	if err != nil {
		return err
	}
	reports := make(chan ckafka.Event, len(msgs))
	for _, m := range msgs {
		for {
			err := inner.Produce(m, reports)
			if err == nil {
				break
			}
			var kerr ckafka.Error
			if errors.As(err, &kerr) && kerr.Code() == ckafka.ErrQueueFull {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
					continue
				}
			}
			return fmt.Errorf("produce to %s: %w", *m.TopicPartition.Topic, err)
		}
	}
	var firstErr error
	for range msgs {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-reports:
			m, ok := ev.(*ckafka.Message)
			if !ok {
				continue
			}
			if m.TopicPartition.Error != nil && firstErr == nil {
				firstErr = fmt.Errorf("deliver to %s: %w", *m.TopicPartition.Topic, m.TopicPartition.Error)
			}
		}
	}
	return firstErr
}

// Ping asks the cluster for its metadata: it fails while no broker can be reached.
func (p *Producer) Ping(ctx context.Context) error {
	inner, err := p.current()
	if err != nil {
		return err
	}
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	_, err = inner.GetMetadata(nil, false, int(timeout.Milliseconds()))
	return err
}

// Close flushes what is still queued and releases the producer.
func (p *Producer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inner != nil {
		p.inner.Flush(5000)
		p.inner.Close()
		p.inner = nil
	}
}
