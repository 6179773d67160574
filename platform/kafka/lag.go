package kafka

import (
	"context"
	"fmt"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// LagReader reads how far a consumer group is behind on a topic, with an admin client of its
// own: it never touches a consumer, so asking never blocks consuming.
type LagReader struct {
	admin *ckafka.AdminClient
	group string
	topic string
}

// NewLagReader connects a LagReader for group on topic; Close releases it.
func NewLagReader(brokers, group, topic string) (*LagReader, error) {
	admin, err := ckafka.NewAdminClient(ClientConfig(brokers))
	if err != nil {
		return nil, fmt.Errorf("create kafka admin client: %w", err)
	}
	return &LagReader{admin: admin, group: group, topic: topic}, nil
}

// Close releases the admin client.
func (l *LagReader) Close() { l.admin.Close() }

// Lag returns, per partition, the high watermark minus the group's committed offset (the
// whole partition, from its low watermark, when the group committed nothing there yet).
func (l *LagReader) Lag(ctx context.Context) (map[int32]int64, error) {
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	md, err := l.admin.GetMetadata(&l.topic, false, int(timeout.Milliseconds()))
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", l.topic, err)
	}
	tm, ok := md.Topics[l.topic]
	if !ok || tm.Error.Code() != ckafka.ErrNoError {
		return nil, fmt.Errorf("metadata of %s: %v", l.topic, tm.Error)
	}
	var parts []ckafka.TopicPartition
	latest := map[ckafka.TopicPartition]ckafka.OffsetSpec{}
	earliest := map[ckafka.TopicPartition]ckafka.OffsetSpec{}
	for _, p := range tm.Partitions {
		tp := ckafka.TopicPartition{Topic: &l.topic, Partition: p.ID}
		parts = append(parts, tp)
		latest[tp] = ckafka.LatestOffsetSpec
		earliest[tp] = ckafka.EarliestOffsetSpec
	}
	committed, err := l.admin.ListConsumerGroupOffsets(ctx, []ckafka.ConsumerGroupTopicPartitions{{Group: l.group, Partitions: parts}})
	if err != nil {
		return nil, fmt.Errorf("committed offsets of %s: %w", l.group, err)
	}
	high, err := l.admin.ListOffsets(ctx, latest)
	if err != nil {
		return nil, fmt.Errorf("high watermarks of %s: %w", l.topic, err)
	}
	low, err := l.admin.ListOffsets(ctx, earliest)
	if err != nil {
		return nil, fmt.Errorf("low watermarks of %s: %w", l.topic, err)
	}
	byPartition := func(r ckafka.ListOffsetsResult) map[int32]int64 {
		out := map[int32]int64{}
		for tp, info := range r.ResultInfos {
			if info.Error.Code() == ckafka.ErrNoError {
				out[tp.Partition] = int64(info.Offset)
			}
		}
		return out
	}
	highs, lows := byPartition(high), byPartition(low)
	lag := map[int32]int64{}
	for _, g := range committed.ConsumerGroupsTopicPartitions {
		for _, tp := range g.Partitions {
			h, ok := highs[tp.Partition]
			if !ok || tp.Error != nil {
				continue
			}
			from := lows[tp.Partition]
			if tp.Offset >= 0 {
				from = int64(tp.Offset)
			}
			lag[tp.Partition] = max(h-from, 0)
		}
	}
	return lag, nil
}
