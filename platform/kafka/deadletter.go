package kafka

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

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
	// HeaderDLTOmitted is on a dead letter that stands in for a message the dead-letter topic
	// refused for good (too large with the dead letter's headers, most likely): it holds the
	// size of the original value in bytes, and the letter carries no value or original headers.
	// The event stays readable at its original offset until the topic's retention.
	HeaderDLTOmitted = "dlt_omitted_bytes"
)

// maxReasonBytes bounds a dead letter's reason (and a stand-in letter's key). A reason may
// quote the event (a key, an id, a reason field), and quoted twice over a large event the copy
// would no longer fit where the original did.
const maxReasonBytes = 1024

// HeaderReplayedFrom marks a message republished from a dead-letter topic (by edmctl dlt
// replay); its value names the dead letter, "<dlt topic>/<partition>/<offset>". A replayed event
// that fails again is dead-lettered again, once, carrying this header, and stays there until
// someone replays it again: nothing replays automatically.
const HeaderReplayedFrom = "edm_replayed_from"

// deadLetter copies m, with the reason it could not be processed, to the topic's dead-letter
// twin, and reports whether the broker acknowledged it. Until it has, the offset stays
// uncommitted: a poison event is moved aside, never dropped. If the dead-letter topic refuses
// the copy for good, a stand-in letter without the value (HeaderDLTOmitted) takes its place,
// so that one oversized event cannot hold its partition for ever.
func (c *Consumer) deadLetter(ctx context.Context, m *ckafka.Message, reason error) bool {
	topic := *m.TopicPartition.Topic
	dlt := DeadLetterTopic(topic)
	origin := []ckafka.Header{
		{Key: HeaderDLTReason, Value: []byte(truncate(reason.Error(), maxReasonBytes))},
		{Key: HeaderDLTTopic, Value: []byte(topic)},
		{Key: HeaderDLTPartition, Value: []byte(strconv.Itoa(int(m.TopicPartition.Partition)))},
		{Key: HeaderDLTOffset, Value: []byte(strconv.FormatInt(int64(m.TopicPartition.Offset), 10))},
		{Key: HeaderDLTGroup, Value: []byte(c.cfg.GroupID)},
		{Key: HeaderDLTTime, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	}
	err := c.dlt.publishRaw(ctx, &ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &dlt, Partition: ckafka.PartitionAny},
		Key:            m.Key,
		Value:          m.Value,
		Headers:        append(append([]ckafka.Header(nil), m.Headers...), origin...),
	})
	if err != nil && IsPermanent(err) {
		c.log.WarnContext(ctx, "dead-letter topic refused the copy; sending a stand-in without the value", "error", err, "bytes", len(m.Value))
		key := m.Key
		if len(key) > maxReasonBytes {
			key = nil
		}
		err = c.dlt.publishRaw(ctx, &ckafka.Message{
			TopicPartition: ckafka.TopicPartition{Topic: &dlt, Partition: ckafka.PartitionAny},
			Key:            key,
			Headers:        append(origin, ckafka.Header{Key: HeaderDLTOmitted, Value: []byte(strconv.Itoa(len(m.Value)))}),
		})
	}
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

// truncate returns s cut to at most n bytes on a character boundary, saying how long it was.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	note := fmt.Sprintf("... (%d bytes in all)", len(s))
	cut := max(n-len(note), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}
