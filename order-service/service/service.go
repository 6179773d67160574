// Package service wires order-service together: topics, Kafka producer, outbox relay, consumer
// and HTTP server. cmd/order-service runs it with DynamoDB; the sandbox runs it in-process
// with SQLite.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/lifecycle"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// Config is what Run needs besides its store.
type Config struct {
	config.Service
	// InventoryURL is inventory-service as a shopper's browser reaches it, for the storefront.
	InventoryURL string
}

// ConfigFromEnv reads HTTP_ADDR (default :8081), KAFKA_BROKERS, the KAFKA_TOPIC_* names and
// STOREFRONT_INVENTORY_URL (default http://localhost:8082); the consumer group is "order-service".
func ConfigFromEnv() Config {
	return Config{
		Service:      config.ServiceFromEnv("order-service", ":8081"),
		InventoryURL: config.String("STOREFRONT_INVENTORY_URL", "http://localhost:8082"),
	}
}

// Run runs order-service over repo until ctx is cancelled (then it returns nil once everything
// has stopped) or a part of it fails (then it stops the rest and returns the error).
func Run(ctx context.Context, cfg Config, repo app.Repository, log *slog.Logger) error {
	ensureCtx, cancelEnsure := context.WithTimeout(ctx, 30*time.Second)
	err := kafka.EnsureTopics(ensureCtx, cfg.Brokers, kafka.DefaultPartitions, cfg.Topics.Order, cfg.Topics.Inventory)
	cancelEnsure()
	if err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	producer, err := kafka.NewProducer(cfg.Brokers, log)
	if err != nil {
		return err
	}
	defer producer.Close()

	relay := outbox.NewRelay(repo, producer, log)
	orders := app.New(repo, cfg.Topics.Inventory, relay.Notify)
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: cfg.Brokers, GroupID: cfg.GroupID, Topic: cfg.Topics.Order},
		ports.EventHandlers(orders), producer, log)
	engine := httpx.NewEngine(map[string]httpx.Check{"kafka": producer.Ping, "store": repo.Ping})
	ports.RegisterHTTP(engine, orders, log)
	ports.RegisterStorefront(engine, cfg.InventoryURL)

	log.Info("order-service running", "http", cfg.HTTPAddr, "consumes", cfg.Topics.Order, "publishes", cfg.Topics.Inventory)
	return lifecycle.Run(ctx, map[string]lifecycle.Part{
		"outbox relay":   relay.Run,
		"kafka consumer": consumer.Run,
		"http server":    func(ctx context.Context) error { return httpx.Serve(ctx, cfg.HTTPAddr, engine) },
	})
}
