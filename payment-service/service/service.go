// Package service wires payment-service together and runs it.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/edmshop/edm-shop/payment-service/adapters"
	"github.com/edmshop/edm-shop/payment-service/app"
	"github.com/edmshop/edm-shop/payment-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/lifecycle"
)

// Defaults of the settings.
const (
	DefaultHTTPAddr   = ":8083"
	DefaultGroupID    = "payment-service"
	DefaultGatewayURL = "http://127.0.0.1:8084"
)

// Config is what payment-service needs to run.
type Config struct {
	config.Service
	// GatewayURL is the payment gateway's base URL; DefaultGatewayURL when empty.
	GatewayURL string
}

// ConfigFromEnv reads HTTP_ADDR, KAFKA_BROKERS, KAFKA_TOPIC_* and PAYMENT_GATEWAY_URL.
func ConfigFromEnv() Config {
	return Config{
		Service:    config.ServiceFromEnv(DefaultGroupID, DefaultHTTPAddr),
		GatewayURL: config.String("PAYMENT_GATEWAY_URL", DefaultGatewayURL),
	}
}

// Run ensures the topics, then consumes the payment topic and serves HTTP until ctx is cancelled
// (it returns nil after a clean stop) or one of them fails.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if cfg.GroupID == "" {
		cfg.GroupID = DefaultGroupID
	}
	if cfg.GatewayURL == "" {
		cfg.GatewayURL = DefaultGatewayURL
	}
	ensureCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := kafka.EnsureTopics(ensureCtx, cfg.Brokers, kafka.DefaultPartitions, cfg.Topics.Payment, cfg.Topics.Order, cfg.Topics.Inventory)
	cancel()
	if err != nil {
		return err
	}
	producer, err := kafka.NewProducer(cfg.Brokers, log)
	if err != nil {
		return err
	}
	defer producer.Close()

	gateway := adapters.NewGatewayClient(cfg.GatewayURL, adapters.DefaultBackoff)
	a := app.New(gateway, producer, cfg.Topics, log)
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: cfg.Brokers, GroupID: cfg.GroupID, Topic: cfg.Topics.Payment},
		ports.EventHandlers(a), producer, log)
	handler := ports.NewHTTPHandler(map[string]httpx.Check{"kafka": producer.Ping, "gateway": gateway.Ping})

	log.Info("payment-service running", "http", cfg.HTTPAddr, "topic", cfg.Topics.Payment, "gateway", cfg.GatewayURL)
	return lifecycle.Run(ctx, map[string]lifecycle.Part{
		"kafka consumer": consumer.Run,
		"http server":    func(ctx context.Context) error { return httpx.Serve(ctx, cfg.HTTPAddr, handler) },
	})
}
