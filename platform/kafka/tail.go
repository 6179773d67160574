package kafka

import (
	"context"
	"fmt"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/google/uuid"
)

// TailRecord is one record a Tail read, as it is on the wire.
type TailRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Headers   map[string]string
	Value     []byte
	Time      time.Time
}

// TailConfig says what a Tail reads.
type TailConfig struct {
	Brokers string
	// Topics are read from every partition; a topic that does not exist, or that the client's
	// principal (KAFKA_SASL_USERNAME) may not describe, is left out.
	Topics []string
	// Back is how many records before the end of each partition to start at (0: only records
	// produced from now on).
	Back int64
}

// Tail calls fn with the records of cfg.Topics, from Back records before their ends, until
// ctx ends (then it returns nil) or fn returns an error (then it returns that). It watches
// without taking part: it assigns itself the partitions instead of subscribing, so it joins no
// consumer group, moves no partition away from the services, and commits no offset.
func Tail(ctx context.Context, cfg TailConfig, fn func(TailRecord) error) error {
	c, err := ckafka.NewConsumer(with(ClientConfig(cfg.Brokers), ckafka.ConfigMap{
		// The client insists on a group.id, but a consumer that only Assigns never joins it;
		// a fresh one keeps even its name from meeting a real group.
		"group.id":           "tail-" + uuid.NewString(),
		"enable.auto.commit": false,
		"auto.offset.reset":  "latest",
		// A viewer that stops reading stops the polling, and librdkafka would go on
		// prefetching up to 64 MiB for it (queued.max.messages.kbytes' default).
		"queued.max.messages.kbytes": 1024,
	}))
	if err != nil {
		return fmt.Errorf("tail consumer: %w", err)
	}
	defer c.Close()
	var assign []ckafka.TopicPartition
	for _, topic := range cfg.Topics {
		md, err := c.GetMetadata(&topic, false, 5000)
		if err != nil {
			return fmt.Errorf("tail %s: metadata: %w", topic, err)
		}
		tm, ok := md.Topics[topic]
		if !ok || tm.Error.Code() != ckafka.ErrNoError {
			continue // not created (yet): nothing to show
		}
		for _, p := range tm.Partitions {
			low, high, err := c.QueryWatermarkOffsets(topic, p.ID, 5000)
			if err != nil {
				return fmt.Errorf("tail %s/%d: offsets: %w", topic, p.ID, err)
			}
			start := max(low, high-max(cfg.Back, 0))
			assign = append(assign, ckafka.TopicPartition{Topic: &tm.Topic, Partition: p.ID, Offset: ckafka.Offset(start)})
		}
	}
	if len(assign) == 0 {
		<-ctx.Done()
		return nil
	}
	if err := c.Assign(assign); err != nil {
		return fmt.Errorf("tail: assign: %w", err)
	}
	for ctx.Err() == nil {
		switch m := c.Poll(100).(type) {
		case *ckafka.Message:
			r := TailRecord{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset),
				Key: string(m.Key), Value: m.Value, Time: m.Timestamp.UTC(), Headers: make(map[string]string, len(m.Headers))}
			for _, h := range m.Headers {
				r.Headers[h.Key] = string(h.Value)
			}
			if err := fn(r); err != nil {
				return err
			}
		case ckafka.Error:
			// Others (a broker briefly away) the client recovers from by itself.
			if m.IsFatal() {
				return fmt.Errorf("tail: %w", m)
			}
		}
	}
	return nil
}
