// Package config reads a service's settings from environment variables, with the defaults that
// make the services work together on one machine.
package config

import "os"

// String returns the environment variable name, or def when it is unset or empty.
func String(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Topics names the saga's topics; each service consumes one and publishes to the others.
type Topics struct {
	Inventory string
	Payment   string
	Order     string
	// OrderStatus carries ORDER_COMPLETED and ORDER_CANCELLED for subscribers outside the saga
	// (notification-service); no saga service consumes it.
	OrderStatus string
}

// DefaultTopics are the topic names of the contract.
var DefaultTopics = Topics{Inventory: "inventory", Payment: "payment", Order: "order", OrderStatus: "order-status"}

// TopicsFromEnv reads KAFKA_TOPIC_INVENTORY, KAFKA_TOPIC_PAYMENT, KAFKA_TOPIC_ORDER and
// KAFKA_TOPIC_ORDER_STATUS.
func TopicsFromEnv() Topics {
	return Topics{
		Inventory:   String("KAFKA_TOPIC_INVENTORY", DefaultTopics.Inventory),
		Payment:     String("KAFKA_TOPIC_PAYMENT", DefaultTopics.Payment),
		Order:       String("KAFKA_TOPIC_ORDER", DefaultTopics.Order),
		OrderStatus: String("KAFKA_TOPIC_ORDER_STATUS", DefaultTopics.OrderStatus),
	}
}

// All lists the topics.
func (t Topics) All() []string { return []string{t.Inventory, t.Payment, t.Order, t.OrderStatus} }

// Brokers reads KAFKA_BROKERS, a comma-separated host:port list.
func Brokers() string { return String("KAFKA_BROKERS", "127.0.0.1:9092") }

// Service is what every service needs to reach Kafka and serve HTTP.
type Service struct {
	HTTPAddr string
	Brokers  string
	Topics   Topics
	// GroupID is the Kafka consumer group: the service's name.
	GroupID string
}

// ServiceFromEnv reads HTTP_ADDR (defaultAddr when unset), KAFKA_BROKERS and the KAFKA_TOPIC_*
// names; the consumer group is name.
func ServiceFromEnv(name, defaultAddr string) Service {
	return Service{
		HTTPAddr: String("HTTP_ADDR", defaultAddr),
		Brokers:  Brokers(),
		Topics:   TopicsFromEnv(),
		GroupID:  name,
	}
}
