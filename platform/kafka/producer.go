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

	mu     sync.Mutex
	live   *generation
	closed bool
}

// generation is one librdkafka producer. It is closed only once every Publish using it has
// returned, so no caller ever waits for reports from a destroyed handle.
type generation struct {
	inner *ckafka.Producer
	users sync.WaitGroup
	// failed is closed on a fatal error; callers waiting for reports give up at once.
	failed   chan struct{}
	fatalErr error
	once     sync.Once
	// closing is closed when the Producer closes: the reports of publishes whose callers gave
	// up are no longer watched, so Close does not wait message.timeout.ms for them.
	closing chan struct{}
}

func (g *generation) fail(err error) {
	g.once.Do(func() {
		g.fatalErr = err
		close(g.failed)
	})
}

func (g *generation) hasFailed() bool {
	select {
	case <-g.failed:
		return true
	default:
		return false
	}
}

// NewProducer connects an idempotent producer to brokers (a comma-separated host:port list).
func NewProducer(brokers string, log *slog.Logger) (*Producer, error) {
	p := &Producer{brokers: brokers, log: log}
	g, err := p.acquire()
	if err != nil {
		return nil, err
	}
	g.users.Done()
	return p, nil
}

// acquire returns the live generation, registered as in use (call users.Done when finished),
// replacing it first if it failed fatally.
func (p *Producer) acquire() (*generation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("kafka producer is closed")
	}
	if p.live != nil && p.live.hasFailed() {
		old := p.live
		p.log.Warn("replacing kafka producer after fatal error", "error", old.fatalErr)
		p.live = nil
		go func() {
			old.users.Wait()
			old.inner.Close()
		}()
	}
	if p.live == nil {
		inner, err := ckafka.NewProducer(producerConfig(p.brokers))
		if err != nil {
			return nil, fmt.Errorf("create kafka producer: %w", err)
		}
		p.live = &generation{inner: inner, failed: make(chan struct{}), closing: make(chan struct{})}
		go p.watch(p.live)
	}
	p.live.users.Add(1)
	return p.live, nil
}

// watch drains the producer's event channel: delivery reports go to per-call channels, so only
// errors arrive here, and a fatal one retires the generation.
func (p *Producer) watch(g *generation) {
	for ev := range g.inner.Events() {
		kerr, ok := ev.(ckafka.Error)
		if !ok {
			continue
		}
		if kerr.IsFatal() {
			g.fail(kerr)
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
	g, err := p.acquire()
	if err != nil {
		return err
	}
	defer g.users.Done()
	reports := make(chan ckafka.Event, len(msgs))
	produced, acked := 0, 0
	// A caller that gives up leaves its queued messages' reports to g.watchAbandoned.
	abandon := func() error {
		if produced > acked {
			g.users.Add(1)
			go g.watchAbandoned(reports, produced-acked)
		}
		return ctx.Err()
	}
	for _, m := range msgs {
		for {
			err := g.inner.Produce(m, reports)
			if err == nil {
				produced++
				break
			}
			var kerr ckafka.Error
			if errors.As(err, &kerr) && kerr.Code() == ckafka.ErrQueueFull {
				select {
				case <-ctx.Done():
					return abandon()
				case <-time.After(10 * time.Millisecond):
					continue
				}
			}
			return fmt.Errorf("produce to %s: %w", *m.TopicPartition.Topic, err)
		}
	}
	// librdkafka reports every message within message.timeout.ms, delivered or not.
	var firstErr error
	for acked < produced {
		select {
		case <-ctx.Done():
			return abandon()
		case <-g.failed:
			return fmt.Errorf("kafka producer failed: %w", g.fatalErr)
		case ev := <-reports:
			m, ok := ev.(*ckafka.Message)
			if !ok {
				continue
			}
			acked++
			if m.TopicPartition.Error != nil && firstErr == nil {
				firstErr = fmt.Errorf("deliver to %s: %w", *m.TopicPartition.Topic, m.TopicPartition.Error)
			}
			g.retireOnTimeout(m)
		}
	}
	return firstErr
}

// retireOnTimeout retires the generation, as a fatal error does, when m timed out. After a
// broker restart an idempotent producer whose messages timed out could stay stuck: the fault
// round saw an outbox relay's next attempt time out as well, 60 s later. The next Publish then
// gets a new producer (and producer id); consumers drop a duplicate by ce_id.
func (g *generation) retireOnTimeout(m *ckafka.Message) {
	if kerr, ok := m.TopicPartition.Error.(ckafka.Error); ok && kerr.Code() == ckafka.ErrMsgTimedOut {
		g.fail(kerr)
	}
}

// watchAbandoned reads the last n reports of a publish whose caller gave up, for a timeout
// that retires the generation: a caller with a deadline shorter than message.timeout.ms (a
// handler's 10 s against 60 s) never sees its messages time out, and a producer stuck after a
// broker restart would otherwise stay in use for good. It holds a use of g until done.
func (g *generation) watchAbandoned(reports chan ckafka.Event, n int) {
	defer g.users.Done()
	for n > 0 {
		select {
		case <-g.failed:
			return
		case <-g.closing:
			return
		case ev := <-reports:
			if m, ok := ev.(*ckafka.Message); ok {
				n--
				g.retireOnTimeout(m)
			}
		}
	}
}

// Ping asks the cluster for its metadata: it fails while no broker can be reached.
func (p *Producer) Ping(ctx context.Context) error {
	g, err := p.acquire()
	if err != nil {
		return err
	}
	defer g.users.Done()
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	_, err = g.inner.GetMetadata(nil, false, int(timeout.Milliseconds()))
	return err
}

// Close flushes what is still queued and releases the producer, once no Publish is using it.
func (p *Producer) Close() {
	p.mu.Lock()
	g := p.live
	p.live, p.closed = nil, true
	p.mu.Unlock()
	if g != nil {
		close(g.closing)
		g.users.Wait()
		g.inner.Flush(5000)
		g.inner.Close()
	}
}
