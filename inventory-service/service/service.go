// Package service wires inventory-service together: topics, producer, outbox relay, consumer
// and HTTP server. The sandbox runs it in-process with a SQLite repository; cmd/inventory-service
// runs it with MySQL.
package service

import (
	"context"
	"log/slog"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/lifecycle"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// Config is what Run needs besides the repository.
type Config = config.Service

// ConfigFromEnv reads HTTP_ADDR (default :8082), KAFKA_BROKERS and KAFKA_TOPIC_*; the consumer
// group is "inventory-service".
func ConfigFromEnv() Config { return config.ServiceFromEnv("inventory-service", ":8082") }

// Run ensures the topics, then runs the outbox relay, the inventory-topic consumer and the HTTP
// server until ctx is cancelled (it returns nil) or one of them fails (it stops the others and
// returns that error). It does not close repo.
func Run(ctx context.Context, cfg Config, repo app.Repository, log *slog.Logger) error {
	if err := kafka.EnsureTopics(ctx, cfg.Brokers, kafka.DefaultPartitions, cfg.Topics.Inventory, cfg.Topics.Payment, cfg.Topics.Order); err != nil {
		return err
	}
	producer, err := kafka.NewProducer(cfg.Brokers, log)
	if err != nil {
		return err
	}
	defer producer.Close()

	relay := outbox.NewRelay(repo, producer, log)
	application := app.New(repo, cfg.Topics, relay.Notify)
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: cfg.Brokers, GroupID: cfg.GroupID, Topic: cfg.Topics.Inventory},
		ports.EventHandlers(application), producer, log)
	engine := httpx.NewEngine(map[string]httpx.Check{"kafka": producer.Ping, "store": repo.Ping})
	ports.RegisterHTTP(engine, application)

	log.Info("inventory-service running", "http", cfg.HTTPAddr, "topic", cfg.Topics.Inventory, "group", cfg.GroupID)
	return lifecycle.Run(ctx, map[string]lifecycle.Part{
		"outbox relay":   relay.Run,
		"kafka consumer": consumer.Run,
		"http server":    func(ctx context.Context) error { return httpx.Serve(ctx, cfg.HTTPAddr, engine) },
	})
}
