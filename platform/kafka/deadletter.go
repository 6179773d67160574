package kafka

import (
	"context"
	"strconv"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Headers added to a dead letter, beside the original message's own headers.
const (
	HeaderDLTReason    = "dlt_reason"
	HeaderDLTTopic     = "dlt_original_topic"
	HeaderDLTPartition = "dlt_original_partition"
	HeaderDLTOffset    = "dlt_original_offset"
	HeaderDLTGroup     = "dlt_consumer_group"
	HeaderDLTTime      = "dlt_time"
)

// HeaderReplayedFrom marks a message republished from a dead-letter topic (by edmctl dlt
// replay); its value names the dead letter, "<dlt topic>/<partition>/<offset>". A replayed event
// that fails again is dead-lettered again, once, carrying this header, and stays there until
// someone replays it again: nothing replays automatically.
const HeaderReplayedFrom = "edm_replayed_from"

// deadLetter copies m, with the reason it could not be processed, to the topic's dead-letter
// twin, and reports whether the broker acknowledged it. Until it has, the offset stays
// uncommitted: a poison event is moved aside, never dropped.
func (c *Consumer) deadLetter(ctx context.Context, m *ckafka.Message, reason error) bool {
	topic := *m.TopicPartition.Topic
	dlt := DeadLetterTopic(topic)
	headers := append([]ckafka.Header(nil), m.Headers...)
	headers = append(headers,
		ckafka.Header{Key: HeaderDLTReason, Value: []byte(reason.Error())},
		ckafka.Header{Key: HeaderDLTTopic, Value: []byte(topic)},
		ckafka.Header{Key: HeaderDLTPartition, Value: []byte(strconv.Itoa(int(m.TopicPartition.Partition)))},
		ckafka.Header{Key: HeaderDLTOffset, Value: []byte(strconv.FormatInt(int64(m.TopicPartition.Offset), 10))},
		ckafka.Header{Key: HeaderDLTGroup, Value: []byte(c.cfg.GroupID)},
		ckafka.Header{Key: HeaderDLTTime, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	)
	err := c.dlt.publishRaw(ctx, &ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &dlt, Partition: ckafka.PartitionAny},
		Key:            m.Key,
		Value:          m.Value,
		Headers:        headers,
	})
	if err != nil {
		c.log.ErrorContext(ctx, "dead-letter", "error", err)
		return false
	}
	c.log.WarnContext(ctx, "dead-lettered event", "dlt", dlt, "offset", m.TopicPartition.Offset, "reason", reason)
	if c.cfg.OnDeadLetter != nil {
		c.cfg.OnDeadLetter(ctx)
	}
	return true
}
