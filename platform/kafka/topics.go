package kafka

import (
	"context"
	"fmt"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// EnsureTopics creates each topic and its dead-letter twin with the given number of partitions,
// leaving topics that already exist alone. librdkafka does not auto-create topics for consumers,
// so a service ensures its topics before it subscribes.
func EnsureTopics(ctx context.Context, brokers string, partitions int, topics ...string) error {
	admin, err := ckafka.NewAdminClient(&ckafka.ConfigMap{"bootstrap.servers": brokers, "log_level": 3})
	if err != nil {
		return fmt.Errorf("create kafka admin client: %w", err)
	}
	defer admin.Close()
	var specs []ckafka.TopicSpecification
	for _, t := range topics {
		for _, name := range []string{t, DeadLetterTopic(t)} {
			// -1: the broker's default.replication.factor, so a real cluster replicates.
			specs = append(specs, ckafka.TopicSpecification{Topic: name, NumPartitions: partitions, ReplicationFactor: -1})
		}
	}
	results, err := admin.CreateTopics(ctx, specs)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, r := range results {
		if c := r.Error.Code(); c != ckafka.ErrNoError && c != ckafka.ErrTopicAlreadyExists {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Error)
		}
	}
	return nil
}
