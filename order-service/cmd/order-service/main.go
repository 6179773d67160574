// Command order-service runs order-service against DynamoDB; see service.ConfigFromEnv and
// adapters.DynamoDBConfigFromEnv for its environment.
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
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "order-service")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	repo, err := adapters.NewDynamoDBRepository(ctx, adapters.DynamoDBConfigFromEnv())
	if err != nil {
		log.Error("connect to dynamodb", "error", err)
		os.Exit(1)
	}
	if err := service.Run(ctx, service.ConfigFromEnv(), repo, log); err != nil {
		log.Error("order-service stopped", "error", err)
		os.Exit(1)
	}
}
