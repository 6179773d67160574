// Command order-service runs order-service against DynamoDB; see service.ConfigFromEnv,
// adapters.DynamoDBConfigFromEnv and telemetry.New (OTEL_*) for its environment.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/service"
)

func main() {
	base := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	log := base.With("service", service.Name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	repo, err := adapters.NewDynamoDBRepository(ctx, adapters.DynamoDBConfigFromEnv())
	if err != nil {
		log.Error("connect to dynamodb", "error", err)
		os.Exit(1)
	}
	if err := service.Run(ctx, service.ConfigFromEnv(), repo, base); err != nil {
		log.Error("order-service stopped", "error", err)
		os.Exit(1)
	}
}
