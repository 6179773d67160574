package kafka

import (
	"context"
	"fmt"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// EnsureTopics creates each topic and its dead-letter twin with the given number of partitions,
// leaving topics that already exist alone. librdkafka does not auto-create topics for consumers,
// so a service ensures its topics before it subscribes.
//
// On a broker with ACLs the services hold no Create permission (the admin principal creates the
// topics: scripts/infra.sh, compose's kafka-init). A topic the client may not create is then
// fine when it exists, or when the client may not even describe it: a topic this principal
// cannot see is not one it reads or writes, and the one it does use fails loudly on first use.
func EnsureTopics(ctx context.Context, brokers string, partitions int, topics ...string) error {
	admin, err := ckafka.NewAdminClient(ClientConfig(brokers))
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
		switch r.Error.Code() {
		case ckafka.ErrNoError, ckafka.ErrTopicAlreadyExists:
		case ckafka.ErrTopicAuthorizationFailed, ckafka.ErrClusterAuthorizationFailed:
			if err := existsOrHidden(ctx, admin, r.Topic); err != nil {
				return fmt.Errorf("create topic %s: %w (and %w)", r.Topic, r.Error, err)
			}
		default:
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Error)
		}
	}
	return nil
}

// existsOrHidden returns nil when topic exists or the client is not allowed to describe it.
func existsOrHidden(ctx context.Context, admin *ckafka.AdminClient, topic string) error {
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	md, err := admin.GetMetadata(&topic, false, int(timeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", topic, err)
	}
	tm, ok := md.Topics[topic]
	if !ok {
		return fmt.Errorf("topic %s does not exist", topic)
	}
	switch tm.Error.Code() {
	case ckafka.ErrNoError, ckafka.ErrTopicAuthorizationFailed:
		return nil
	}
	return fmt.Errorf("topic %s: %w", topic, tm.Error)
}
