package service

import (
	"context"

	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// viewedTopics are the topics the storefront's topic viewer shows: the saga's, order-status and
// their dead-letter twins (a twin that does not exist is left out by kafka.Tail).
func viewedTopics(t config.Topics) []string {
	var out []string
	for _, topic := range t.All() {
		out = append(out, topic, kafka.DeadLetterTopic(topic))
	}
	return out
}

// tailTopics reads topics with kafka.Tail: one client per viewer, in no consumer group.
func tailTopics(brokers string, topics []string) ports.TailFunc {
	return func(ctx context.Context, back int64, fn func(kafka.TailRecord) error) error {
		return kafka.Tail(ctx, kafka.TailConfig{Brokers: brokers, Topics: topics, Back: back}, fn)
	}
}
