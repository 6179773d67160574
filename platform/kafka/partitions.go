package kafka

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Defaults of how much a consumer does at once.
const (
	// DefaultLanes is how many events of one partition a consumer applies at once, each lane
	// taking the events of its share of the keys in offset order.
	DefaultLanes = 8
	// laneDepth bounds how many read events wait in one lane. When it is full the poll loop
	// waits, so a slow lane holds back reading, not memory.
	laneDepth = 64
	// laneWait is how long the poll loop waits for room in a full lane before it pauses the
	// lane's partition instead (see await).
	laneWait = 50 * time.Millisecond
)

// membership is one consumer-group membership. The poll loop reads messages and hands each to
// a lane of its partition chosen by its key, so events of different keys are applied
// concurrently while the events of one key are applied one after another, in offset order.
//
// A partition's offset is stored for commit only up to the first event that is not yet
// durable, so the committed offset never passes an event that was not applied. When an event
// cannot be finished, the poll loop stops the partition, waits for the events in progress, and
// seeks back to the first event not done; what was queued behind it is dropped and read again.
//
// The poll loop waits for a full lane at most laneWait. When an event's lane stays full (its
// key's events are being retried, say), the loop pauses that partition and holds its events
// aside until the lane has room, so a retry stalls only the partition of the failing event
// while the others keep flowing, and the member keeps polling well inside max.poll.interval.ms.
type membership struct {
	c    *Consumer
	kc   *ckafka.Consumer
	ctx  context.Context
	seed maphash.Seed

	// Owned by the poll loop (the rebalance callback runs inside Poll).
	parts map[int32]*partition

	mu sync.Mutex
	// failed: partitions with an event that could not be finished, and the latest generation
	// such an event was read in.
	failed map[int32]uint64
}

// partition is the work of one assigned partition.
type partition struct {
	id     int32
	lanes  []chan *queued
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the lane goroutines

	// running is held shared while a lane applies an event, and exclusively by the poll loop
	// while it rewinds or revokes the partition, which so waits for the events in progress.
	running sync.RWMutex
	// stale: events of a generation up to this one are dropped. Read under running.
	stale uint64
	// gen is the generation the poll loop gives newly read events. Owned by the poll loop.
	gen uint64
	// genCtx is the context of the events being applied; cancelGen ends it when one of them
	// could not be finished, so the others stop retrying and the rewind need not wait for
	// them. Replaced under running's write lock, read under its read lock.
	genCtx    context.Context
	cancelGen context.CancelFunc

	// overflow holds read events, in offset order, waiting for room in their lanes while the
	// partition is paused. Owned by the poll loop.
	overflow []*queued
	paused   bool

	mu      sync.Mutex
	pending []*queued // read and not yet stored, in offset order
}

// queued is a read message and the generation of its partition when it was read.
type queued struct {
	m    *ckafka.Message
	gen  uint64
	lane int
	// done says the event's effect is durable. Guarded by its partition's mu.
	done bool
}

func newMembership(ctx context.Context, c *Consumer, kc *ckafka.Consumer) *membership {
	return &membership{c: c, kc: kc, ctx: ctx, seed: maphash.MakeSeed(), parts: map[int32]*partition{}, failed: map[int32]uint64{}}
}

// dispatch queues m in its lane, starting the partition's lanes if needed. When the lane is
// full, or events of the partition already wait, m waits aside too and the partition is paused.
func (ms *membership) dispatch(m *ckafka.Message) {
	p, ok := ms.parts[m.TopicPartition.Partition]
	if !ok {
		p = ms.start(m.TopicPartition.Partition)
	}
	q := &queued{m: m, gen: p.gen, lane: int(maphash.Bytes(ms.seed, m.Key) % uint64(len(p.lanes)))}
	p.mu.Lock()
	p.pending = append(p.pending, q)
	p.mu.Unlock()
	if len(p.overflow) == 0 && (p.offer(q) || ms.await(p, q)) {
		return
	}
	p.overflow = append(p.overflow, q)
	if !p.paused {
		if err := ms.kc.Pause([]ckafka.TopicPartition{ms.topicPartition(p.id)}); err != nil {
			ms.c.log.Warn("pause partition", "partition", p.id, "error", err)
		}
		p.paused = true
	}
}

// await waits up to laneWait for room in q's lane and queues q there. A lane that is merely busy
// frees a slot within that time, and waiting on it costs less than pausing the partition,
// which drops what librdkafka fetched for it and fetches it again on resume (it halved the
// throughput of BenchmarkConsumeBacklog); a lane held by a retry does not, and the partition
// is paused.
func (ms *membership) await(p *partition, q *queued) bool {
	t := time.NewTimer(laneWait)
	defer t.Stop()
	select {
	case p.lanes[q.lane] <- q:
		return true
	case <-t.C:
		return false
	case <-ms.ctx.Done():
		return false
	}
}

// offer queues q in its lane if the lane has room.
func (p *partition) offer(q *queued) bool {
	select {
	case p.lanes[q.lane] <- q:
		return true
	default:
		return false
	}
}

// drain moves the events waiting aside into their lanes, in order, as far as there is room,
// and resumes a partition that has none left waiting. It reports whether any still wait.
func (ms *membership) drain() bool {
	waiting := false
	for _, p := range ms.parts {
		n := 0
		for n < len(p.overflow) && p.offer(p.overflow[n]) {
			n++
		}
		p.overflow = p.overflow[n:]
		if len(p.overflow) > 0 {
			waiting = true
			continue
		}
		ms.resume(p)
	}
	return waiting
}

func (ms *membership) resume(p *partition) {
	if !p.paused {
		return
	}
	p.overflow = nil
	p.paused = false
	if err := ms.kc.Resume([]ckafka.TopicPartition{ms.topicPartition(p.id)}); err != nil {
		ms.c.log.Warn("resume partition", "partition", p.id, "error", err)
	}
}

func (ms *membership) topicPartition(id int32) ckafka.TopicPartition {
	return ckafka.TopicPartition{Topic: &ms.c.cfg.Topic, Partition: id}
}

func (ms *membership) start(id int32) *partition {
	ctx, cancel := context.WithCancel(ms.ctx)
	p := &partition{id: id, ctx: ctx, cancel: cancel, gen: 1}
	p.genCtx, p.cancelGen = context.WithCancel(ctx)
	for range ms.c.cfg.Lanes {
		lane := make(chan *queued, laneDepth)
		p.lanes = append(p.lanes, lane)
		p.wg.Go(func() { ms.work(ctx, p, lane) })
	}
	ms.parts[id] = p
	return p
}

// work applies the events of one lane in order. After an event that could not be finished it
// drops the rest of that generation, so no later event of the same key is applied before it.
func (ms *membership) work(ctx context.Context, p *partition, lane chan *queued) {
	var failedGen uint64
	for q := range lane {
		p.running.RLock()
		if q.gen <= p.stale || q.gen <= failedGen || ctx.Err() != nil {
			p.running.RUnlock()
			continue
		}
		if !ms.c.process(p.genCtx, q.m) {
			failedGen = q.gen
			p.cancelGen()
			p.running.RUnlock()
			ms.mu.Lock()
			ms.failed[p.id] = max(ms.failed[p.id], q.gen)
			ms.mu.Unlock()
			continue
		}
		ms.markDone(p, q)
		p.running.RUnlock()
	}
}

// markDone records that q's effect is durable and stores the partition's offset past every
// event done from the front.
func (ms *membership) markDone(p *partition, q *queued) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q.done = true
	n := 0
	for n < len(p.pending) && p.pending[n].done {
		n++
	}
	if n == 0 {
		return
	}
	last := p.pending[n-1].m.TopicPartition
	p.pending = p.pending[n:]
	last.Offset++
	if _, err := ms.kc.StoreOffsets([]ckafka.TopicPartition{last}); err != nil {
		// The partition may have moved to another member, which will read the events
		// again; handlers are idempotent, so that is only extra work.
		ms.c.log.Warn("store offset", "partition", last.Partition, "offset", last.Offset, "error", err)
	}
}

// applyRewinds seeks back every partition with an event that could not be finished, to its
// first event not done. It returns false when a seek failed: the caller then leaves the group
// and joins again, resuming from the committed offsets, so nothing behind the unfinished event
// is committed past it.
func (ms *membership) applyRewinds() bool {
	ms.mu.Lock()
	failed := ms.failed
	ms.failed = map[int32]uint64{}
	ms.mu.Unlock()
	for id, gen := range failed {
		p, ok := ms.parts[id]
		if !ok {
			continue // revoked meanwhile
		}
		if gen <= p.stale {
			// An event of a generation already rewound past, cancelled by that rewind, that
			// reported its failure only after it: rewinding again would wait, with every
			// partition's dispatch, for the events the last rewind read again, the failed
			// one's retries among them (up to RetryFor), and throw their progress away.
			continue
		}
		p.running.Lock() // waits for the events in progress (cancelled by cancelGen)
		p.stale = p.gen
		p.gen++
		p.cancelGen()
		p.genCtx, p.cancelGen = context.WithCancel(p.ctx)
		p.mu.Lock()
		var first *queued
		for _, e := range p.pending {
			if !e.done {
				first = e
				break
			}
		}
		p.pending = nil
		p.mu.Unlock()
		p.running.Unlock()
		// Resumed before the seek, which then sets where fetching starts again.
		ms.resume(p)
		if first == nil {
			continue
		}
		if err := ms.kc.Seek(first.m.TopicPartition, 0); err != nil {
			ms.c.log.Warn("rewind failed; rejoining the group", "partition", id, "offset", first.m.TopicPartition.Offset, "error", err)
			return false
		}
	}
	return true
}

// rebalance stops the lanes of revoked partitions before librdkafka hands them to another
// member: queued events are dropped (the next owner reads them from the committed offset) and
// the events in progress are cancelled, so no two members apply a partition's events at once
// and every offset stored is committed with the revocation.
func (ms *membership) rebalance(_ *ckafka.Consumer, ev ckafka.Event) error {
	if revoked, ok := ev.(ckafka.RevokedPartitions); ok {
		for _, tp := range revoked.Partitions {
			ms.stop(tp.Partition)
		}
	}
	return nil
}

// stop ends a partition's lanes and waits for them.
func (ms *membership) stop(id int32) {
	p, ok := ms.parts[id]
	if !ok {
		return
	}
	delete(ms.parts, id)
	ms.resume(p)
	p.cancel()
	for _, lane := range p.lanes {
		close(lane)
	}
	p.wg.Wait()
}

// stopAll ends every partition's lanes, as the membership ends.
func (ms *membership) stopAll() {
	for id := range ms.parts {
		ms.stop(id)
	}
}
