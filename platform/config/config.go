// Package config reads a service's settings from environment variables, with the defaults that
// make the services work together on one machine.
package config

import (
	"fmt"
	"net"
	"os"
	"time"
)

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

// DefaultDedupRetention is how long a service remembers what it has seen, unless
// DEDUP_RETENTION says otherwise: twice Kafka's default topic retention (7 days), so an event
// is forgotten only once no broker can deliver it again.
const DefaultDedupRetention = 14 * 24 * time.Hour

// Service is what every service needs to reach Kafka and serve HTTP.
type Service struct {
	HTTPAddr string
	// Listener, when set, is the HTTP server's socket, already bound; HTTPAddr then only
	// names it in logs. The sandbox binds its ports itself: a port found free and released
	// for the server to bind can be taken in between, and was (by an outgoing connection's
	// ephemeral port, in CI).
	Listener net.Listener
	Brokers  string
	Topics   Topics
	// GroupID is the Kafka consumer group: the service's name.
	GroupID string
	// DedupRetention is how long processed-event records (inventory-service) and idempotency
	// keys (order-service) are kept; DefaultDedupRetention when zero. It must exceed the
	// topics' retention, or a redelivered event would be applied again.
	DedupRetention time.Duration
}

// ServiceFromEnv reads HTTP_ADDR (defaultAddr when unset), KAFKA_BROKERS, the KAFKA_TOPIC_*
// names and DEDUP_RETENTION (a Go duration such as 336h); the consumer group is name. It
// panics on a DEDUP_RETENTION that is not a positive duration, so a typo stops the service at
// start instead of forgetting events early.
func ServiceFromEnv(name, defaultAddr string) Service {
	return Service{
		HTTPAddr:       String("HTTP_ADDR", defaultAddr),
		Brokers:        Brokers(),
		Topics:         TopicsFromEnv(),
		GroupID:        name,
		DedupRetention: DedupRetention(),
	}
}

// DedupRetention reads DEDUP_RETENTION (DefaultDedupRetention when unset); see Service.
func DedupRetention() time.Duration { return mustDuration("DEDUP_RETENTION", DefaultDedupRetention) }

// Retention returns DedupRetention, or DefaultDedupRetention when it is zero.
func (s Service) Retention() time.Duration {
	if s.DedupRetention <= 0 {
		return DefaultDedupRetention
	}
	return s.DedupRetention
}

func mustDuration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		panic(fmt.Sprintf("%s=%q: want a positive duration such as 336h", name, v))
	}
	return d
}

// Listen returns s.Listener when set, otherwise a listener bound to s.HTTPAddr.
func (s Service) Listen() (net.Listener, error) {
	if s.Listener != nil {
		return s.Listener, nil
	}
	return net.Listen("tcp", s.HTTPAddr)
}
